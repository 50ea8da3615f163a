import test from "ava";
import { call, ENCODINGS, registerAndClaim, registerParams, startTestCloud, userToken, type Encoding } from "./helpers/cloud.js";

// Every endpoint the way each kind of client sent it (reference 1.0): GET with a query,
// POST urlencoded, POST multipart; every Authorization form; the refusals.

const PDF = Buffer.from("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n");

for (const encoding of ENCODINGS) {
  test(`every device and user endpoint answers by ${encoding}`, async (t) => {
    const cloud = await startTestCloud();
    const { service } = cloud;
    t.teardown(() => service.close());
    const reg = await call(service, "register", registerParams(`Printer by ${encoding}`), { encoding });
    t.true(reg.json.success, reg.text);
    const user = await userToken(service, "eve@example.com");
    t.true((await call(service, "confirm", { token: reg.json.registration_token }, { encoding, token: user })).json.success);
    const poll = await call(service, "getauthcode", { printerid: reg.json.printers[0].id, oauth_client_id: "c" }, { encoding });
    t.true(poll.json.success, poll.text);
    const tokens = await call(service, service.tokenUrl, { grant_type: "authorization_code", code: poll.json.authorization_code, client_id: "c" }, { encoding, proxyHeader: null });
    t.is(tokens.status, 200, tokens.text);
    const robot = tokens.json.access_token;
    const id = reg.json.printers[0].id;

    const printer = await call(service, "printer", { printerid: id, use_cdd: "true", extra_fields: "connectionStatus" }, { encoding, token: robot });
    t.true(printer.json.success, printer.text);
    t.is(printer.json.request.params.printerid[0], id, "the request is echoed as the real service did");
    t.true((await call(service, "update", { printerid: id, tag: "__cp__color=true" }, { encoding, token: robot })).json.success);
    t.is((await call(service, "list", { proxy: "cloud-test-proxy" }, { encoding, token: user })).json.printers.length, 1);
    t.is((await call(service, "search", { q: "printer" }, { encoding, token: user })).json.printers.length, 1);
    const proximity = await call(service, "proximitytoken", { printerid: id, user: "eve@example.com" }, { encoding, token: robot });
    t.true(proximity.json.success, proximity.text);
    t.deepEqual(Object.keys(proximity.json.proximity_token).sort(), ["expires_in", "token", "user"]);

    // submit carries a file; by GET or urlencoded the content is a data: URL, as the samples do for PDF.
    const submitParams = { printerid: id, title: `job by ${encoding}`, ticket: JSON.stringify({ version: "1.0", print: { copies: { copies: 2 } } }), tag: "t1" };
    const submitted = encoding === "multipart"
      ? await call(service, "submit", { ...submitParams, contentType: "application/pdf" }, { encoding, token: user, files: [{ name: "content", filename: "doc.pdf", contentType: "application/pdf", data: PDF }] })
      : await call(service, "submit", { ...submitParams, contentType: "dataUrl", content: `data:application/pdf;base64,${PDF.toString("base64")}` }, { encoding, token: user });
    t.true(submitted.json.success, submitted.text);
    t.is(submitted.json.message, "Print job added.");
    const jobId = submitted.json.job.id;
    t.is(submitted.json.job.contentType, "application/pdf");

    const jobs = await call(service, "jobs", { printerid: id, q: encoding }, { encoding, token: user });
    t.is(jobs.json.jobs.length, 1);
    t.is(jobs.json.jobsCount, 1);
    const fetched = await call(service, "fetch", { printerid: id }, { encoding, token: robot });
    t.true(fetched.json.success, fetched.text);
    const job = fetched.json.jobs[0];
    t.is(job.id, jobId);
    t.is(typeof job.createTime, "string");
    t.is(job.semanticState.delivery_attempts, 1);
    t.is(job.fileUrl, `${service.baseUrl}/download?id=${jobId}`);

    const ticket = await call(service, "ticket", { jobid: jobId, use_cjt: "true" }, { encoding, token: robot });
    t.deepEqual(ticket.json, { version: "1.0", print: { copies: { copies: 2 } } }, "the ticket is the CJT itself, no envelope");

    const file = await fetch(job.fileUrl, { headers: { Authorization: `Bearer ${robot}`, "X-CloudPrint-Proxy": "t", Accept: "application/pdf" } });
    t.is(file.status, 200);
    t.is(file.headers.get("content-type"), "application/pdf");
    t.deepEqual(Buffer.from(await file.arrayBuffer()), PDF);

    const inProgress = await call(service, "control", { jobid: jobId, semantic_state_diff: JSON.stringify({ state: { type: "IN_PROGRESS" } }) }, { encoding, token: robot });
    t.is(inProgress.json.job.semanticState.state.type, "IN_PROGRESS");
    const done = await call(service, "control", { jobid: jobId, semantic_state_diff: JSON.stringify({ state: { type: "DONE" }, pages_printed: 1 }) }, { encoding, token: robot });
    t.is(done.json.job.status, "DONE");
    t.is(done.json.job.semanticState.pages_printed, 1);
    t.false((await call(service, "control", { jobid: jobId, status: "IN_PROGRESS" }, { encoding, token: robot })).json.success, "a finished job stays finished");
    t.true((await call(service, "deletejob", { jobid: jobId }, { encoding, token: user })).json.success);
    t.is((await call(service, "jobs", {}, { encoding, token: user })).json.jobs.length, 0);

    t.true((await call(service, "delete", { printerid: id }, { encoding, token: user })).json.success);
    t.is((await call(service, "search", {}, { encoding, token: user })).json.printers.length, 0);
    t.deepEqual(cloud.pushes.map((p) => p.payload), [id, `${id}/delete`]);
  });
}

const FORMS: Array<[string, (t: string) => string]> = [
  ["Bearer t", (t) => `Bearer ${t}`],
  ["Bearer \"t\" (gcp20)", (t) => `Bearer "${t}"`],
  ["OAuth t (Chrome, bnet)", (t) => `OAuth ${t}`],
  ["GoogleLogin auth=t (the Python samples)", (t) => `GoogleLogin auth=${t}`],
];

test("all four Authorization forms are accepted, and bad ones are 403 in Google's shape", async (t) => {
  const { service } = await startTestCloud();
  t.teardown(() => service.close());
  const token = await userToken(service, "frank@example.com");
  for (const [name, form] of FORMS) {
    const answer = await call(service, "search", {}, { authorization: form(token) });
    t.is(answer.status, 200, name);
    t.true(answer.json.success, name);
    t.is(answer.json.request.user, "frank@example.com", name);
  }
  const refusals: Array<[string, string | undefined]> = [
    ["missing", undefined],
    ["unknown token", "Bearer ya29.nothing-like-it"],
    ["unknown scheme", `Basic ${token}`],
    ["GoogleLogin without auth=", `GoogleLogin ${token}`],
    ["empty bearer", "Bearer "],
  ];
  for (const [name, header] of refusals) {
    const answer = await call(service, "search", {}, { authorization: header });
    t.is(answer.status, 403, name);
    t.false(answer.json.success, name);
    t.is(typeof answer.json.message, "string", name);
    t.is(answer.json.errorCode, 403, name);
  }
  // Every endpoint that needs credentials refuses without them, by 403.
  for (const iface of ["confirm", "printer", "update", "list", "search", "delete", "proximitytoken", "jobs", "submit", "fetch", "control", "ticket", "deletejob", "download"]) {
    t.is((await call(service, iface, { printerid: "x", jobid: "x" })).status, 403, iface);
  }
});

test("X-CloudPrint-Proxy is required unless switched off, and the 2011 /interface/ path works", async (t) => {
  const strict = await startTestCloud();
  t.teardown(() => strict.service.close());
  const missing = await call(strict.service, "register", registerParams("P"), { proxyHeader: null });
  t.is(missing.status, 400);
  t.regex(missing.json.message, /X-CloudPrint-Proxy/);
  // Its value is free text, even two quote characters (gcp20).
  t.true((await call(strict.service, "register", registerParams("P"), { proxyHeader: "\"\"" })).json.success);
  const legacy = await call(strict.service, `${strict.service.baseUrl}/interface/register`, registerParams("Q"), { encoding: "multipart" });
  t.true(legacy.json.success);
  t.is((await call(strict.service, "nosuchthing", {})).status, 404);

  const lax = await startTestCloud({ requireProxyHeader: false });
  t.teardown(() => lax.service.close());
  t.true((await call(lax.service, "register", registerParams("P"), { proxyHeader: null })).json.success);
});

test("local settings: the owner writes pending, the device applies it and confirms current", async (t) => {
  const cloud = await startTestCloud();
  const { service } = cloud;
  t.teardown(() => service.close());
  const reg = await registerAndClaim(cloud);
  const id = reg.printerId;
  // The owner asks for a change the way [L] did.
  const asked = await call(service, "update", { printerid: id, local_settings: JSON.stringify({ pending: { xmpp_timeout_value: 500, "printer/local_printing_enabled": false } }) }, { token: reg.user });
  t.true(asked.json.success, asked.text);
  t.deepEqual(cloud.pushes.at(-1), { printerId: id, payload: `${id}/update_settings` });
  // The owner may not write current.
  t.false((await call(service, "update", { printerid: id, local_settings: JSON.stringify({ current: { local_discovery: false } }) }, { token: reg.user })).json.success);

  // The device reads /printer (as at startup or on the push) and sees pending, as a full set.
  const seen = (await call(service, "printer", { printerid: id }, { encoding: "get", token: reg.access })).json.printers[0].local_settings;
  t.is(seen.current.xmpp_timeout_value, 300);
  t.is(seen.pending.xmpp_timeout_value, 500);
  t.is(seen.pending["printer/local_printing_enabled"], false);
  t.is(seen.pending.local_discovery, true);
  // The device never sends pending (Privet 4.1.3.1).
  t.false((await call(service, "update", { printerid: id, local_settings: JSON.stringify({ pending: { local_discovery: false } }) }, { token: reg.access })).json.success);
  // It confirms with current; pending is gone once current holds it.
  const confirmed = await call(service, "update", { printerid: id, local_settings: JSON.stringify({ current: seen.pending }) }, { encoding: "multipart", token: reg.access });
  t.true(confirmed.json.success, confirmed.text);
  t.deepEqual(confirmed.json.printer.local_settings, { current: seen.pending });
  // Chrome's connector clears with an empty pending next to its current.
  await call(service, "update", { printerid: id, local_settings: JSON.stringify({ pending: { xmpp_timeout_value: 600 } }) }, { token: reg.user });
  const cleared = await call(service, "update", { printerid: id, local_settings: JSON.stringify({ current: { ...seen.pending, xmpp_timeout_value: 400 }, pending: {} }) }, { token: reg.access });
  t.deepEqual(cleared.json.printer.local_settings, { current: { ...seen.pending, xmpp_timeout_value: 400 } });
  // Wrong types are refused.
  t.false((await call(service, "update", { printerid: id, local_settings: JSON.stringify({ current: { local_discovery: "yes" } }) }, { token: reg.access })).json.success);
  t.false((await call(service, "update", { printerid: id, local_settings: "{not json" }, { token: reg.access })).json.success);
});

for (const shape of ["success-false", "empty-printers"] as const) {
  test(`a deleted printer learns it from /printer (${shape}), and its credentials stop refreshing`, async (t) => {
    const cloud = await startTestCloud({ deletionShape: shape });
    const { service } = cloud;
    t.teardown(() => service.close());
    const reg = await registerAndClaim(cloud);
    t.true((await call(service, "delete", { printerid: reg.printerId }, { token: reg.user })).json.success);
    const answer = await call(service, "printer", { printerid: reg.printerId }, { encoding: "get", token: reg.access });
    t.is(answer.status, 200);
    if (shape === "success-false") {
      t.false(answer.json.success);
      t.is(answer.json.printers, undefined);
    } else {
      t.true(answer.json.success);
      t.deepEqual(answer.json.printers, []);
    }
    const refresh = await call(service, service.tokenUrl, { grant_type: "refresh_token", refresh_token: reg.refresh, client_id: "test-client" }, { proxyHeader: null });
    t.is(refresh.json.error, "invalid_grant");
  });
}

test("other users' printers and jobs are out of reach", async (t) => {
  const cloud = await startTestCloud();
  const { service } = cloud;
  t.teardown(() => service.close());
  const alice = await registerAndClaim(cloud, "Alice's", "alice@example.com");
  const bobReg = await registerAndClaim(cloud, "Bob's", "bob@example.com");
  for (const [iface, params] of [["printer", { printerid: alice.printerId }], ["update", { printerid: alice.printerId, name: "mine" }], ["delete", { printerid: alice.printerId }]] as const) {
    const answer = await call(service, iface, params, { token: bobReg.user });
    t.false(answer.json.success, iface);
  }
  // A printer's robot sees only itself.
  t.false((await call(service, "printer", { printerid: alice.printerId }, { token: bobReg.access })).json.success);
  t.false((await call(service, "proximitytoken", { printerid: alice.printerId, user: "bob@example.com" }, { token: alice.access })).json.success);
  const job = (await call(service, "submit", { printerid: alice.printerId, title: "private", contentType: "text/plain", content: "hello" }, { encoding: "multipart", token: alice.user })).json.job;
  t.false((await call(service, "ticket", { jobid: job.id }, { token: bobReg.access })).json.success);
  t.false((await call(service, "deletejob", { jobid: job.id }, { token: bobReg.user })).json.success);
  t.is((await call(service, "jobs", {}, { token: bobReg.user })).json.jobs.length, 0);
});

test("fetch with nothing queued answers errorCode 413; a reported local job arrives finished", async (t) => {
  const cloud = await startTestCloud();
  const { service } = cloud;
  t.teardown(() => service.close());
  const reg = await registerAndClaim(cloud);
  const empty = await call(service, "fetch", { printerid: reg.printerId }, { encoding: "get", token: reg.access });
  t.false(empty.json.success);
  t.is(empty.json.errorCode, 413);
  t.is(empty.json.message, "No print job available on specified printer.");

  // Privet 5.2's note: the printer reports a job it printed locally, with no content.
  const local = await call(service, "submit", {
    printerid: reg.printerId, title: "Local job", contentType: "image/pwg-raster",
    final_semantic_state: JSON.stringify({ version: "1.0", state: { type: "DONE" }, pages_printed: 3 }),
  }, { encoding: "multipart", token: reg.access });
  t.true(local.json.success, local.text);
  t.is(local.json.job.semanticState.state.type, "DONE");
  t.is((await call(service, "jobs", { printerid: reg.printerId, q: "Local job" }, { token: reg.user })).json.jobsCount, 1);
  t.false((await call(service, "fetch", { printerid: reg.printerId }, { token: reg.access })).json.success, "a finished job is not fetched");
  const notFinal = await call(service, "submit", { printerid: reg.printerId, title: "x", contentType: "image/pwg-raster", final_semantic_state: JSON.stringify({ state: { type: "IN_PROGRESS" } }) }, { encoding: "multipart", token: reg.access });
  t.false(notFinal.json.success);
  const noCause = await call(service, "submit", { printerid: reg.printerId, title: "x", contentType: "image/pwg-raster", final_semantic_state: JSON.stringify({ state: { type: "ABORTED" } }) }, { encoding: "multipart", token: reg.access });
  t.false(noCause.json.success);
});

test("download answers 415 when the printer accepts none of the stored type, and legacy status maps onto the semantic state", async (t) => {
  const cloud = await startTestCloud();
  const { service } = cloud;
  t.teardown(() => service.close());
  const reg = await registerAndClaim(cloud);
  const job = (await call(service, "submit", { printerid: reg.printerId, title: "pdf", contentType: "application/pdf" }, { encoding: "multipart", token: reg.user, files: [{ name: "content", filename: "a.pdf", contentType: "application/pdf", data: PDF }] })).json.job;
  const pwgOnly = await fetch(job.fileUrl, { headers: { Authorization: `Bearer ${reg.access}`, "X-CloudPrint-Proxy": "t", Accept: "image/pwg-raster" } });
  t.is(pwgOnly.status, 415);
  const forced = await fetch(job.rasterUrl, { headers: { Authorization: `Bearer ${reg.access}`, "X-CloudPrint-Proxy": "t" } });
  t.is(forced.status, 415);
  const error = await call(service, "control", { jobid: job.id, status: "ERROR", code: "42", message: "jammed" }, { encoding: "get", token: reg.access });
  t.is(error.json.job.semanticState.state.type, "ABORTED");
  t.is(error.json.job.status, "ERROR");
  t.is(error.json.job.message, "jammed");
});

test("missing parameters are refusals with a reason, not crashes", async (t) => {
  const cloud = await startTestCloud();
  const { service } = cloud;
  t.teardown(() => service.close());
  const reg = await registerAndClaim(cloud);
  const cases: Array<[string, Record<string, string>, Encoding]> = [
    ["register", { proxy: "p" }, "form"],
    ["register", { name: "n" }, "multipart"],
    ["printer", {}, "get"],
    ["update", {}, "form"],
    ["list", {}, "get"],
    ["delete", {}, "get"],
    ["proximitytoken", { printerid: reg.printerId }, "form"],
    ["submit", { printerid: reg.printerId, title: "no content", contentType: "application/pdf" }, "multipart"],
    ["submit", { printerid: reg.printerId, title: "url", contentType: "url", content: "http://example.com/x.pdf" }, "form"],
    ["submit", { printerid: reg.printerId, title: "bad data url", contentType: "dataUrl", content: "data:;base64" }, "form"],
    ["control", { jobid: "nope", status: "DONE" }, "get"],
    ["ticket", {}, "get"],
    ["deletejob", { jobid: "nope" }, "get"],
    ["update", { printerid: reg.printerId, remove_tag: "(a+)+" }, "form"],
  ];
  for (const [iface, params, encoding] of cases) {
    const answer = await call(service, iface, params, { encoding, token: iface === "register" ? undefined : reg.user });
    t.is(answer.status === 200 || answer.status === 400, true, `${iface} ${answer.status}`);
    t.false(answer.json.success, `${iface} ${JSON.stringify(params)}`);
    t.is(typeof answer.json.message, "string");
    t.is(typeof answer.json.errorCode, "number");
  }
});

test("a signed-in connector registers a printer that is the user's at once; a printer's robot may not register", async (t) => {
  const cloud = await startTestCloud();
  const { service } = cloud;
  t.teardown(() => service.close());
  const user = await userToken(service, "connector@example.com");
  const reg = await call(service, "register", registerParams("Connector printer"), { encoding: "multipart", token: user });
  t.true(reg.json.success, reg.text);
  t.is(reg.json.printers[0].ownerId, "connector@example.com");
  t.is(reg.json.registration_token, undefined, "no claim step for an authenticated registration");
  t.is((await call(service, "list", { proxy: "cloud-test-proxy" }, { token: user })).json.printers.length, 1);
  const robot = await registerAndClaim(cloud, "Robot's own");
  t.false((await call(service, "register", registerParams("By a robot"), { token: robot.access })).json.success);
  // A bad token on an endpoint where credentials are optional is still a 403, not an anonymous call.
  t.is((await call(service, "register", registerParams("Bad token"), { token: "ya29.unknown" })).status, 403);
});

test("the registration pages the printer may print or show: regtokenpage and regconfirmpage", async (t) => {
  const cloud = await startTestCloud();
  const { service } = cloud;
  t.teardown(() => service.close());
  const r = (await call(service, "register", registerParams("Paper <b>printer</b>"), { encoding: "form" })).json;
  const invite = await fetch(r.invite_page_url);
  t.is(invite.status, 200);
  const html = await invite.text();
  t.true(html.includes(r.complete_invite_url.replace(/&/g, "&#38;")) || html.includes(r.complete_invite_url));
  t.true(html.includes("Paper &#60;b&#62;printer&#60;/b&#62;"), "device-supplied names are escaped");
  t.is((await fetch(`${service.baseUrl}/regtokenpage?t=nope`)).status, 404);
  const reg = await registerAndClaim(cloud, "Confirmed");
  const confirmation = await fetch(reg.poll.confirmation_page_url);
  t.is(confirmation.status, 200);
  t.regex(await confirmation.text(), /Confirmed<\/b> is now registered to <b>owner@example\.com/);
  t.is(confirmation.headers.get("content-security-policy")?.includes("default-src 'none'"), true);
});
