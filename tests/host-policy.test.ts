import test, { type ExecutionContext } from "ava";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { chromium } from "playwright-core";
import { HostPolicy, hostName, isAddressLiteral } from "../modules/http/host-policy.js";
import { MdnsResponder } from "../modules/dns/responder.js";
import { encodeMessage } from "../modules/ipp-codec/encode.js";
import { decodeMessage } from "../modules/ipp-codec/decode.js";
import { Operation, attr, mimeType, name } from "../modules/ipp-codec/values.js";
import { Printer } from "../modules/printer/printer.js";
import { nodeHal } from "../hosts/node/hal.js";
import { FrontPanel } from "../hosts/node/front-panel.js";
import { ConsolePanel } from "../hosts/node/panel.js";
import { startTestCloud } from "./helpers/cloud.js";
import { registerPrinter, startCloudPrinter, until } from "./helpers/cloud-printer.js";
import { FakeClock } from "./helpers/fake-clock.js";
import { FakeTcp, parseResponses } from "./helpers/fake-tcp.js";
import { FakeNetwork } from "./helpers/fake-udp.js";
import { ippRequest, statusName } from "./helpers/ipp.js";
import { encodeDocument, testPage } from "./helpers/pwg.js";
import { SeededRandom } from "./helpers/seeded-random.js";
import { TestEngine } from "./helpers/test-engine.js";

// Issue 26: no website reaches the printer through DNS rebinding. Every front
// end (Privet, IPP, the pages, the front panel) answers only to the
// printer's own names; a rebound name is refused before the front end runs.

const ALICE = "alice@example.com";
const OWNERS_NAME = "printer.lan";

// ---- the policy itself ----

test("hostName: lower case, no port, no final dot; a malformed Host is no host", (t) => {
  t.is(hostName("Printer.Local:8631"), "printer.local");
  t.is(hostName("printer.local."), "printer.local");
  t.is(hostName("[FE80::1]:631"), "[fe80::1]");
  t.is(hostName("127.0.0.1"), "127.0.0.1");
  for (const bad of ["", ":8631", "a:b", "a:8631:1", "[::1", "[::1]x", "a b:80x"]) t.is(hostName(bad), undefined, bad);
});

test("address literals: dotted IPv4 up to 255 and bracketed IPv6 (with a zone); not names that look like them", (t) => {
  for (const yes of ["127.0.0.1", "192.168.4.1", "255.255.255.255", "[::1]", "[fe80::1%25eth0]", "[::ffff:10.0.0.1]"]) t.true(isAddressLiteral(yes), yes);
  for (const no of ["256.0.0.1", "1.2.3", "1.2.3.4.5", "::1", "[::g]", "127.0.0.1.nip.io", "0x7f.1"]) t.false(isAddressLiteral(no), no);
});

test("HostPolicy: literals, localhost and the names given; any other name, even another .local one, is refused; no Host passes", (t) => {
  let names = ["lobby.local"];
  const policy = new HostPolicy(() => names);
  for (const yes of ["10.0.0.5:8631", "[::1]:8631", "localhost", "LOCALHOST.:80", "lobby.local", "Lobby.Local.:631", undefined]) t.true(policy.allows(yes), String(yes));
  for (const no of ["evil.example", "lobby.local.evil.example", "other.local", "localhost.evil.example", "lobby", "", "lobby.local:x"]) t.false(policy.allows(no), no);
  // Asked at each request: a rename counts at once.
  names = ["lobby-2.local", "Printer.LAN:8631"];
  t.true(policy.allows("lobby-2.local"));
  t.true(policy.allows("printer.lan"));
  t.false(policy.allows("lobby.local"));
});

// ---- every front end over real sockets ----

interface Answer { status: number; headers: Record<string, string>; body: Buffer }

// One request on its own connection, read to the close (HTTP/1.0 or Connection: close).
function exchange(port: number, head: string, body: Uint8Array = new Uint8Array()): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.setTimeout(15_000, () => socket.destroy(new Error(`no answer to ${head.split("\r\n")[0]}`)));
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => {
      const data = Buffer.concat(chunks);
      const end = data.indexOf("\r\n\r\n");
      if (end < 0) return reject(new Error(`no response head: ${data.toString("latin1")}`));
      const lines = data.subarray(0, end).toString("latin1").split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) headers[line.slice(0, line.indexOf(":")).toLowerCase()] = line.slice(line.indexOf(":") + 1).trim();
      let rest = data.subarray(end + 4);
      if (headers["content-length"] !== undefined) rest = rest.subarray(0, Number(headers["content-length"]));
      resolve({ status: Number(lines[0].split(" ")[1]), headers, body: rest });
    });
    socket.write(Buffer.concat([Buffer.from(head), body]));
  });
}

// The request line and Host as a browser (or an HTTP/1.0 client, with no Host) sends them.
function start(method: string, target: string, host: string | undefined): string {
  return host === undefined ? `${method} ${target} HTTP/1.0\r\n` : `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n`;
}

type Expect = "answered" | "refused";
interface Variant { label: string; host: (port: number) => string | undefined; expect: Expect; missing?: boolean }

function variants(printer: Printer): Variant[] {
  return [
    { label: "a foreign name", host: (port) => `evil.example:${port}`, expect: "refused" },
    { label: "another .local name", host: (port) => `other-printer.local:${port}`, expect: "refused" },
    { label: "its name under a foreign domain", host: () => `${printer.hostLabel()}.local.evil.example`, expect: "refused" },
    { label: "no Host (HTTP/1.0)", host: () => undefined, expect: "answered", missing: true },
    { label: "an IPv6 literal", host: (port) => `[::1]:${port}`, expect: "answered" },
    { label: "an IPv4 literal", host: (port) => `127.0.0.1:${port}`, expect: "answered" },
    { label: "its .local name", host: (port) => `${printer.hostLabel()}.local:${port}`, expect: "answered" },
    { label: "localhost", host: (port) => `localhost:${port}`, expect: "answered" },
    { label: "a name the owner added", host: () => OWNERS_NAME.toUpperCase(), expect: "answered" },
  ];
}

async function registeredPrinter(t: ExecutionContext) {
  const cloud = await startTestCloud();
  t.teardown(() => cloud.service.close());
  const engine = new TestEngine();
  const p = await startCloudPrinter({ url: cloud.service.baseUrl, engine, config: { allowedHosts: [OWNERS_NAME] } });
  t.teardown(() => p.stop());
  await registerPrinter(cloud, p, ALICE);
  await p.privet.info();
  return { p, engine };
}

const refusedText = /answers only to/;

test("every front end refuses a foreign Host with 403 before it runs, and answers literals, its .local name, localhost and the owner's names", async (t) => {
  const { p, engine } = await registeredPrinter(t);
  const { port, printer } = p;
  const token = p.privet.token;
  const doc = encodeDocument([testPage(40, 20, "sgray_8", 3)]);
  const front = new FrontPanel({ printer, panel: new ConsolePanel({ write: () => {} }), port: 0, pages: () => [] });
  await front.start();
  t.teardown(() => front.stop());
  const idle = () => until("the printer is idle", () => printer.spooler.active === undefined, 10_000);

  for (const v of variants(printer)) {
    const host = v.host(port);
    const refused = v.expect === "refused";
    const where = `${v.label} (${host ?? "none"})`;

    const info = await exchange(port, start("GET", "/privet/info", host) + "X-Privet-Token: \"\"\r\n\r\n");
    t.is(info.status, refused ? 403 : 200, `info, ${where}`);
    t.is(info.body.toString().includes("x-privet-token"), !refused, `info's token, ${where}`);
    if (refused) t.regex(info.body.toString(), refusedText);

    const jobsBefore = engine.jobs.length;
    const submitted = await exchange(port, start("POST", "/privet/printer/submitdoc?job_name=host%20test", host) +
      `X-Privet-Token: ${token}\r\nContent-Type: image/pwg-raster\r\nContent-Length: ${doc.length}\r\n\r\n`, doc);
    t.is(submitted.status, refused ? 403 : 200, `submitdoc, ${where}`);
    if (!refused) t.truthy(JSON.parse(submitted.body.toString()).job_id, `submitdoc's job, ${where}`);
    await idle();
    t.is(engine.jobs.length, jobsBefore + (refused ? 0 : 1), `submitdoc printed, ${where}`);

    const access = await exchange(port, start("GET", `/privet/accesstoken?user=${encodeURIComponent(ALICE)}`, host) + `X-Privet-Token: ${token}\r\n\r\n`);
    t.is(access.status, refused ? 403 : 200, `accesstoken, ${where}`);
    t.is(refused ? undefined : typeof JSON.parse(access.body.toString()).token, refused ? undefined : "string", `accesstoken's token, ${where}`);

    const printJob = encodeMessage(ippRequest(Operation.printJob, port, [attr("requesting-user-name", name("mallory")), attr("document-format", mimeType("image/pwg-raster"))]));
    const ippJobsBefore = engine.jobs.length;
    const ipp = await exchange(port, start("POST", "/ipp/print", host) + `Content-Type: application/ipp\r\nContent-Length: ${printJob.length + doc.length}\r\n\r\n`,
      Buffer.concat([printJob, doc]));
    t.is(ipp.status, refused ? 403 : 200, `IPP Print-Job, ${where}`);
    if (refused) t.regex(ipp.headers["content-type"], /^text\/plain/, "no IPP answer: it never became an IPP operation");
    else t.is(statusName(decodeMessage(new Uint8Array(ipp.body)).message), "0x0000", `IPP status, ${where}`);
    await idle();
    t.is(engine.jobs.length, ippJobsBefore + (refused ? 0 : 1), `IPP printed, ${where}`);

    // The pages and the front panel need a Host (a form's Origin is held against it), as before.
    const pageRefused = refused || v.missing === true;
    const page = await exchange(port, start("GET", "/", host) + "\r\n");
    t.is(page.status, pageRefused ? 403 : 200, `pages, ${where}`);
    t.is(page.body.toString().includes(printer.web.guard.token), !pageRefused && page.body.toString().includes("csrf"), `the pages' secret, ${where}`);

    const panelHost = v.host(front.port);
    const panel = await exchange(front.port, start("GET", "/", panelHost) + "\r\n");
    t.is(panel.status, pageRefused ? 403 : 200, `front panel, ${where}`);
  }
  // With --verbose the owner sees which name to add.
  t.true(p.logs.some((l) => /^debug http: refused GET \/privet\/info from 127\.0\.0\.1: Host evil\.example:\d+ is not one of this printer's names$/.test(l)), p.logs.join("\n"));
});

test("a Host naming the printer's old or new mDNS name follows a host-name conflict: the new one is refused before the rename and answered after it", async (t) => {
  const clock = new FakeClock();
  const link = new FakeNetwork(clock);
  const tcp = new FakeTcp();
  // Another device already holds "lobby" on the link.
  const other = new MdnsResponder(clock, new SeededRandom(9), () => {}, "lobby");
  other.add({ instance: "Other", type: "_http._tcp", port: 80, txt: [] });
  other.start(await link.udpFor("10.0.0.2").openMdns((bytes, from) => other.receive(bytes, from)));
  clock.advance(5000);

  const printer = new Printer({ ...nodeHal({ log: () => {}, engine: new TestEngine() }), clock, tcp, udp: link.udpFor("10.0.0.1") }, { port: 8631, hostName: "lobby" });
  const started = printer.start();
  clock.advance(1);
  await started;
  const info = (host: string) => {
    const c = tcp.accept("10.0.0.9");
    c.send(`GET /privet/info HTTP/1.1\r\nHost: ${host}\r\nX-Privet-Token: ""\r\n\r\n`);
    clock.advance(1);
    return parseResponses(c.output())[0].status;
  };
  t.is(printer.mdns?.hostName, "lobby", "still probing its configured name");
  t.is(info("lobby.local:8631"), 200);
  t.is(info("lobby-2.local:8631"), 403, "not its name yet");

  clock.advance(10_000);
  t.is(printer.mdns?.hostName, "lobby-2", "renamed by the conflict");
  t.is(info("lobby-2.local:8631"), 200, "the name it announces now");
  t.is(info("LOBBY-2.local.:8631"), 200);
  t.is(info("lobby.local:8631"), 200, "the configured name stays accepted");
  t.is(info("lobby-3.local:8631"), 403);
  t.true(printer.ownHostNames().includes("lobby-2.local"));
  const stopped = printer.stop();
  clock.advance(1000);
  await stopped;
});

// ---- DNS rebinding in a real browser ----

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--host-resolver-rules=MAP attacker.test 127.0.0.1"];

// What a rebinding attacker's DNS does, at the TCP level: attacker.test:PORT
// first leads to the attacker's server, then (the short TTL expired) to the
// printer. The attacker's server closes every connection, so the browser's
// later requests open new ones and land on the printer, same-origin.
async function rebindingFront(t: ExecutionContext, attackerPort: number): Promise<{ port: number; rebind(to: number): void }> {
  let target = attackerPort;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    sockets.add(inbound);
    // The name is "resolved" when a request first comes on the connection,
    // not when it opened: Chromium opens spare connections ahead of need,
    // and one opened before the rebind must still reach the printer.
    inbound.once("data", (first) => {
      inbound.pause();
      const outbound = net.connect(target, "127.0.0.1", () => {
        outbound.write(first);
        inbound.pipe(outbound).pipe(inbound);
        inbound.resume();
      });
      sockets.add(outbound);
      const drop = () => { inbound.destroy(); outbound.destroy(); sockets.delete(inbound); sockets.delete(outbound); };
      inbound.on("close", drop);
      outbound.on("error", drop).on("close", drop);
    });
    inbound.on("error", () => { inbound.destroy(); sockets.delete(inbound); });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }));
  return { port: (server.address() as AddressInfo).port, rebind: (to) => { target = to; } };
}

function attackPage(doc: Uint8Array, ipp: Uint8Array): string {
  return `<!doctype html><title>cute cats</title><script>
const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
window.attack = async () => {
  const info = await fetch("/privet/info", { headers: { "X-Privet-Token": '""' } });
  const infoText = await info.text();
  let token = "none";
  try { token = JSON.parse(infoText)["x-privet-token"] ?? "none"; } catch {}
  const submit = await fetch("/privet/printer/submitdoc?job_name=rebound", { method: "POST",
    headers: { "X-Privet-Token": token, "Content-Type": "image/pwg-raster" }, body: bytes("${Buffer.from(doc).toString("base64")}") });
  const ipp = await fetch("/ipp/print", { method: "POST", headers: { "Content-Type": "application/ipp" }, body: bytes("${Buffer.from(ipp).toString("base64")}") });
  return { info: info.status, infoText, token, submit: submit.status, submitText: await submit.text(), ipp: ipp.status };
};
</script>`;
}

test("in chromium, a page loaded from a name rebound to the printer can neither read /privet/info's token nor print (Privet or IPP); the same page would, were the name the printer's", async (t) => {
  if (!existsSync(CHROMIUM)) return void t.fail(`${CHROMIUM} is not installed: apt-get install -y chromium`);
  const cloud = await startTestCloud();
  t.teardown(() => cloud.service.close());
  // Local printing exposed needs registration; the two printers are registered alike.
  const engine = new TestEngine();
  const guarded = await startCloudPrinter({ url: cloud.service.baseUrl, engine });
  t.teardown(() => guarded.stop());
  await registerPrinter(cloud, guarded, ALICE);
  // The control: the attacker's name is one the owner allowed, as if the check were not there.
  const openEngine = new TestEngine();
  const open = await startCloudPrinter({ url: cloud.service.baseUrl, engine: openEngine, config: { allowedHosts: ["attacker.test"] } });
  t.teardown(() => open.stop());
  await registerPrinter(cloud, open, "bob@example.com");

  const doc = encodeDocument([testPage(40, 20, "sgray_8", 5)]);
  const ipp = encodeMessage(ippRequest(Operation.printJob, 631, [attr("requesting-user-name", name("mallory")), attr("document-format", mimeType("image/pwg-raster"))]));
  const html = attackPage(doc, Buffer.concat([ipp, doc]));
  const attacker = http.createServer((_req, res) => res.writeHead(200, { "Content-Type": "text/html", Connection: "close" }).end(html));
  await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => { attacker.closeAllConnections(); attacker.close(() => resolve()); }));
  const attackerPort = (attacker.address() as AddressInfo).port;

  const profile = mkdtempSync(path.join(tmpdir(), "rebind-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30_000 });
  context.setDefaultTimeout(15_000);
  t.teardown(async () => { await context.close(); rmSync(profile, { recursive: true, force: true }); });
  const page = context.pages()[0] ?? await context.newPage();

  type Result = { info: number; infoText: string; token: string; submit: number; submitText: string; ipp: number };
  const attack = async (printerPort: number): Promise<Result> => {
    const front = await rebindingFront(t, attackerPort);
    await page.goto(`http://attacker.test:${front.port}/`);
    t.is(await page.title(), "cute cats", "the page came from the attacker");
    front.rebind(printerPort);
    return await page.evaluate("window.attack()") as Result;
  };

  const blocked = await attack(guarded.port);
  t.is(blocked.info, 403);
  t.regex(blocked.infoText, refusedText, "the refusal came from the printer itself");
  t.is(blocked.token, "none", "no X-Privet-Token reached the page");
  t.is(blocked.submit, 403);
  t.is(blocked.ipp, 403);
  t.is(engine.jobs.length, 0, "nothing printed");
  t.is(guarded.printer.jobs.list().length, 0);

  const control = await attack(open.port);
  t.is(control.info, 200, "without the check the rebound page reads /privet/info");
  t.not(control.token, "none");
  t.is(control.submit, 200, control.submitText);
  t.is(control.ipp, 200);
  await until("the control's jobs printed", () => openEngine.jobs.length === 2 && open.printer.spooler.active === undefined, 10_000);
});
