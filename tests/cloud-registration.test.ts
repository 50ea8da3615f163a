import test from "ava";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { startCloudService } from "../tools/cloud/index.js";
import { call, registerParams, startTestCloud, tokenRequest, userToken, CURRENT_SETTINGS } from "./helpers/cloud.js";

// The registration a device drives (reference 2.1, Privet 4.3 and 6.1), step by step, with
// the emulator's clock moved by hand so expiry is exact and nothing sleeps.

test("anonymous registration to an online printer: register, poll, claim, code, tokens, expiry, refresh, revoke", async (t) => {
  const cloud = await startTestCloud({ tokenLifetimeSeconds: 60, registrationLifetimeSeconds: 120 });
  const { service, clock } = cloud;
  t.teardown(() => service.close());

  // 1. The device registers with no credentials, multipart as gcp20 and bnet did.
  const reg = await call(service, "register", registerParams("Lobby printer"), { encoding: "multipart" });
  t.is(reg.status, 200);
  const r = reg.json;
  t.true(r.success);
  const id = r.printers[0].id;
  t.regex(id, /^[0-9a-f-]{36}$/);
  t.is(typeof r.registration_token, "string");
  t.is(r.token_duration, "120", "token_duration is a string, as real answers had it");
  t.is(r.invite_url, `${service.baseUrl}/claimprinter.html`);
  t.is(r.complete_invite_url, `${service.baseUrl}/claimprinter.html?token=${encodeURIComponent(r.registration_token)}`);
  t.is(r.automated_invite_url, `${service.baseUrl}/confirm?token=${encodeURIComponent(r.registration_token)}`);
  t.true(r.invite_page_url.startsWith(`${service.baseUrl}/regtokenpage?t=`));
  t.is(r.polling_url, `${service.baseUrl}/getauthcode?printerid=${id}&oauth_client_id=`);
  t.is(r.oauth_scope, "https://www.googleapis.com/auth/cloudprint");
  t.deepEqual(r.printers[0].local_settings, { current: CURRENT_SETTINGS });
  t.is(typeof r.printers[0].createTime, "string");

  // 2. Polling before the claim: success false, and the device keeps polling.
  const early = await call(service, `${r.polling_url}device-client`, {}, { encoding: "get" });
  t.is(early.status, 200);
  t.false(early.json.success);
  t.is(typeof early.json.errorCode, "number");

  // An unclaimed printer is nobody's: the user does not see it yet.
  const user = await userToken(service, "alice@example.com");
  t.deepEqual((await call(service, "search", {}, { token: user })).json.printers, []);

  // 3. The user claims through automated_invite_url with their own token.
  const claimed = await call(service, r.automated_invite_url, {}, { encoding: "get", token: user });
  t.true(claimed.json.success, claimed.text);
  // The token is spent: a second claim (by anyone) fails.
  const bob = await userToken(service, "bob@example.com");
  t.false((await call(service, r.automated_invite_url, {}, { encoding: "get", token: bob })).json.success);

  // 4. Polling now gives the authorization code and the robot account.
  const poll = (await call(service, `${r.polling_url}device-client`, {}, { encoding: "get" })).json;
  t.true(poll.success);
  t.is(typeof poll.authorization_code, "string");
  t.regex(poll.xmpp_jid, /^[0-9a-f]{32}@cloudprint\.googleusercontent\.com$/);
  t.is(poll.user_email, "alice@example.com");
  t.true(poll.confirmation_page_url.startsWith(`${service.baseUrl}/regconfirmpage?printername=Lobby%20printer&email=alice%40example.com`));

  // 5. The code for tokens; only once, and only by the client it was issued to.
  const wrongClient = await tokenRequest(service, { grant_type: "authorization_code", code: poll.authorization_code, client_id: "other" });
  t.is(wrongClient.status, 400);
  t.is(wrongClient.json.error, "invalid_grant");
  const poll2 = (await call(service, `${r.polling_url}device-client`, {}, { encoding: "get" })).json;
  const tokens = await tokenRequest(service, { grant_type: "authorization_code", code: poll2.authorization_code, client_id: "device-client", client_secret: "x", redirect_uri: "oob" });
  t.is(tokens.status, 200, tokens.text);
  t.is(tokens.json.token_type, "Bearer");
  t.is(tokens.json.expires_in, 60);
  const { access_token: access, refresh_token: refresh } = tokens.json;
  t.truthy(access);
  t.truthy(refresh);
  const reused = await tokenRequest(service, { grant_type: "authorization_code", code: poll2.authorization_code, client_id: "device-client" });
  t.is(reused.json.error, "invalid_grant");
  // The anonymous path is closed once the device holds its tokens.
  t.false((await call(service, `${r.polling_url}device-client`, {}, { encoding: "get" })).json.success);

  // 6. The device works with its access token.
  const printer = (await call(service, "printer", { printerid: id }, { encoding: "get", token: access })).json;
  t.true(printer.success);
  t.is(printer.printers[0].ownerId, "alice@example.com");
  // Calls over HTTP are no presence: only a subscribed XMPP session makes it ONLINE.
  t.is(printer.printers[0].connectionStatus, "OFFLINE");
  const updated = await call(service, "update", { printerid: id, firmware: "0.2.0" }, { token: access });
  t.is(updated.json.printer.firmware, "0.2.0");
  t.is(updated.json.message, "Printer updated successfully");
  t.is((await call(service, "list", { proxy: "cloud-test-proxy" }, { token: access })).json.printers[0].id, id);
  t.is((await call(service, "search", { q: "lobby" }, { token: user })).json.printers[0].id, id);

  // 7. The access token expires: 403, as the real service answered an auth failure.
  clock.now += 61_000;
  const expired = await call(service, "printer", { printerid: id }, { token: access });
  t.is(expired.status, 403);
  t.false(expired.json.success);
  t.is(expired.json.errorCode, 403);
  t.regex(expired.json.message, /expired/);

  // 8. Refresh gives a new access token (and no new refresh token).
  const refreshed = await tokenRequest(service, { grant_type: "refresh_token", refresh_token: refresh, client_id: "device-client", client_secret: "x" });
  t.is(refreshed.status, 200, refreshed.text);
  t.is(refreshed.json.refresh_token, undefined);
  t.true((await call(service, "printer", { printerid: id }, { token: refreshed.json.access_token })).json.success);

  // 9. Revoking the refresh token ends its access tokens, and refresh answers invalid_grant.
  const revoked = await call(service, `${service.url}/o/oauth2/revoke`, { token: refresh }, { proxyHeader: null });
  t.is(revoked.status, 200);
  t.is((await call(service, "printer", { printerid: id }, { token: refreshed.json.access_token })).status, 403);
  const dead = await tokenRequest(service, { grant_type: "refresh_token", refresh_token: refresh, client_id: "device-client" });
  t.is(dead.status, 400);
  t.is(dead.json.error, "invalid_grant");
});

test("an unclaimed registration runs out after token_duration", async (t) => {
  const { service, clock } = await startTestCloud({ registrationLifetimeSeconds: 30 });
  t.teardown(() => service.close());
  const r = (await call(service, "register", registerParams("Slow printer"), { encoding: "form" })).json;
  clock.now += 31_000;
  const poll = await call(service, `${r.polling_url}c`, {}, { encoding: "get" });
  t.false(poll.json.success);
  t.regex(poll.json.message, /expired/);
  const user = await userToken(service, "late@example.com");
  const late = await call(service, r.automated_invite_url, {}, { encoding: "get", token: user });
  t.false(late.json.success);
  t.regex(late.json.message, /expired/);
});

test("confirm needs a user's token, and refuses a user parameter naming someone else", async (t) => {
  const { service } = await startTestCloud();
  t.teardown(() => service.close());
  const r = (await call(service, "register", registerParams("P"), { encoding: "form" })).json;
  t.is((await call(service, r.automated_invite_url, {}, { encoding: "get" })).status, 403);
  const user = await userToken(service, "carol@example.com");
  // [L] POSTs confirm with user=<email>.
  const mismatch = await call(service, "confirm", { token: r.registration_token, user: "mallory@example.com" }, { token: user });
  t.false(mismatch.json.success);
  const good = await call(service, "confirm", { token: r.registration_token, user: "carol@example.com" }, { token: user });
  t.true(good.json.success);
});

test("the token endpoint refuses what Google refused", async (t) => {
  const { service } = await startTestCloud();
  t.teardown(() => service.close());
  t.is((await tokenRequest(service, { grant_type: "authorization_code", code: "nope" })).json.error, "invalid_client");
  t.is((await tokenRequest(service, { grant_type: "authorization_code", code: "nope", client_id: "c" })).json.error, "invalid_grant");
  t.is((await tokenRequest(service, { grant_type: "password", client_id: "c" })).json.error, "unsupported_grant_type");
  t.is((await tokenRequest(service, { client_id: "c" })).json.error, "invalid_request");
  t.is((await tokenRequest(service, { grant_type: "urn:cloudprint-emulator:user", email: "not an email" })).status, 400);
  // bnet sends the token request as multipart; it works the same.
  const multi = await tokenRequest(service, { grant_type: "urn:cloudprint-emulator:user", email: "dave@example.com" }, "multipart");
  t.is(multi.status, 200);
  t.is(multi.json.token_type, "Bearer");
});

test("on the real clock too, a short-lived access token stops working and a refresh brings it back", async (t) => {
  // No injected clock here: the emulator's own Date.now decides, with a one-second lifetime.
  const service = await startCloudService({ port: 0, stateDir: mkdtempSync(path.join(tmpdir(), "cloud-realclock-")), tokenLifetimeSeconds: 1 });
  t.teardown(() => service.close());
  const granted = (await tokenRequest(service, { grant_type: "urn:cloudprint-emulator:user", email: "kim@example.com" })).json;
  t.is(granted.expires_in, 1);
  t.is((await call(service, "search", {}, { token: granted.access_token })).status, 200);
  let status = 200;
  // Bounded: at most 30 tries of 100 ms, well past the one second.
  for (let i = 0; i < 30 && status === 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    status = (await call(service, "search", {}, { token: granted.access_token })).status;
  }
  t.is(status, 403);
  const refreshed = (await tokenRequest(service, { grant_type: "refresh_token", refresh_token: granted.refresh_token, client_id: "c" })).json;
  t.is((await call(service, "search", {}, { token: refreshed.access_token })).status, 200);
});

test("anonymous registrations waiting for a claim are capped, and room comes back as they expire", async (t) => {
  const { service, clock } = await startTestCloud({ maxUnclaimedRegistrations: 2, registrationLifetimeSeconds: 60 });
  t.teardown(() => service.close());
  t.true((await call(service, "register", registerParams("one"))).json.success);
  t.true((await call(service, "register", registerParams("two"))).json.success);
  const third = await call(service, "register", registerParams("three"));
  t.false(third.json.success);
  t.is(third.json.errorCode, 429);
  clock.now += 61_000;
  t.true((await call(service, "register", registerParams("four"))).json.success);
});
