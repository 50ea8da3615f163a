import test from "ava";
import { call, registerAndClaim, registerParams, startTestCloud, tokenRequest, userToken, type TestCloud } from "./helpers/cloud.js";
import { nextPush, xmppLogin } from "./helpers/xmpp.js";

// Robot accounts (createrobot), sharing, presence from the XMPP channel, the end of web
// sessions, fcm/subscribe and the legacy ticketUrl: over real sockets on 127.0.0.1.

const PDF = Buffer.from("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n");

async function cloudUp(t: { teardown(f: () => unknown): void }, config = {}): Promise<TestCloud> {
  const cloud = await startTestCloud(config);
  t.teardown(() => cloud.service.close());
  return cloud;
}

function submitPdf(cloud: TestCloud, printerid: string, token: string, extra: Record<string, string> = {}) {
  return call(cloud.service, "submit", { printerid, title: "doc", contentType: "application/pdf", ...extra }, { encoding: "multipart", token, files: [{ name: "content", filename: "a.pdf", contentType: "application/pdf", data: PDF }] });
}

async function robotAccount(cloud: TestCloud, email: string, clientId = "connector-client") {
  const user = await userToken(cloud.service, email);
  const created = await call(cloud.service, "createrobot", { oauth_client_id: clientId, proxy: "connector-proxy" }, { encoding: "get", token: user });
  const tokens = await tokenRequest(cloud.service, { grant_type: "authorization_code", code: created.json?.authorization_code ?? "", client_id: clientId, redirect_uri: "oob" });
  return { user, created, tokens };
}

test("createrobot: a user's token gets a robot JID and a code; the code gives the robot's tokens once, to its client", async (t) => {
  const cloud = await cloudUp(t);
  const user = await userToken(cloud.service, "conn@example.com");
  const created = await call(cloud.service, "createrobot", { oauth_client_id: "c1", proxy: "p" }, { encoding: "get", token: user });
  t.true(created.json.success, created.text);
  t.regex(created.json.xmpp_jid, /^[0-9a-f]{32}@cloudprint\.googleusercontent\.com$/);
  t.regex(created.json.authorization_code, /^4\//);
  const other = await tokenRequest(cloud.service, { grant_type: "authorization_code", code: created.json.authorization_code, client_id: "c2" });
  t.is(other.json.error, "invalid_grant", "issued to another client");
  const again = await call(cloud.service, "createrobot", { oauth_client_id: "c1", proxy: "p" }, { token: user });
  const tokens = await tokenRequest(cloud.service, { grant_type: "authorization_code", code: again.json.authorization_code, client_id: "c1", client_secret: "s", redirect_uri: "oob" });
  t.is(tokens.status, 200, tokens.text);
  t.truthy(tokens.json.refresh_token);
  const refreshed = await tokenRequest(cloud.service, { grant_type: "refresh_token", refresh_token: tokens.json.refresh_token, client_id: "c1" });
  t.truthy(refreshed.json.access_token);
  // The account is no user: it neither makes robots nor claims printers.
  t.is((await call(cloud.service, "createrobot", { oauth_client_id: "c1", proxy: "p" }, { token: tokens.json.access_token })).json.errorCode, 403);
  t.is((await call(cloud.service, "createrobot", { oauth_client_id: "c1" }, { token: user })).json.errorCode, 400, "proxy is required");
  t.is((await call(cloud.service, "createrobot", { oauth_client_id: "c1", proxy: "p" })).status, 403, "a user's token is required");
});

test("register with a robot account's token: owned at once by the account's owner, no claim; the account manages it", async (t) => {
  const cloud = await cloudUp(t);
  const { user, created, tokens } = await robotAccount(cloud, "conn@example.com");
  const robot = tokens.json.access_token;
  const registered = await call(cloud.service, "register", registerParams("Connector printer"), { encoding: "multipart", token: robot });
  t.true(registered.json.success, registered.text);
  t.is(registered.json.registration_token, undefined, "no claim needed");
  const printer = registered.json.printers[0];
  t.is(printer.ownerId, "conn@example.com");
  t.is(registered.json.request.user, created.json.xmpp_jid);
  // The owner sees it; the account lists, updates and fetches for it, as a connector does.
  t.is((await call(cloud.service, "printer", { printerid: printer.id }, { token: user })).json.printers[0].ownerId, "conn@example.com");
  t.deepEqual((await call(cloud.service, "list", { proxy: "cloud-test-proxy" }, { token: robot })).json.printers.map((p: { id: string }) => p.id), [printer.id]);
  t.true((await call(cloud.service, "update", { printerid: printer.id, firmware: "9" }, { token: robot })).json.success);
  t.true((await submitPdf(cloud, printer.id, user)).json.success);
  t.is((await call(cloud.service, "fetch", { printerid: printer.id }, { token: robot })).json.jobs.length, 1);
  // Its anonymous path never opens.
  t.false((await call(cloud.service, `getauthcode?printerid=${printer.id}&oauth_client_id=x`, {}, { encoding: "get" })).json.success);
  // Another user's printers are none of the account's business.
  const other = await registerAndClaim(cloud, "Other", "other@example.com");
  t.is((await call(cloud.service, "printer", { printerid: other.printerId }, { token: robot })).json.errorCode, 403);
});

test("register with a user's own token is the user's at once; a printer's own credentials are still refused", async (t) => {
  const cloud = await cloudUp(t);
  const user = await userToken(cloud.service, "me@example.com");
  const registered = await call(cloud.service, "register", registerParams("Mine"), { encoding: "multipart", token: user });
  t.true(registered.json.success, registered.text);
  t.is(registered.json.printers[0].ownerId, "me@example.com");
  t.is((await call(cloud.service, "search", {}, { token: user })).json.printers[0].id, registered.json.printers[0].id);
  const device = await registerAndClaim(cloud);
  const refused = await call(cloud.service, "register", registerParams("By a printer"), { encoding: "multipart", token: device.access });
  t.is(refused.json.errorCode, 403);
  t.is(refused.json.message, "A printer's own credentials cannot register printers.");
});

test("share and unshare: roles in /printer's access list, a USER submits and sees only its own jobs, unshare ends it", async (t) => {
  const cloud = await cloudUp(t);
  const r = await registerAndClaim(cloud, "Shared", "owner@example.com");
  const bob = await userToken(cloud.service, "bob@example.com");
  const carol = await userToken(cloud.service, "carol@example.com");
  t.is((await submitPdf(cloud, r.printerId, bob)).json.errorCode, 403, "not shared yet");
  t.deepEqual((await call(cloud.service, "search", {}, { token: bob })).json.printers, []);

  const shared = await call(cloud.service, "share", { printerid: r.printerId, scope: "Bob@Example.com", role: "USER", skip_notification: "true" }, { token: r.user });
  t.true(shared.json.success, shared.text);
  await call(cloud.service, "share", { printerid: r.printerId, scope: "carol@example.com", role: "MANAGER" }, { encoding: "multipart", token: r.user });
  const access = (await call(cloud.service, "printer", { printerid: r.printerId }, { token: bob })).json.printers[0].access;
  t.deepEqual(access.map((a: { email: string; role: string }) => [a.email, a.role]), [["owner@example.com", "OWNER"], ["bob@example.com", "USER"], ["carol@example.com", "MANAGER"]]);
  t.is((await call(cloud.service, "search", {}, { token: bob })).json.printers[0].id, r.printerId);

  const ownersJob = (await submitPdf(cloud, r.printerId, r.user)).json.job;
  const bobsJob = await submitPdf(cloud, r.printerId, bob);
  t.true(bobsJob.json.success, bobsJob.text);
  t.is(bobsJob.json.job.ownerId, "bob@example.com");
  t.deepEqual((await call(cloud.service, "jobs", { printerid: r.printerId }, { token: bob })).json.jobs.map((j: { id: string }) => j.id), [bobsJob.json.job.id]);
  t.is((await call(cloud.service, "ticket", { jobid: ownersJob.id }, { token: bob })).json.errorCode, 403, "the owner's job is not bob's");
  t.is((await call(cloud.service, "jobs", { printerid: r.printerId }, { token: carol })).json.jobs.length, 2, "a MANAGER sees every job");
  t.is((await call(cloud.service, "jobs", { printerid: r.printerId }, { token: r.user })).json.jobs.length, 2);

  // What each role may not do.
  t.is((await call(cloud.service, "update", { printerid: r.printerId, firmware: "2" }, { token: bob })).json.errorCode, 403);
  t.true((await call(cloud.service, "update", { printerid: r.printerId, firmware: "2" }, { token: carol })).json.success);
  t.is((await call(cloud.service, "delete", { printerid: r.printerId }, { token: carol })).json.errorCode, 403);
  t.is((await call(cloud.service, "share", { printerid: r.printerId, scope: "dan@example.com" }, { token: bob })).json.errorCode, 403);
  t.true((await call(cloud.service, "share", { printerid: r.printerId, scope: "dan@example.com", role: "USER" }, { token: carol })).json.success);
  t.is((await call(cloud.service, "share", { printerid: r.printerId, scope: "dan@example.com", role: "OWNER" }, { token: carol })).json.errorCode, 403, "a MANAGER hands out no OWNER");
  t.is((await call(cloud.service, "share", { printerid: r.printerId, scope: "dan@example.com", role: "KING" }, { token: r.user })).json.errorCode, 400);
  t.is((await call(cloud.service, "share", { printerid: r.printerId, scope: "not an email" }, { token: r.user })).json.errorCode, 400);
  t.is((await call(cloud.service, "share", { printerid: r.printerId, scope: "owner@example.com" }, { token: r.user })).json.errorCode, 409);
  t.is((await call(cloud.service, "unshare", { printerid: r.printerId, scope: "owner@example.com" }, { token: carol })).json.errorCode, 409);

  const unshared = await call(cloud.service, "unshare", { printerid: r.printerId, scope: "bob@example.com" }, { token: r.user });
  t.true(unshared.json.success, unshared.text);
  t.is((await submitPdf(cloud, r.printerId, bob)).json.errorCode, 403);
  t.is((await call(cloud.service, "printer", { printerid: r.printerId }, { token: bob })).json.errorCode, 403);
  t.deepEqual((await call(cloud.service, "search", {}, { token: bob })).json.printers, []);
  t.is((await call(cloud.service, "unshare", { printerid: r.printerId, scope: "bob@example.com" }, { token: r.user })).json.errorCode, 404);
  // Dan leaves on his own.
  const dan = await userToken(cloud.service, "dan@example.com");
  t.true((await call(cloud.service, "unshare", { printerid: r.printerId, scope: "dan@example.com" }, { token: dan })).json.success);
  t.deepEqual((await call(cloud.service, "printer", { printerid: r.printerId }, { token: r.user })).json.printers[0].access.map((a: { email: string }) => a.email), ["owner@example.com", "carol@example.com"]);
});

async function signIn(url: string, email: string): Promise<string> {
  const r = await fetch(`${url}/signin`, { method: "POST", body: new URLSearchParams({ email }), redirect: "manual" });
  return r.headers.get("set-cookie")!.split(";")[0];
}

test("My printers shows printers shared with the person and everyone's role; only the roles that may act get the forms", async (t) => {
  const cloud = await cloudUp(t);
  const r = await registerAndClaim(cloud, "Lobby printer", "owner@example.com");
  await call(cloud.service, "share", { printerid: r.printerId, scope: "bob@example.com", role: "USER" }, { token: r.user });
  const page = async (cookie: string) => (await fetch(`${cloud.service.url}/cloudprint/printers`, { headers: { cookie } })).text();
  const bobs = await page(await signIn(cloud.service.url, "bob@example.com"));
  t.regex(bobs, /data-role="USER"/);
  t.regex(bobs, /<dd class="role">USER<\/dd>/);
  t.regex(bobs, /<dd class="access">owner@example\.com \(OWNER\), bob@example\.com \(USER\)<\/dd>/);
  t.notRegex(bobs, /printers\/delete|settings-form/, "a USER gets neither the settings nor the delete form");
  const owners = await page(await signIn(cloud.service.url, "owner@example.com"));
  t.regex(owners, /data-role="OWNER"/);
  t.regex(owners, /printers\/delete/);
  t.regex(owners, /bob@example\.com \(USER\)/);
});

test("web sessions end 24 hours (of the emulator's clock) after sign-in", async (t) => {
  const cloud = await cloudUp(t);
  const cookie = await signIn(cloud.service.url, "lee@example.com");
  const get = () => fetch(`${cloud.service.url}/cloudprint/printers`, { headers: { cookie }, redirect: "manual" });
  t.is((await get()).status, 200);
  cloud.clock.now += 24 * 3600 * 1000 - 1000;
  t.is((await get()).status, 200, "still within the day");
  cloud.clock.now += 1000;
  const ended = await get();
  t.is(ended.status, 303);
  t.regex(ended.headers.get("location")!, /^\/signin\?continue=/);
  const post = await fetch(`${cloud.service.url}/cloudprint/printers/delete`, { method: "POST", headers: { cookie }, body: new URLSearchParams({ printerid: "x", csrf: "x" }) });
  t.is(post.status, 403);
  t.is(Object.keys(cloud.service.store.state.sessions).length, 0, "the ended session left the state");
});

test("connectionStatus follows the subscribed XMPP session in /printer, /search and /list, for a printer and a connector's account", async (t) => {
  const cloud = await cloudUp(t, { xmpp: { port: 0 } });
  const r = await registerAndClaim(cloud);
  const statuses = async () => {
    const user = await userToken(cloud.service, r.email);
    return [
      (await call(cloud.service, "printer", { printerid: r.printerId }, { token: user })).json.printers[0].connectionStatus,
      (await call(cloud.service, "search", { connection_status: "ALL" }, { token: user })).json.printers[0].connectionStatus,
      (await call(cloud.service, "list", { proxy: "cloud-test-proxy" }, { token: user })).json.printers[0].connectionStatus,
    ];
  };
  // Busy over HTTP, silent on XMPP: not online.
  await call(cloud.service, "printer", { printerid: r.printerId }, { token: r.access });
  t.deepEqual(await statuses(), ["OFFLINE", "OFFLINE", "OFFLINE"]);
  const { client } = await xmppLogin("plain", cloud.service.xmpp!, r.poll.xmpp_jid, r.access);
  t.teardown(() => client.destroy());
  t.deepEqual(await statuses(), ["ONLINE", "ONLINE", "ONLINE"]);
  const user = await userToken(cloud.service, r.email);
  t.is((await call(cloud.service, "search", { connection_status: "OFFLINE" }, { token: user })).json.printers.length, 0);
  client.send("</stream:stream>");
  t.true(await client.waitClosed());
  for (let i = 0; i < 100 && (await statuses())[0] === "ONLINE"; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  t.deepEqual(await statuses(), ["OFFLINE", "OFFLINE", "OFFLINE"]);
  cloud.clock.now += 31 * 24 * 3600 * 1000;
  t.deepEqual(await statuses(), ["DORMANT", "DORMANT", "DORMANT"]);
  t.is((await call(cloud.service, "search", { connection_status: "DORMANT" }, { token: await userToken(cloud.service, r.email) })).json.printers.length, 1);

  // A connector's printers are online while its account's session is subscribed, and it hears their pushes.
  const account = await robotAccount(cloud, "conn@example.com");
  const printer = (await call(cloud.service, "register", registerParams("Via connector"), { encoding: "multipart", token: account.tokens.json.access_token })).json.printers[0];
  t.is(printer.connectionStatus, "OFFLINE");
  const connector = await xmppLogin("plain", cloud.service.xmpp!, account.created.json.xmpp_jid, account.tokens.json.access_token);
  t.teardown(() => connector.client.destroy());
  t.is((await call(cloud.service, "printer", { printerid: printer.id }, { token: account.user })).json.printers[0].connectionStatus, "ONLINE");
  await submitPdf(cloud, printer.id, account.user);
  t.is(await nextPush(connector.client), printer.id);
});

test("fcm/subscribe answers a 404 that names it unsupported", async (t) => {
  const cloud = await cloudUp(t);
  const user = await userToken(cloud.service, "fcm@example.com");
  for (const path of ["fcm/subscribe", "interface/fcm/subscribe"]) {
    const answer = await call(cloud.service, path, { client: "x", proxy: "p" }, { encoding: "get", token: user });
    t.is(answer.status, 404);
    t.false(answer.json.success);
    t.is(answer.json.errorCode, 404);
    t.regex(answer.json.message, /fcm\/subscribe is not supported/);
  }
});

test("the job's legacy ticketUrl answers flat copies, color and duplex; use_cjt=true still answers the CJT", async (t) => {
  const cloud = await cloudUp(t);
  const r = await registerAndClaim(cloud);
  const cjt = { version: "1.0", print: { copies: { copies: 3 }, color: { type: "STANDARD_MONOCHROME" }, duplex: { type: "LONG_EDGE" }, page_orientation: { type: "LANDSCAPE" } } };
  const job = (await submitPdf(cloud, r.printerId, r.user, { ticket: JSON.stringify(cjt) })).json.job;
  t.regex(job.ticketUrl, /\/ticket\?format=xps&output=xml&jobid=/);
  const legacy = await call(cloud.service, job.ticketUrl, {}, { encoding: "get", token: r.access });
  t.deepEqual(legacy.json, { copies: "3", color: "STANDARD_MONOCHROME", duplex: "LONG_EDGE" });
  t.deepEqual((await call(cloud.service, "ticket", { jobid: job.id, use_cjt: "true" }, { encoding: "get", token: r.access })).json, cjt);
  const plain = (await submitPdf(cloud, r.printerId, r.user)).json.job;
  t.deepEqual((await call(cloud.service, plain.ticketUrl, {}, { encoding: "get", token: r.access })).json, { copies: "1", duplex: "NO_DUPLEX" });
  const old = (await submitPdf(cloud, r.printerId, r.user, { capabilities: JSON.stringify({ copies: "2", "page-ranges": "1-2" }) })).json.job;
  t.deepEqual((await call(cloud.service, old.ticketUrl, {}, { encoding: "get", token: r.access })).json, { copies: "2", "page-ranges": "1-2" }, "a 1.x ticket goes back as it came");
});
