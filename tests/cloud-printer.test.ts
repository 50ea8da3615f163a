import test from "ava";
import { DEFAULT_LOCAL_SETTINGS } from "../modules/cloud/local-settings.js";
import { MemoryStorage } from "../hosts/node/hal.js";
import { CredentialStore } from "../modules/cloud/credentials.js";
import { SafeStorage } from "../modules/storage/safe-storage.js";
import { FakeClock } from "./helpers/fake-clock.js";
import { FakeNetwork } from "./helpers/fake-udp.js";
import { call, startTestCloud, userToken } from "./helpers/cloud.js";
import { registerPrinter, startCloudPrinter, startFaultyProxy, until, type CloudPrinter } from "./helpers/cloud-printer.js";
import { privetTxt } from "../modules/privet/info.js";

// The printer and the Cloud Print emulator in one process, over real
// sockets on 127.0.0.1: every flow of Privet 4.3, 4.4, 4.1 and 6.1 as a
// client and the service see it.

const ALICE = "alice@example.com";
const BOB = "bob@example.com";

function txtOf(p: CloudPrinter): Record<string, string> {
  return Object.fromEntries(privetTxt(p.printer.device));
}

test("out of the box with a cloud URL: only info and register; the url has its protocol; cs follows the service", async (t) => {
  const cloud = await startTestCloud();
  const p = await startCloudPrinter({ url: cloud.service.baseUrl });
  t.teardown(async () => { await p.stop(); await cloud.service.close(); });
  await until("the service was probed", () => p.printer.device.connectionState === "online");
  const info = await p.privet.info();
  t.deepEqual(info.api, ["/privet/register"]);
  t.is(info.id, "");
  t.is(info.url, cloud.service.baseUrl);
  t.regex(info.url, /^http:\/\//);
  t.is(info.connection_state, "online");
  t.is(txtOf(p).cs, "online");
  t.is(txtOf(p).id, "");
  for (const path of ["/privet/capabilities", "/privet/printer/jobstate?job_id=1", "/privet/accesstoken?user=x"]) {
    t.is((await p.privet.call("GET", path)).status, 404, path);
  }
  // Missing token: 400 even here; register is a POST.
  t.is((await p.privet.request("POST", "/privet/register?action=start&user=a@b.c")).status, 400);
  t.is((await p.privet.call("GET", "/privet/register?action=start&user=a@b.c")).status, 405);
});

test("registration end to end: start, OK on the panel, getClaimToken, claim, complete; then register is 404 and id is announced", async (t) => {
  const cloud = await startTestCloud();
  const p = await startCloudPrinter({ url: cloud.service.baseUrl });
  t.teardown(async () => { await p.stop(); await cloud.service.close(); });
  let announced = 0;
  p.printer.device.onChange(() => announced++);

  const start = await p.privet.register("start", ALICE);
  t.deepEqual(start.json, { action: "start", user: ALICE });
  t.is(p.panel.mode, "blink", "the indicator blinks while it waits for OK");
  t.regex(p.panel.text ?? "", /alice@example\.com/);
  // Nothing has gone to the service before the button (Privet 6.1).
  t.is(Object.values(cloud.service.store.state.printers).length, 0);
  const pending = await p.privet.register("getClaimToken", ALICE);
  t.is(pending.json.error, "pending_user_action");
  t.is(pending.json.timeout, 5);

  p.panel.press("ok");
  let claim: any;
  await until("the claim token is ready", async () => {
    claim = (await p.privet.register("getClaimToken", ALICE)).json;
    return claim.error !== "pending_user_action";
  });
  const printerId = Object.keys(cloud.service.store.state.printers)[0];
  const record = cloud.service.store.state.printers[printerId];
  t.is(claim.action, "getClaimToken");
  t.is(claim.user, ALICE);
  t.is(claim.token, record.registrationToken);
  t.is(claim.claim_url, `${cloud.service.baseUrl}/claimprinter.html?token=${encodeURIComponent(claim.token)}`);
  t.is(claim.automated_claim_url, `${cloud.service.baseUrl}/confirm?token=${encodeURIComponent(claim.token)}`);
  // Registration sent local_settings.current and the device's description (Privet 4.1.1).
  t.deepEqual(record.localSettings, { current: DEFAULT_LOCAL_SETTINGS });
  t.is(record.name, "Cloud Test Printer");
  t.is(record.uuid, p.printer.device.serialNumber);
  t.truthy((record.capabilities as any).printer.supported_content_type);
  t.is(p.printer.device.id, "", "no id before complete (Privet 4.3.2)");

  const user = await userToken(cloud.service, ALICE);
  t.true((await call(cloud.service, claim.automated_claim_url, {}, { encoding: "get", token: user })).json.success);
  const complete = await p.privet.register("complete", ALICE);
  t.deepEqual(complete.json, { action: "complete", user: ALICE, device_id: printerId });
  t.is(p.panel.mode, "off");

  const info = await p.privet.info();
  t.is(info.id, printerId);
  t.is(txtOf(p).id, printerId);
  t.true(announced > 0, "TXT re-announced with the id (Privet 3.3)");
  t.deepEqual(info.api.sort(), ["/privet/accesstoken", "/privet/capabilities", "/privet/printer/createjob", "/privet/printer/jobstate", "/privet/printer/submitdoc"]);
  t.is((await p.privet.register("start", ALICE)).status, 404, "register is gone once registered");
  t.is((await p.privet.call("GET", "/privet/capabilities")).status, 200);
  await until("the first /printer check", () => cloud.service.store.state.printers[printerId].robotSeenAt !== undefined);
  t.is(info.connection_state, "online");
  t.is(p.printer.cloud!.owner, ALICE);
});

test("accesstoken: the proximity token with every field; access_denied for a stranger; invalid_params without user", async (t) => {
  const cloud = await startTestCloud();
  const p = await startCloudPrinter({ url: cloud.service.baseUrl });
  t.teardown(async () => { await p.stop(); await cloud.service.close(); });
  await registerPrinter(cloud, p, ALICE);
  const token = await p.privet.call("GET", `/privet/accesstoken?user=${encodeURIComponent(ALICE)}`);
  t.is(token.status, 200);
  t.is(token.json.user, ALICE);
  t.is(typeof token.json.token, "string");
  t.is(token.json.expires_in, 600);
  const stranger = await p.privet.call("GET", `/privet/accesstoken?user=${encodeURIComponent(BOB)}`);
  t.is(stranger.json.error, "access_denied");
  t.is(stranger.json.server_api, "/proximitytoken");
  t.is((await p.privet.call("GET", "/privet/accesstoken")).json.error, "invalid_params");
  t.is((await p.privet.call("GET", "/privet/accesstoken?user=")).json.error, "invalid_params");
  t.is((await p.privet.call("POST", "/privet/accesstoken?user=x")).status, 405);
});

test("register errors: device_busy for a second user, invalid_params, invalid_action, user_cancel, and a new start by the same user", async (t) => {
  const cloud = await startTestCloud();
  const p = await startCloudPrinter({ url: cloud.service.baseUrl });
  t.teardown(async () => { await p.stop(); await cloud.service.close(); });
  const r = (action: string, user?: string) => p.privet.register(action, user).then((a) => a.json);

  t.is((await r("complete", ALICE)).error, "invalid_action", "complete before start");
  t.is((await r("getClaimToken", ALICE)).error, "invalid_action");
  t.is((await r("cancel", ALICE)).error, "invalid_action");
  t.is((await r("dance", ALICE)).error, "invalid_params");
  t.is((await r("start")).error, "invalid_params", "user missing");
  t.is((await r("start", "")).error, "invalid_params", "user empty");

  t.is((await r("start", ALICE)).action, "start");
  const busy = await r("start", BOB);
  t.is(busy.error, "device_busy");
  t.is(busy.timeout, 30);
  t.is((await r("getClaimToken", BOB)).error, "invalid_params", "a different user than start's");
  t.is((await r("complete", ALICE)).error, "invalid_action", "complete before the claim token");

  // Cancel on the panel: user_cancel, and another user may start now.
  p.panel.press("cancel");
  t.is((await r("getClaimToken", ALICE)).error, "user_cancel");
  t.is(p.panel.mode, "off");
  t.is((await r("start", BOB)).action, "start");
  // The same user starting again drops the old registration and waits anew.
  t.is((await r("start", BOB)).action, "start");
  t.is(p.panel.mode, "blink");
  t.deepEqual(await r("cancel", BOB), { action: "cancel", user: BOB });
  t.is(p.panel.mode, "off");
  t.is((await r("getClaimToken", BOB)).error, "invalid_action");
});

test("confirmation_timeout when nobody presses OK in time", async (t) => {
  const cloud = await startTestCloud();
  const p = await startCloudPrinter({ url: cloud.service.baseUrl, cloud: { confirmTimeoutMs: 300 } });
  t.teardown(async () => { await p.stop(); await cloud.service.close(); });
  t.is((await p.privet.register("start", ALICE)).json.action, "start");
  await new Promise((r) => setTimeout(r, 450));
  t.is((await p.privet.register("getClaimToken", ALICE)).json.error, "confirmation_timeout");
  t.is(p.panel.mode, "off");
  // OK too late does nothing; the service never heard of the printer.
  p.panel.press("ok");
  t.is(Object.keys(cloud.service.store.state.printers).length, 0);
});

test("device_config_error while the wall clock is not set, and on a printer without buttons", async (t) => {
  const cloud = await startTestCloud();
  const { nodeClock } = await import("../hosts/node/hal.js");
  const unset = { ...nodeClock, wall: () => 0 };
  const p = await startCloudPrinter({ url: cloud.service.baseUrl, clock: unset });
  const q = await startCloudPrinter({ url: cloud.service.baseUrl, noPanel: true });
  t.teardown(async () => { await p.stop(); await q.stop(); await cloud.service.close(); });
  t.is((await p.privet.register("start", ALICE)).json.error, "device_config_error");
  t.is((await q.privet.register("start", ALICE)).json.error, "device_config_error");
});

test("complete polls until the claim, and any register call meanwhile is device_busy", async (t) => {
  const cloud = await startTestCloud();
  const p = await startCloudPrinter({ url: cloud.service.baseUrl, cloud: { pollIntervalMs: 150 } });
  t.teardown(async () => { await p.stop(); await cloud.service.close(); });
  await p.privet.register("start", ALICE);
  p.panel.press("ok");
  let claim: any;
  await until("claimable", async () => { claim = (await p.privet.register("getClaimToken", ALICE)).json; return !!claim.token; });
  const completing = p.privet.register("complete", ALICE);
  await until("the printer polls", () => p.printer.cloud!.registration.phase === "completing");
  const busy = (await p.privet.register("getClaimToken", ALICE)).json;
  t.is(busy.error, "device_busy");
  t.is(busy.timeout, 30);
  t.is((await p.privet.register("start", BOB)).json.error, "device_busy");
  await new Promise((r) => setTimeout(r, 400));
  const user = await userToken(cloud.service, ALICE);
  await call(cloud.service, claim.automated_claim_url, {}, { encoding: "get", token: user });
  const done = (await completing).json;
  t.is(done.action, "complete");
  t.is(done.device_id, p.printer.device.id);
});

test("the service unreachable: start still waits for the button, then offline; cs offline", async (t) => {
  // Port 1 on loopback: nothing listens there (a closed emulator's port may
  // be taken by a test running beside this one).
  const p = await startCloudPrinter({ url: "http://127.0.0.1:1/cloudprint" });
  t.teardown(() => p.stop());
  await until("cs offline", () => p.printer.device.connectionState === "offline");
  t.is(txtOf(p).cs, "offline");
  t.is((await p.privet.register("start", ALICE)).json.action, "start");
  p.panel.press("ok");
  let answer: any;
  await until("register failed", async () => { answer = (await p.privet.register("getClaimToken", ALICE)).json; return answer.error !== "pending_user_action"; });
  t.is(answer.error, "offline");
  t.is((await p.privet.register("complete", ALICE)).json.error, "offline");
  // The client may start over.
  t.is((await p.privet.register("start", ALICE)).json.action, "start");
});

for (const step of ["register", "getauthcode", "token"] as const) {
  for (const fault of ["500", "garbage", "not-json-200", "close", "slow", "missing-fields"] as const) {
    if (step === "register" || fault !== "missing-fields" || step === "getauthcode") {
      test(`the service answering ${fault} at ${step}: a Privet error on the wire, and the printer stays unregistered and serving`, async (t) => {
        const cloud = await startTestCloud();
        const proxy = await startFaultyProxy(cloud.service.url);
        const p = await startCloudPrinter({ url: proxy.url, cloud: { http: { headTimeoutMs: 2000, connectTimeoutMs: 2000 } } });
        t.teardown(async () => { await p.stop(); await proxy.close(); await cloud.service.close(); });
        proxy.faults.set(step, fault);
        const expected = fault === "close" || fault === "slow" ? "offline" : "server_error";
        await p.privet.register("start", ALICE);
        p.panel.press("ok");
        let answer: any;
        await until("getClaimToken settles", async () => { answer = (await p.privet.register("getClaimToken", ALICE)).json; return answer.error !== "pending_user_action"; });
        if (step === "register") {
          t.is(answer.error, expected, JSON.stringify(answer));
          if (expected === "server_error") t.is(answer.server_api, "/register");
          if (fault === "500") t.is(answer.server_http_code, 500);
        } else {
          t.truthy(answer.token, JSON.stringify(answer));
          const user = await userToken(cloud.service, ALICE);
          t.true((await call(cloud.service, answer.automated_claim_url.split(proxy.url).join(cloud.service.baseUrl), {}, { encoding: "get", token: user })).json.success);
          const complete = (await p.privet.register("complete", ALICE)).json;
          t.is(complete.error, expected, JSON.stringify(complete));
          if (expected === "server_error") t.is(complete.server_api, step === "token" ? "/token" : "/getauthcode");
          if (step === "getauthcode") {
            // The fault gone, complete goes through on a retry.
            proxy.faults.delete(step);
            const retry = (await p.privet.register("complete", ALICE)).json;
            t.is(retry.action, "complete", JSON.stringify(retry));
          }
        }
        if (step !== "getauthcode") t.is(p.printer.device.id, "");
        t.is((await p.privet.info()).name, "Cloud Test Printer", "still serving");
      });
    }
  }
}

test("a restart mid-registration forgets it; a restart after registration keeps it", async (t) => {
  const cloud = await startTestCloud();
  const storage = new MemoryStorage();
  let p = await startCloudPrinter({ url: cloud.service.baseUrl, storage });
  t.teardown(async () => { await p.stop(); await cloud.service.close(); });
  await p.privet.register("start", ALICE);
  p.panel.press("ok");
  await until("claimable", async () => !!(await p.privet.register("getClaimToken", ALICE)).json.token);
  await p.stop();
  p = await startCloudPrinter({ url: cloud.service.baseUrl, storage });
  t.deepEqual((await p.privet.info()).api, ["/privet/register"]);
  t.is((await p.privet.register("getClaimToken", ALICE)).json.error, "invalid_action");
  const { deviceId } = await registerPrinter(cloud, p, ALICE);
  await p.stop();
  p = await startCloudPrinter({ url: cloud.service.baseUrl, storage });
  const info = await p.privet.info();
  t.is(info.id, deviceId);
  t.is((await p.privet.register("start", ALICE)).status, 404);
  // The restarted printer has no access token: it refreshes, then checks /printer.
  await until("online after the startup check", () => p.printer.device.connectionState === "online");
  t.is((await p.privet.call("GET", `/privet/accesstoken?user=${ALICE}`)).json.user, ALICE);
});

test("an access token the service no longer takes is refreshed and the call retried", async (t) => {
  const cloud = await startTestCloud({ tokenLifetimeSeconds: 3600 });
  const p = await startCloudPrinter({ url: cloud.service.baseUrl });
  t.teardown(async () => { await p.stop(); await cloud.service.close(); });
  await registerPrinter(cloud, p, ALICE);
  const robotTokensSince = (at: number) => Object.values(cloud.service.store.state.accessTokens)
    .filter((r: any) => r.subject.kind === "robot" && r.issuedAt >= at).length;
  // Two hours pass at the service: the printer's token has expired there.
  cloud.clock.now += 2 * 3600_000;
  t.is(robotTokensSince(cloud.clock.now), 0);
  const answer = await p.privet.call("GET", `/privet/accesstoken?user=${ALICE}`);
  t.is(answer.json.user, ALICE, answer.body);
  t.is(robotTokensSince(cloud.clock.now), 1, "one refresh, after the service refused the old token with 403");
});

for (const shape of ["success-false", "empty-printers"] as const) {
  test(`deletion at the service (${shape}) returns the printer to out-of-the-box at its next check`, async (t) => {
    const cloud = await startTestCloud({ deletionShape: shape });
    const p = await startCloudPrinter({ url: cloud.service.baseUrl });
    t.teardown(async () => { await p.stop(); await cloud.service.close(); });
    const { deviceId, userToken: user } = await registerPrinter(cloud, p, ALICE);
    let changes = 0;
    p.printer.device.onChange(() => changes++);
    t.true((await call(cloud.service, "delete", { printerid: deviceId }, { token: user })).json.success);
    await p.printer.cloud!.sync();
    const info = await p.privet.info();
    t.is(info.id, "");
    t.deepEqual(info.api, ["/privet/register"]);
    t.is(txtOf(p).id, "");
    t.true(changes > 0, "TXT re-announced");
    t.is(new CredentialStore(new SafeStorage(p.storage)).load(), undefined, "erased in storage too");
    t.false(p.printer.cloud!.registered);
    // And it can be registered again.
    const again = await registerPrinter(cloud, p, BOB);
    t.not(again.deviceId, deviceId);
  });
}

test("credentials refused for good (refresh token revoked) return the printer to out-of-the-box", async (t) => {
  const cloud = await startTestCloud();
  const p = await startCloudPrinter({ url: cloud.service.baseUrl });
  t.teardown(async () => { await p.stop(); await cloud.service.close(); });
  await registerPrinter(cloud, p, ALICE);
  for (const token of Object.keys(cloud.service.store.state.refreshTokens)) {
    await call(cloud.service, `${cloud.service.url}/o/oauth2/revoke`, { token }, { proxyHeader: null });
  }
  cloud.clock.now += 2 * 3600_000;
  t.is((await p.privet.call("GET", `/privet/accesstoken?user=${ALICE}`)).status, 200);
  await until("erased", () => !p.printer.cloud!.registered);
  t.deepEqual((await p.privet.info()).api, ["/privet/register"]);
});

test("factory reset on the panel: credentials and local settings gone, register back", async (t) => {
  const cloud = await startTestCloud();
  const p = await startCloudPrinter({ url: cloud.service.baseUrl });
  t.teardown(async () => { await p.stop(); await cloud.service.close(); });
  await registerPrinter(cloud, p, ALICE);
  p.printer.settings.set("localPrinting", false);
  p.panel.press("reset");
  const info = await p.privet.info();
  t.is(info.id, "");
  t.deepEqual(info.api, ["/privet/register"]);
  t.true(p.printer.settings.get("localPrinting"));
  // After a restart too.
  await p.stop();
  const q = await startCloudPrinter({ url: cloud.service.baseUrl, storage: p.storage });
  t.teardown(() => q.stop());
  t.is((await q.privet.info()).id, "");
});

test("pending local settings from the owner are applied and confirmed with current only", async (t) => {
  const cloud = await startTestCloud();
  const p = await startCloudPrinter({ url: cloud.service.baseUrl });
  t.teardown(async () => { await p.stop(); await cloud.service.close(); });
  const { deviceId, userToken: user } = await registerPrinter(cloud, p, ALICE);
  await p.printer.cloud!.sync();
  const pending = { "printer/local_printing_enabled": false, access_token_enabled: false, xmpp_timeout_value: 600 };
  const asked = await call(cloud.service, "update", { printerid: deviceId, local_settings: JSON.stringify({ pending }) }, { token: user });
  t.true(asked.json.success, asked.text);
  t.deepEqual(cloud.pushes.map((x) => x.payload), [`${deviceId}/update_settings`]);
  await p.printer.cloud!.sync();
  const info = await p.privet.info();
  t.deepEqual(info.api, [], "printing and accesstoken hidden");
  t.is((await p.privet.call("GET", "/privet/capabilities")).status, 404);
  const settings = cloud.service.store.state.printers[deviceId].localSettings;
  t.deepEqual(settings.current, { ...DEFAULT_LOCAL_SETTINGS, ...pending });
  t.is(settings.pending, undefined, "confirmed: the service dropped pending");
  // Kept across a restart (offline too: the service is gone).
  await p.stop();
  await cloud.service.close();
  const q = await startCloudPrinter({ url: cloud.service.baseUrl, storage: p.storage });
  t.teardown(() => q.stop());
  await until("offline", () => q.printer.device.connectionState === "offline");
  t.deepEqual((await q.privet.info()).api, []);
  t.is(q.printer.settings.get("xmppTimeout"), 600);
});

test("local_discovery false from the cloud hides every local API and says goodbye over mDNS; true brings them back", async (t) => {
  const cloud = await startTestCloud();
  // Only the packets the printer sends are looked at; the network's own clock never moves.
  const network = new FakeNetwork(new FakeClock());
  const p = await startCloudPrinter({ url: cloud.service.baseUrl, udp: network.udpFor("127.0.0.1") });
  t.teardown(async () => { await p.stop(); await cloud.service.close(); });
  const { deviceId, userToken: user } = await registerPrinter(cloud, p, ALICE);
  await until("announced", () => network.sentBy("127.0.0.1").some((d) => d.message.answers.some((a) => a.ttl > 0)), 5000);
  const before = network.log.length;
  await call(cloud.service, "update", { printerid: deviceId, local_settings: JSON.stringify({ pending: { local_discovery: false } }) }, { token: user });
  await p.printer.cloud!.sync();
  await until("goodbye sent", () => network.log.slice(before).some((d) => d.message.answers.length > 0 && d.message.answers.every((a) => a.ttl === 0)));
  t.is(await p.privet.info(), undefined, "/privet/info is 404 too");
  t.is((await p.privet.request("GET", "/privet/info", "\"\"")).status, 404);
  t.false(cloud.service.store.state.printers[deviceId].localSettings.current.local_discovery);
  await call(cloud.service, "update", { printerid: deviceId, local_settings: JSON.stringify({ pending: { local_discovery: true } }) }, { token: user });
  await p.printer.cloud!.sync();
  t.is((await p.privet.info()).id, deviceId);
  t.truthy(p.printer.mdns, "announcing again");
});

test("after registration, /printer and /proximitytoken failing: errors on the wire, the registration and last settings kept, cs offline when unreachable", async (t) => {
  const cloud = await startTestCloud();
  const proxy = await startFaultyProxy(cloud.service.url);
  const p = await startCloudPrinter({ url: proxy.url, cloud: { http: { headTimeoutMs: 2000, connectTimeoutMs: 2000 } } });
  t.teardown(async () => { await p.stop(); await proxy.close(); await cloud.service.close(); });
  // The claim goes to the emulator directly; everything the printer calls goes through the proxy.
  await p.privet.register("start", ALICE);
  p.panel.press("ok");
  let claim: any;
  await until("claimable", async () => { claim = (await p.privet.register("getClaimToken", ALICE)).json; return !!claim.token; });
  const user = await userToken(cloud.service, ALICE);
  await call(cloud.service, claim.automated_claim_url.split(proxy.url).join(cloud.service.baseUrl), {}, { encoding: "get", token: user });
  const deviceId = (await p.privet.register("complete", ALICE)).json.device_id;
  t.truthy(deviceId);
  const accessToken = () => p.privet.call("GET", `/privet/accesstoken?user=${encodeURIComponent(ALICE)}`).then((a) => a.json);

  for (const [fault, error] of [["500", "server_error"], ["garbage", "server_error"], ["close", "offline"], ["slow", "offline"]] as const) {
    proxy.faults.set("proximitytoken", fault);
    const answer = await accessToken();
    t.is(answer.error, error, `${fault}: ${JSON.stringify(answer)}`);
    if (fault === "500") t.is(answer.server_http_code, 500);
  }
  proxy.faults.clear();
  t.is((await accessToken()).user, ALICE);

  for (const fault of ["500", "garbage", "close", "slow"] as const) {
    proxy.faults.set("printer", fault);
    await p.printer.cloud!.sync();
    t.is(p.printer.device.id, deviceId, `${fault}: still registered`);
    t.is(p.printer.device.connectionState, fault === "close" || fault === "slow" ? "offline" : "online", fault);
    t.is(p.printer.cloud!.nextSyncAt - performance.now() > 4 * 60_000, true, "retried in minutes, not a day");
  }
  proxy.faults.clear();
  await p.printer.cloud!.sync();
  t.is(p.printer.device.connectionState, "online");
  t.is(txtOf(p).cs, "online");
});
