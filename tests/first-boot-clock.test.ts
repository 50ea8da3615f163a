import test from "ava";
import { settableClock } from "../hosts/node/hal.js";
import { FIRMWARE_BUILT_MS } from "../modules/printer/config.js";
import { startTestCloud } from "./helpers/cloud.js";
import { startCloudPrinter, until } from "./helpers/cloud-printer.js";
import { answersWith, startSntpServer } from "./helpers/sntp-server.js";

// A board's first boot: its clock reads 1970 until SNTP answers. Until then
// registration says why it cannot go ahead, the cloud is not contacted, and
// /privet/info and the pages say the clock is being set.

const ALICE = "alice@example.com";
const statusPage = async (port: number) => (await fetch(`http://127.0.0.1:${port}/`)).text();
const NETWORK_TIME = Date.UTC(2027, 2, 14, 9, 30);

test("registration, the cloud and the pages wait for SNTP, and say so; once it answers, registration starts", async (t) => {
  let answering = false;
  const server = await startSntpServer((request) => (answering ? answersWith(() => NETWORK_TIME)(request) : undefined));
  const cloud = await startTestCloud();
  const clock = settableClock(0);
  const p = await startCloudPrinter({
    url: cloud.service.baseUrl, clock,
    sntp: { servers: [`127.0.0.1:${server.port}`], attemptTimeoutMs: 100, backoffMs: 50, maxAttempts: 2, retryMs: 200, maxRetryMs: 400 },
  });
  t.teardown(async () => { await p.stop(); await cloud.service.close(); await server.close(); });

  const refused = (await p.privet.register("start", ALICE)).json;
  t.is(refused.error, "device_config_error");
  t.regex(refused.description, /setting its clock from the network \(SNTP\)/);
  const info = await p.privet.info();
  t.is(info.connection_state, "connecting");
  const item = info.semantic_state.printer.vendor_state.item[0];
  t.is(item.state, "INFO");
  t.is(item.vendor_id, "setting-clock");
  t.regex(item.description, /^Setting the clock from the network \(127\.0\.0\.1:\d+\)/);
  t.is(info.device_state, "idle", "a clock being set is no fault");
  const page = await statusPage(p.port);
  t.regex(page, /<dt>Clock<\/dt><dd class="clock setting">Setting the clock from the network/);
  t.regex(page, /Registration opens once the printer has set its clock/);
  t.notRegex(page, /action="\/register"/, "no registration form while it cannot work");
  t.true(p.logs.some((l) => l.includes("cloud: waiting for the clock")));
  t.false(p.logs.some((l) => l.includes("cloud: the clock is set")));

  // The failed rounds leave a reason on the page.
  await until("a round has failed", () => /last try: .*no answer/.test(p.printer.clockNotice() ?? ""));
  answering = true;
  await until("the clock is set", () => p.printer.clockSet(), 5000);
  t.true(Math.abs(clock.wall() - NETWORK_TIME) < 2000);
  t.true(clock.wall() > FIRMWARE_BUILT_MS);
  await until("the cloud connects", () => p.logs.some((l) => l.includes("cloud: the clock is set; connecting")));
  const after = await p.privet.info();
  t.is(after.semantic_state.printer.vendor_state, undefined);
  t.regex(await statusPage(p.port), /<dd class="clock">Set from 127\.0\.0\.1:\d+<\/dd>/);
  t.is((await p.privet.register("start", ALICE)).json.action, "start");
});

test("without SNTP configured the host's clock is trusted: registration starts at once and the pages say nothing of a clock", async (t) => {
  const cloud = await startTestCloud();
  const p = await startCloudPrinter({ url: cloud.service.baseUrl });
  t.teardown(async () => { await p.stop(); await cloud.service.close(); });
  t.true(p.printer.clockSet());
  const page = await statusPage(p.port);
  t.notRegex(page, /<dt>Clock<\/dt>/);
  t.is((await p.privet.register("start", ALICE)).json.action, "start");
});

test("a board that boots onto its setup access point sets its clock as soon as the person joins a network, not at SNTP's next retry", async (t) => {
  const { MemoryStorage, nodeHal } = await import("../hosts/node/hal.js");
  const { SimulatedWifi } = await import("../hosts/node/network.js");
  const { Printer } = await import("../modules/printer/printer.js");
  let online = false;
  const server = await startSntpServer((request) => (online ? answersWith(() => NETWORK_TIME)(request) : undefined));
  t.teardown(() => server.close());
  const clock = settableClock(0);
  const network = new SimulatedWifi({ joinDelayMs: 20 });
  const logs: string[] = [];
  const printer = new Printer({ ...nodeHal({ log: (_l, m) => logs.push(m) }), storage: new MemoryStorage(), network, clock }, {
    port: 0, sntp: { servers: [`127.0.0.1:${server.port}`], attemptTimeoutMs: 80, backoffMs: 20, maxAttempts: 2, retryMs: 60_000 },
  });
  await printer.start();
  t.teardown(() => printer.stop());
  await until("the first round has failed", () => logs.some((m) => m.startsWith("sntp: no time from the network yet")));
  const asked = server.requests.length;
  online = true;
  t.true((await printer.wifi!.join("Home Wi-Fi", "correct horse battery")).ok);
  await until("the clock is set", () => printer.clockSet(), 2000);
  t.is(server.requests.length, asked + 1, "asked again after the join, long before the 60 s retry");
  t.true(Math.abs(clock.wall() - NETWORK_TIME) < 2000);
});
