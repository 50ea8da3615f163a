import test from "ava";
import { call, registerAndClaim, registerParams, startTestCloud } from "./helpers/cloud.js";

// The pages at the HTTP level, where a browser would hide the details: cookie flags,
// redirects that stay on this server, CSRF, escaping. (cloud-browser drives them in chromium.)

async function signIn(url: string, email: string, next?: string): Promise<{ status: number; location: string | null; cookie: string | null }> {
  const body = new URLSearchParams({ email, ...(next === undefined ? {} : { continue: next }) });
  const r = await fetch(`${url}/signin`, { method: "POST", body, redirect: "manual" });
  return { status: r.status, location: r.headers.get("location"), cookie: r.headers.get("set-cookie") };
}

test("sign-in sets an HttpOnly SameSite=Lax session cookie and only ever redirects to a path on this server", async (t) => {
  const { service } = await startTestCloud();
  t.teardown(() => service.close());
  const good = await signIn(service.url, "Lee@Example.com", "/cloudprint/claimprinter.html?token=abc");
  t.is(good.status, 303);
  t.is(good.location, "/cloudprint/claimprinter.html?token=abc");
  t.regex(good.cookie!, /^cloudprint_session=[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=86400$/);
  for (const evil of ["//evil.example/", "https://evil.example/", "/\t/evil.example/", "/\\evil.example", "/caf\u00e9", "relative", ""]) {
    const answer = await signIn(service.url, "lee@example.com", evil);
    t.is(answer.status, 303, JSON.stringify(evil));
    t.is(answer.location, "/cloudprint/printers", JSON.stringify(evil));
  }
  const bad = await signIn(service.url, "not-an-address");
  t.is(bad.status, 400);
  t.is(bad.cookie, null);
});

test("pages need a session, POSTs need the session's CSRF token, and device-supplied text is escaped", async (t) => {
  const { service } = await startTestCloud();
  t.teardown(() => service.close());
  const r = (await call(service, "register", { ...registerParams("<img src=x onerror=alert(1)>"), manufacturer: "\"quoted\" & co" }, { encoding: "multipart" })).json;

  const anonymous = await fetch(r.complete_invite_url, { redirect: "manual" });
  t.is(anonymous.status, 303);
  t.is(anonymous.headers.get("location"), `/signin?continue=${encodeURIComponent(new URL(r.complete_invite_url).pathname + new URL(r.complete_invite_url).search)}`);
  t.is((await fetch(`${service.baseUrl}/claimprinter.html`, { method: "POST", body: new URLSearchParams({ token: r.registration_token }) })).status, 403);

  const { cookie } = await signIn(service.url, "mo@example.com");
  const session = cookie!.split(";")[0];
  const page = await fetch(r.complete_invite_url, { headers: { Cookie: session } });
  t.is(page.status, 200);
  const html = await page.text();
  t.false(html.includes("<img src=x"), "no markup from the device reaches the page");
  t.true(html.includes("&#60;img src=x onerror=alert(1)&#62;"));
  t.true(html.includes("&#34;quoted&#34; &#38; co"));
  t.regex(page.headers.get("content-security-policy")!, /default-src 'none'/);

  // Without the CSRF token the claim is refused and the printer stays unclaimed.
  const forged = await fetch(`${service.baseUrl}/claimprinter.html`, { method: "POST", headers: { Cookie: session }, body: new URLSearchParams({ token: r.registration_token, csrf: "guess" }), redirect: "manual" });
  t.is(forged.status, 403);
  t.false((await call(service, `${r.polling_url}c`, {}, { encoding: "get" })).json.success);

  const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1];
  const claimed = await fetch(`${service.baseUrl}/claimprinter.html`, { method: "POST", headers: { Cookie: session }, body: new URLSearchParams({ token: r.registration_token, csrf }), redirect: "manual" });
  t.is(claimed.status, 303);
  t.is(claimed.headers.get("location"), `/cloudprint/printers?claimed=${r.printers[0].id}`);
  t.true((await call(service, `${r.polling_url}c`, {}, { encoding: "get" })).json.success);

  // Another signed-in user can neither see nor delete it.
  const other = (await signIn(service.url, "nosy@example.com")).cookie!.split(";")[0];
  const theirs = await (await fetch(`${service.url}/cloudprint/printers`, { headers: { Cookie: other } })).text();
  t.false(theirs.includes(r.printers[0].id));
  const otherCsrf = /name="csrf" value="([^"]+)"/.exec(theirs)![1];
  const del = await fetch(`${service.url}/cloudprint/printers/delete`, { method: "POST", headers: { Cookie: other }, body: new URLSearchParams({ printerid: r.printers[0].id, csrf: otherCsrf }), redirect: "manual" });
  t.is(del.status, 404);
});

test("the settings form refuses a bad number and only offers what the device supports", async (t) => {
  const cloud = await startTestCloud();
  const { service } = cloud;
  t.teardown(() => service.close());
  // A device that supports only local discovery and a ping interval (the rest missing = unsupported).
  const r = (await call(service, "register", { ...registerParams("Minimal"), local_settings: JSON.stringify({ current: { local_discovery: true, xmpp_timeout_value: 300 } }) }, { encoding: "form" })).json;
  const session = (await signIn(service.url, "nia@example.com")).cookie!.split(";")[0];
  const claimPage = await (await fetch(r.complete_invite_url, { headers: { Cookie: session } })).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(claimPage)![1];
  await fetch(`${service.baseUrl}/claimprinter.html`, { method: "POST", headers: { Cookie: session }, body: new URLSearchParams({ token: r.registration_token, csrf }), redirect: "manual" });
  const list = await (await fetch(`${service.url}/cloudprint/printers`, { headers: { Cookie: session } })).text();
  t.true(list.includes("name=\"s:xmpp_timeout_value\""));
  t.false(list.includes("access_token_enabled"), "an unsupported setting is not offered");
  const post = (fields: Record<string, string>) => fetch(`${service.url}/cloudprint/printers/settings`, { method: "POST", headers: { Cookie: session }, body: new URLSearchParams({ printerid: r.printers[0].id, csrf, ...fields }), redirect: "manual" });
  t.is((await post({ "s:local_discovery": "on", "s:xmpp_timeout_value": "-5" })).status, 400);
  t.is((await post({ "s:local_discovery": "on", "s:xmpp_timeout_value": "300" })).status, 303);
  t.is(cloud.pushes.length, 0, "asking for the current values is no change and no push");
  t.is((await post({ "s:xmpp_timeout_value": "300" })).status, 303);
  t.deepEqual(cloud.pushes.map((p) => p.payload), [`${r.printers[0].id}/update_settings`]);
  const stored = service.store.state.printers[r.printers[0].id].localSettings;
  t.deepEqual(stored.pending, { local_discovery: false, xmpp_timeout_value: 300 }, "an unchecked box asks for false");
});

test("My printers lists each printer's recent jobs with their state, and the owner can delete one", async (t) => {
  const cloud = await startTestCloud();
  const { service } = cloud;
  t.teardown(() => service.close());
  const r = await registerAndClaim(cloud, "Jobs printer", "jo@example.com");
  const pdf = Buffer.from("%PDF-1.4\n%%EOF\n");
  const ids: string[] = [];
  for (const title of ["first <b>job</b>", "second job", "third job"]) {
    const answer = await call(service, "submit", { printerid: r.printerId, title, contentType: "application/pdf" }, { encoding: "multipart", token: r.user, files: [{ name: "content", filename: "a.pdf", contentType: "application/pdf", data: pdf }] });
    ids.push(answer.json.job.id);
    cloud.clock.now += 1000;
  }
  await call(service, "control", { jobid: ids[0], semantic_state_diff: JSON.stringify({ state: { type: "DONE" }, pages_printed: 2 }) }, { token: r.access });
  await call(service, "control", { jobid: ids[1], semantic_state_diff: JSON.stringify({ state: { type: "ABORTED", device_action_cause: { error_code: "DOWNLOAD_FAILURE" } } }) }, { token: r.access });

  const { cookie } = await signIn(service.url, "jo@example.com");
  const session = cookie!.split(";")[0];
  const page = async () => (await fetch(`${service.baseUrl}/printers`, { headers: { Cookie: session } })).text();
  const html = await page();
  const rows = [...html.matchAll(/<tr class="job" data-job-id="([^"]+)"><td>([^<]*(?:<[^t][^<]*)*)<\/td><td class="job-state">([^<]+)<\/td><td>([^<]*)<\/td>/g)].map((m) => [m[1], m[3], m[4]]);
  t.deepEqual(rows, [[ids[2], "QUEUED", ""], [ids[1], "ABORTED (DOWNLOAD_FAILURE)", ""], [ids[0], "DONE", "2"]], "newest first, with state, cause and pages");
  t.true(html.includes("first &#60;b&#62;job&#60;/b&#62;"), "titles are escaped");

  const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1];
  const forged = await fetch(`${service.baseUrl}/printers/deletejob`, { method: "POST", headers: { Cookie: session }, body: new URLSearchParams({ jobid: ids[2], csrf: "x" }), redirect: "manual" });
  t.is(forged.status, 403);
  const deleted = await fetch(`${service.baseUrl}/printers/deletejob`, { method: "POST", headers: { Cookie: session }, body: new URLSearchParams({ jobid: ids[2], csrf }), redirect: "manual" });
  t.is(deleted.status, 303);
  t.false(Object.hasOwn(service.store.state.jobs, ids[2]));
  t.false((await page()).includes(ids[2]));

  // Someone else's session cannot delete this owner's jobs.
  const other = (await signIn(service.url, "eve@example.com")).cookie!.split(";")[0];
  const otherHtml = await (await fetch(`${service.baseUrl}/printers`, { headers: { Cookie: other } })).text();
  const otherCsrf = /name="csrf" value="([^"]+)"/.exec(otherHtml)![1];
  const refused = await fetch(`${service.baseUrl}/printers/deletejob`, { method: "POST", headers: { Cookie: other }, body: new URLSearchParams({ jobid: ids[0], csrf: otherCsrf }), redirect: "manual" });
  t.is(refused.status, 404);
  t.true(Object.hasOwn(service.store.state.jobs, ids[0]));
});
