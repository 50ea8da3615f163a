import test from "ava";
import { MemoryStorage } from "../hosts/node/hal.js";
import { call, startRestartableCloud, startTestCloud, userToken, type RestartableCloud, type TestCloud } from "./helpers/cloud.js";
import { registerPrinter, startCloudPrinter, until, type CloudPrinter } from "./helpers/cloud-printer.js";
import { privetTxt } from "../modules/privet/info.js";

// The printer's XMPP channel to the emulator, wired by the Printer: the
// channel's state is connection_state and TXT cs, each push leads to the
// call the reference names, and every (re)connection re-checks /printer.

function xmppConfig(cloud: TestCloud) {
  return {
    host: "127.0.0.1", port: cloud.service.xmpp!.port, transport: "plain" as const, allowPlainText: true,
    backoffInitialMs: 100, backoffMaxMs: 400, minPingIntervalSeconds: 0,
  };
}

async function registeredPrinter(t: any, cloud: TestCloud, storage = new MemoryStorage()): Promise<{ p: CloudPrinter; deviceId: string; user: string }> {
  const p = await startCloudPrinter({ url: cloud.service.baseUrl, storage, cloud: { xmpp: xmppConfig(cloud) } });
  t.teardown(() => p.stop());
  const r = await registerPrinter(cloud, p);
  return { p, deviceId: r.deviceId, user: r.userToken };
}

function hits(cloud: TestCloud, p: CloudPrinter, what: string): number {
  return p.logs.filter((line) => line.includes(what)).length;
}

test("registered: the channel comes online; connection_state and TXT cs follow it, with TXT re-announced", async (t) => {
  const cloud = await startTestCloud({ xmpp: { port: 0 } });
  t.teardown(() => cloud.service.close());
  const { p, deviceId } = await registeredPrinter(t, cloud);
  const states: string[] = [];
  p.printer.device.onChange(() => states.push(p.printer.device.connectionState));
  await until("the channel is online", () => p.printer.cloud!.connectionState === "online", 10_000);
  const info = await p.privet.info();
  t.is(info.connection_state, "online");
  t.is(Object.fromEntries(privetTxt(p.printer.device)).cs, "online");
  const printers = await call(cloud.service, "printer", { printerid: deviceId }, { token: (await registeredUser(cloud)) });
  t.is(printers.json.printers[0].connectionStatus, "ONLINE");
  t.true(states.includes("online"), JSON.stringify(states));
});

function registeredUser(cloud: TestCloud): Promise<string> {
  return userToken(cloud.service, "alice@example.com");
}

test("a settings change pushed over XMPP is applied and confirmed; xmpp_timeout_value reaches the channel", async (t) => {
  const cloud = await startTestCloud({ xmpp: { port: 0 } });
  t.teardown(() => cloud.service.close());
  const { p, deviceId, user } = await registeredPrinter(t, cloud);
  await until("online", () => p.printer.cloud!.connectionState === "online", 10_000);
  const changed = await call(cloud.service, "update", { printerid: deviceId, local_settings: JSON.stringify({ pending: { xmpp_timeout_value: 600, access_token_enabled: false } }) }, { token: user });
  t.true(changed.json.success, changed.text);
  await until("the setting is applied", () => p.printer.settings.get("xmppTimeout") === 600, 5000);
  t.false(p.printer.settings.get("accessToken"));
  await until("the service shows it confirmed", () => {
    const settings = cloud.service.store.state.printers[deviceId].localSettings;
    return (settings.current as any).xmpp_timeout_value === 600 && settings.pending === undefined;
  }, 5000);
  t.true(p.logs.some((l) => l.includes("push update_settings")));
});

// Takes the service down, waits until the printer sees it gone, and starts
// it again behind the same ports and on the same state, recording the paths it is asked for.
async function restartService(t: any, cloud: RestartableCloud, p: CloudPrinter, whileDown: () => Promise<void> = async () => {}) {
  await cloud.stop();
  await until("offline", () => p.printer.device.connectionState !== "online", 10_000);
  await whileDown();
  const requests: string[] = [];
  const second = await cloud.start({ onRequest: (_m, path) => requests.push(path) });
  return { second, requests };
}

test("the XMPP server goes away: connection_state offline; back: online again, /printer checked on the reconnect", async (t) => {
  const cloud = await startRestartableCloud(t);
  const first = cloud.current;
  const { p } = await registeredPrinter(t, first);
  await until("online", () => p.printer.cloud!.connectionState === "online", 10_000);
  let before = 0;
  const { second, requests } = await restartService(t, cloud, p, async () => {
    t.not((await p.privet.info()).connection_state, "online");
    before = hits(first, p, "push");
  });
  const checks = () => requests.filter((path) => path.endsWith("/printer")).length;
  await until("online again", () => p.printer.device.connectionState === "online", 10_000);
  await until("the reconnect checked /printer", () => checks() > 0, 5000);
  await until("and fetched", () => requests.some((path) => path.endsWith("/fetch")), 5000);
  t.is((await p.privet.info()).connection_state, "online");
  t.is(hits(second, p, "push"), before);
});

test("a deletion pushed over XMPP takes the printer back to out of the box and stops the channel", async (t) => {
  const cloud = await startTestCloud({ xmpp: { port: 0 } });
  t.teardown(() => cloud.service.close());
  const { p, deviceId, user } = await registeredPrinter(t, cloud);
  await until("online", () => p.printer.cloud!.connectionState === "online", 10_000);
  t.true((await call(cloud.service, "delete", { printerid: deviceId }, { token: user })).json.success);
  await until("out of the box", () => p.printer.device.id === "", 5000);
  t.false(p.printer.cloud!.registered);
  t.true(p.logs.some((l) => l.includes("push delete")));
  const info = await p.privet.info();
  t.deepEqual(info.api, ["/privet/register"]);
});

test("the server refuses the access token on a reconnect: the channel gets a fresh one from the refresh token and comes back online", async (t) => {
  const cloud = await startRestartableCloud(t);
  const { p } = await registeredPrinter(t, cloud.current);
  await until("online", () => p.printer.cloud!.connectionState === "online", 10_000);
  const { second, requests } = await restartService(t, cloud, p);
  // Two hours on at the service: the token the printer holds has expired there.
  second.clock.now += 2 * 3600_000;
  await until("online again", () => p.printer.device.connectionState === "online", 10_000);
  t.true(requests.some((path) => path.endsWith("/token")), JSON.stringify(requests));
  t.true(p.printer.cloud!.registered);
});

test("a factory reset on the panel stops the channel and erases the registration", async (t) => {
  const sessionLog: string[] = [];
  const cloud = await startTestCloud({ xmpp: { port: 0, onLog: (line) => sessionLog.push(line) } });
  t.teardown(() => cloud.service.close());
  const { p } = await registeredPrinter(t, cloud);
  await until("online", () => p.printer.cloud!.connectionState === "online", 10_000);
  const closedBefore = sessionLog.filter((line) => line.endsWith("closed")).length;
  p.panel.press("reset");
  t.is(p.printer.device.id, "");
  await until("the session is closed", () => sessionLog.filter((line) => line.endsWith("closed")).length > closedBefore, 5000);
  await new Promise((r) => setTimeout(r, 300));
  t.is(sessionLog.filter((line) => line.includes("subscribed")).length, 1, "no new session after the reset");
});
