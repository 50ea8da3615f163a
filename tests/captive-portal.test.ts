import test, { type ExecutionContext } from "ava";
import * as dgram from "node:dgram";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { chromium } from "playwright-core";
import { captiveAnswer } from "../modules/dns/captive.js";
import { decodeMessage, encodeMessage, FLAG_RESPONSE, TYPE_A, TYPE_AAAA, type Message } from "../modules/dns/message.js";
import { Printer } from "../modules/printer/printer.js";
import { SafeStorage } from "../modules/storage/safe-storage.js";
import { WIFI_KEY } from "../modules/wifi/setup.js";
import { MemoryStorage, nodeHal } from "../hosts/node/hal.js";
import { SimulatedWifi } from "../hosts/node/network.js";
import { get as ownGet, rawRequest } from "./helpers/client.js";
import { until } from "./helpers/cloud-printer.js";

// The setup access point as a captive portal: its DNS answers every name
// with the printer, and each system's connectivity check is redirected to the
// setup page, only while the access point is up.

// A GET naming host in its Host header (the helper's get names the printer).
function get(port: number, target: string, headers?: { Host: string }) {
  if (!headers) return ownGet(port, target);
  return rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: ${headers.Host}\r\n\r\n`);
}

const AP = Uint8Array.from([192, 168, 4, 1]);

function query(name: string, type = TYPE_A, id = 0x4242, extra: Partial<Message> = {}): Uint8Array {
  return encodeMessage({ id, flags: 0x0100, questions: [{ name: name.split("."), type, unicastResponse: false }], answers: [], authorities: [], additionals: [], ...extra });
}

test("every A query is answered with the access point's address, AAAA with nothing, and what is not a query with silence", (t) => {
  const answer = decodeMessage(captiveAnswer(query("connectivitycheck.gstatic.com"), AP)!);
  t.is(answer.id, 0x4242);
  t.true((answer.flags & FLAG_RESPONSE) !== 0);
  t.is(answer.flags & 0x000f, 0, "NOERROR");
  t.is(answer.flags & 0x0100, 0x0100, "RD copied");
  t.deepEqual(answer.questions.map((q) => q.name.join(".")), ["connectivitycheck.gstatic.com"]);
  t.is(answer.answers.length, 1);
  t.is(answer.answers[0].name.join("."), "connectivitycheck.gstatic.com");
  t.deepEqual(answer.answers[0].data, { kind: "a", address: AP });
  t.true(answer.answers[0].ttl <= 60);
  const aaaa = decodeMessage(captiveAnswer(query("captive.apple.com", TYPE_AAAA), AP)!);
  t.is(aaaa.answers.length, 0);
  t.is(aaaa.flags & 0x000f, 0);

  const response = query("x.example", TYPE_A, 1, { flags: FLAG_RESPONSE });
  t.is(captiveAnswer(response, AP), undefined);
  t.is(captiveAnswer(query("x.example", TYPE_A, 1, { flags: 0x2800 }), AP), undefined, "an UPDATE is not a query");
  const two = encodeMessage({ id: 1, flags: 0, questions: [{ name: ["a"], type: TYPE_A, unicastResponse: false }, { name: ["b"], type: TYPE_A, unicastResponse: false }], answers: [], authorities: [], additionals: [] });
  t.is(captiveAnswer(two, AP), undefined);
  t.is(captiveAnswer(new Uint8Array(600), AP), undefined, "longer than a DNS query over UDP");
  let state = 99;
  const next = () => (state = (state * 1103515245 + 12345) >>> 0) >>> 24;
  for (let i = 0; i < 3000; i++) {
    const bytes = Uint8Array.from({ length: next() % 100 }, next);
    t.notThrows(() => captiveAnswer(bytes, AP));
  }
  // A compression loop in the question is refused by the codec, not followed.
  const loop = Uint8Array.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
  t.is(captiveAnswer(loop, AP), undefined);
});

async function ask(port: number, bytes: Uint8Array, timeoutMs = 1000): Promise<Message | undefined> {
  const socket = dgram.createSocket("udp4");
  try {
    return await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      socket.on("message", (m) => { clearTimeout(timer); resolve(decodeMessage(Uint8Array.from(m))); });
      socket.send(bytes, port, "127.0.0.1");
    });
  } finally {
    socket.close();
  }
}

async function setupPrinter(t: ExecutionContext, options: { stored?: boolean; lingerMs?: number; mdns?: boolean } = {}) {
  const storage = new MemoryStorage();
  if (options.stored) new SafeStorage(storage).write(WIFI_KEY, JSON.stringify({ ssid: "Home Wi-Fi", password: "correct horse battery" }));
  const network = new SimulatedWifi({ joinDelayMs: 50 });
  const logs: string[] = [];
  const printer = new Printer({
    ...nodeHal({ log: (_l, m) => logs.push(m), mdnsInterface: options.mdns ? "127.0.0.1" : undefined }), storage, network,
  }, { port: 0, name: "Kitchen <Printer>", wifiDnsPort: 0, wifiLingerMs: options.lingerMs ?? 60_000 });
  const port = await printer.start();
  t.teardown(() => printer.stop());
  return { printer, port, network, logs };
}

const PROBES: Array<[string, string, string]> = [
  ["Android", "connectivitycheck.gstatic.com", "/generate_204"],
  ["Apple", "captive.apple.com", "/hotspot-detect.html"],
  ["Windows", "www.msftconnecttest.com", "/connecttest.txt"],
  ["Windows (old)", "www.msftncsi.com", "/ncsi.txt"],
];

test("on the setup access point: DNS gives the printer for any name, and each system's probe is redirected to the setup page", async (t) => {
  const { printer, port } = await setupPrinter(t);
  await until("the captive DNS listens", () => printer.captiveDns?.running === true);
  const dnsPort = printer.captiveDns!.port!;
  for (const name of ["connectivitycheck.gstatic.com", "captive.apple.com", "www.msftconnecttest.com", "anything.example"]) {
    const answer = await ask(dnsPort, query(name));
    t.deepEqual(answer?.answers.map((a) => (a.data.kind === "a" ? [...a.data.address].join(".") : "?")), ["127.0.0.1"], name);
  }
  t.is(printer.captiveDns!.answered, 4);
  t.is(await ask(dnsPort, Uint8Array.from([1, 2, 3]), 300), undefined, "garbage gets no answer");

  const setup = `http://127.0.0.1:${port}/wifi`;
  for (const [system, host, probe] of PROBES) {
    const answer = await get(port, probe, { Host: host });
    t.is(answer.status, 302, system);
    t.is(answer.headers.location, setup, system);
    t.not(answer.body, "Success", system);
    t.is(answer.headers["cache-control"], "no-cache", "never answered from a cache after setup");
  }
  t.is(printer.captive.lastProbe, "Windows /ncsi.txt");
  // Any other site typed while on the access point lands there too; the printer's own names do not.
  t.is((await get(port, "/news", { Host: "example.com" })).headers.location, setup);
  t.is((await get(port, "/settings")).status, 200);
  const page = await fetch(setup);
  t.is(page.status, 200);
  t.regex(await page.text(), /Join a network/);
});

test("with the access point down (a stored network) probes meet the Host check and no DNS listens", async (t) => {
  const { printer, port, network } = await setupPrinter(t, { stored: true });
  t.is(network.status().accessPoint, undefined);
  t.is(printer.captiveDns?.running, false);
  for (const [system, host, probe] of PROBES) t.is((await get(port, probe, { Host: host })).status, 403, system);
  t.is((await get(port, "/generate_204")).status, 404, "the printer's own name: no such page");
});

test("after a join the access point lingers, then closes: the portal and its DNS stop with it", async (t) => {
  const { printer, port, network } = await setupPrinter(t, { lingerMs: 300 });
  await until("the captive DNS listens", () => printer.captiveDns?.running === true);
  const dnsPort = printer.captiveDns!.port!;
  t.true((await printer.wifi!.join("Home Wi-Fi", "correct horse battery")).ok);
  t.is((await get(port, "/generate_204", { Host: "connectivitycheck.gstatic.com" })).status, 302, "still up while it lingers");
  await until("the access point closes", () => network.status().accessPoint === undefined);
  t.false(printer.captiveDns!.running);
  t.is((await get(port, "/generate_204", { Host: "connectivitycheck.gstatic.com" })).status, 403);
  t.is(await ask(dnsPort, query("connectivitycheck.gstatic.com"), 300), undefined);
});

const CHROMIUM = "/usr/bin/chromium";

test("chromium sent to connectivitycheck.gstatic.com lands on the setup page, joins, and is told the printer's new address and names", async (t) => {
  if (!existsSync(CHROMIUM)) return t.fail(`${CHROMIUM} is not installed: apt-get install -y chromium`);
  const { printer, port } = await setupPrinter(t, { mdns: true });
  const profile = mkdtempSync(path.join(tmpdir(), "captive-chromium-"));
  // The rule stands in for the access point's DNS: the probe's name reaches the printer.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, timeout: 30_000,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
      `--host-resolver-rules=MAP connectivitycheck.gstatic.com 127.0.0.1:${port}`],
  });
  context.setDefaultTimeout(15_000);
  t.teardown(async () => { await context.close(); rmSync(profile, { recursive: true, force: true }); });
  const page = context.pages()[0] ?? await context.newPage();
  await page.goto("http://connectivitycheck.gstatic.com/generate_204");
  t.is(page.url(), `http://127.0.0.1:${port}/wifi`);
  await page.locator("#wifi-join").waitFor();
  await page.locator("label.net", { hasText: "Home Wi-Fi" }).locator("input").check();
  await page.fill("#password", "correct horse battery");
  await page.click("#wifi-join button[type=submit]");
  const done = page.locator("#wifi-done");
  await done.waitFor();
  t.is(await done.locator(".printer-name").innerText(), "Kitchen <Printer>");
  t.is(await done.locator("a.new-address").innerText(), `http://192.168.1.57:${port}/`);
  t.is(await done.locator("a.local-name").innerText(), `http://${printer.mdns!.hostName}.local:${port}/`);
});
