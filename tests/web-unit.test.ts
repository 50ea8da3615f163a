import test from "ava";
import type { TcpConnectionEvents } from "../modules/hal/tcp.js";
import { HttpServer } from "../modules/http/server.js";
import type { ResponseWriter } from "../modules/http/response.js";
import { JobStore } from "../modules/jobs/store.js";
import { Printer } from "../modules/printer/printer.js";
import { decodeForm, FormError } from "../modules/web/form.js";
import { escapeHtml, safeHref } from "../modules/web/html.js";
import { sendPage, type Section } from "../modules/web/page.js";
import { MemoryStorage, nodeHal } from "../hosts/node/hal.js";
import { rawRequest } from "./helpers/client.js";
import { FakeClock } from "./helpers/fake-clock.js";
import { FakeConnection, FakeTcp } from "./helpers/fake-tcp.js";
import { SeededRandom } from "./helpers/seeded-random.js";
import { FakeNetwork } from "./helpers/fake-udp.js";
import { FLAG_RESPONSE, TYPE_TXT } from "../modules/dns/message.js";
import { NullEngine } from "../modules/print/null-engine.js";
import { OFFICE_CAPABILITIES } from "../modules/print/office-capabilities.js";
import { fakeResolver, parseResponses } from "./helpers/fake-tcp.js";
import { privetTxt } from "../modules/privet/info.js";

// The pieces under the pages, without a browser: hostile form bodies, the
// escaping, the streamed (chunked) responses with backpressure, and the
// guard's rules on real sockets.

const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

test("form bodies decode +, escapes and UTF-8; the first of a repeated name wins; malformed ones are errors", (t) => {
  t.deepEqual(decodeForm(bytes("name=Front+desk%20%3Cprinter%3E&name=other&csrf=ab&empty=&flag")), { name: "Front desk <printer>", csrf: "ab", empty: "", flag: "" });
  t.is(decodeForm(bytes("n=%C3%A9t%C3%A9")).n, "été");
  t.is(decodeForm(bytes("n=%FF%FE")).n, "\ufffd\ufffd", "bad UTF-8 becomes replacement characters");
  t.throws(() => decodeForm(bytes("n=%G1")), { instanceOf: FormError });
  t.throws(() => decodeForm(bytes("n=%4")), { instanceOf: FormError });
  t.throws(() => decodeForm(Uint8Array.from([0x6e, 0x3d, 0xc3, 0xa9])), { instanceOf: FormError }, "raw non-ASCII bytes are not urlencoded");
  t.throws(() => decodeForm(bytes(Array.from({ length: 40 }, (_, i) => `f${i}=1`).join("&"))), { instanceOf: FormError });
  t.deepEqual(decodeForm(new Uint8Array(0)), {});
});

test("text is escaped for content and attributes; only http(s) links are shown", (t) => {
  t.is(escapeHtml(`<a href="x" onclick='y'>&amp;</a>`), "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;");
  t.is(safeHref("http://127.0.0.1:8632/cloudprint/claimprinter.html?token=a&b=1"), "http://127.0.0.1:8632/cloudprint/claimprinter.html?token=a&amp;b=1");
  t.is(safeHref("javascript:alert(1)"), undefined);
  t.is(safeHref("http://x/\"onmouseover=1"), undefined);
});

// A connection whose send buffer fills after every write until the test drains it.
class SlowConnection extends FakeConnection {
  ev: TcpConnectionEvents | undefined;
  writes = 0;
  override setEvents(events: TcpConnectionEvents): void {
    this.ev = events;
    super.setEvents(events);
  }
  override write(data: Uint8Array): boolean {
    super.write(data);
    this.writes++;
    return false;
  }
}

function decodeChunked(text: string): { body: string; rest: string; complete: boolean } {
  let body = "";
  let rest = text;
  for (let guard = 0; guard < 10_000; guard++) {
    const line = rest.indexOf("\r\n");
    if (line < 0) return { body, rest, complete: false };
    const size = parseInt(rest.slice(0, line), 16);
    if (size === 0) return { body, rest: rest.slice(line + 4), complete: true };
    body += rest.slice(line + 2, line + 2 + size);
    rest = rest.slice(line + 4 + size);
  }
  throw new Error("too many chunks");
}

function section(render: (w: ResponseWriter) => void): Section {
  return { render };
}

function pageServer(tcp: FakeTcp, sections = 20): HttpServer {
  const server = new HttpServer(tcp, new FakeClock(), () => {}, { port: 80, host: "0.0.0.0" }, (request, response) => {
    sendPage(response, { title: "T", printerName: "P", here: "/", nav: [["/", "Status"]] },
      Array.from({ length: sections }, (_, i) => section((w) => w.write(`<p>${request.path} section ${i} ${"x".repeat(600)}</p>`))));
  });
  return server;
}

test("a page goes out in chunks, pipelined requests are answered in order, and HTTP/1.0 gets a body ended by closing", async (t) => {
  const tcp = new FakeTcp();
  await pageServer(tcp).start();
  const c = tcp.accept();
  c.send("GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\n");
  let out = c.takeOutput();
  const heads = out.split("HTTP/1.1 200 OK\r\n");
  t.is(heads.length, 3, "two responses");
  const first = out.slice(out.indexOf("\r\n\r\n") + 4);
  t.regex(out, /Transfer-Encoding: chunked/);
  const one = decodeChunked(first);
  t.true(one.complete);
  t.true(one.body.startsWith("<!doctype html>"));
  t.true(one.body.includes("/one section 19"));
  t.false(one.body.includes("/two"));
  t.true(one.body.endsWith("</html>\n"));
  t.true(one.rest.startsWith("HTTP/1.1 200 OK"));
  const two = decodeChunked(one.rest.slice(one.rest.indexOf("\r\n\r\n") + 4));
  t.true(two.complete && two.body.includes("/two section 19"));
  t.false(c.isClosed, "keep-alive");

  const old = tcp.accept();
  old.send("GET /old HTTP/1.0\r\n\r\n");
  out = old.takeOutput();
  t.false(/Transfer-Encoding/.test(out));
  t.regex(out, /Connection: close/);
  t.true(out.includes("/old section 19") && out.endsWith("</html>\n"));
  t.true(old.ended);
});

test("a section that throws cuts the connection instead of ending a page with a hole", async (t) => {
  const tcp = new FakeTcp();
  const server = new HttpServer(tcp, new FakeClock(), () => {}, { port: 80, host: "0.0.0.0" }, (_request, response) => {
    sendPage(response, { title: "T", printerName: "P", here: "/", nav: [] }, [
      section((w) => w.write("<p>one</p>")), section(() => { throw new Error("broken"); }), section((w) => w.write("<p>three</p>")),
    ]);
  });
  await server.start();
  const c = tcp.accept();
  c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  t.true(c.destroyed);
  t.true(c.output().includes("<p>one</p>"));
  t.false(c.output().includes("three"));
  t.false(c.output().endsWith("0\r\n\r\n"), "no last chunk: the client sees a cut response");
});

test("a full socket stops the page until it drains, and a reader that never drains is closed after the idle timeout", async (t) => {
  const tcp = new FakeTcp();
  const clock = new FakeClock();
  const server = new HttpServer(tcp, clock, () => {}, { port: 80, host: "0.0.0.0", idleTimeoutMs: 30_000 }, (request, response) => {
    sendPage(response, { title: "T", printerName: "P", here: "/", nav: [] },
      Array.from({ length: 5 }, (_, i) => section((w) => w.write(`<p>section ${i}</p>`))));
  });
  await server.start();
  const slow = new SlowConnection();
  (tcp as any).onConnection(slow);
  slow.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  const afterFirst = slow.writes;
  t.false(slow.output().includes("section 0"), "only the head section went out before the socket filled");
  for (let i = 0; i < 5; i++) slow.ev!.drain();
  t.true(slow.writes > afterFirst);
  t.true(slow.output().includes("section 4"));
  t.false(slow.output().endsWith("0\r\n\r\n"), "the end waits for one more drain");
  slow.ev!.drain();
  t.true(slow.output().endsWith("0\r\n\r\n"));

  const stuck = new SlowConnection();
  (tcp as any).onConnection(stuck);
  stuck.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  clock.advance(30_001);
  t.true(stuck.destroyed, "a stalled reader does not keep its slot");
});

async function startPrinter(t: any, storage = new MemoryStorage()) {
  const printer = new Printer({ ...nodeHal({ log: () => {} }), storage }, { port: 0, name: "Configured name" });
  const port = await printer.start();
  t.teardown(() => printer.stop());
  return { printer, port, storage };
}

function post(port: number, path: string, body: string, headers: Record<string, string>) {
  let head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  return rawRequest(port, head + "\r\n" + body);
}

test("a POST needs the per-boot secret and our own origin; a good one is saved through the journal and kept across a restart", async (t) => {
  const { printer, port, storage } = await startPrinter(t);
  const token = printer.web.guard.token;
  t.regex(token, /^[0-9a-f]{32}$/);
  const own = `http://127.0.0.1:${port}`;
  const body = (csrf: string) => `name=Renamed&description=2nd+floor&local_discovery=1&local_printing=1&csrf=${csrf}`;

  t.is((await post(port, "/settings", body("0".repeat(32)), { Origin: own })).status, 403, "same origin, wrong secret");
  t.is((await post(port, "/settings", body(""), { Origin: own })).status, 403, "no secret");
  t.is((await post(port, "/settings", body(token), {})).status, 403, "neither Origin nor Referer");
  t.is((await post(port, "/settings", body(token), { Origin: "null" })).status, 403, "an opaque origin (a sandboxed frame, a data: page)");
  t.is((await post(port, "/settings", body(token), { Origin: `http://127.0.0.1:${port + 1}` })).status, 403, "another port is another origin");
  t.is((await post(port, "/settings", body(token), { Referer: `http://127.0.0.1:${port}.evil.example/` })).status, 403, "a Referer that only starts like ours");
  t.is(printer.device.name, "Configured name");

  const ok = await post(port, "/settings", body(token), { Referer: `${own}/settings` });
  t.is(ok.status, 303);
  t.is(ok.headers.location, "/settings?done=saved");
  t.is(printer.device.name, "Renamed");
  t.is(printer.device.description, "2nd floor");
  t.is((await post(port, "/settings", `name=&csrf=${token}`, { Origin: own })).status, 400, "an empty name is refused");
  t.is((await post(port, "/settings", `name=${"n".repeat(65)}&csrf=${token}`, { Origin: own })).status, 400);
  t.is((await post(port, "/settings", "x".repeat(3000), { Origin: own })).status, 400, "an oversized form");
  const json = await rawRequest(port, `POST /settings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nOrigin: ${own}\r\nConnection: close\r\n\r\n{}`);
  t.is(json.status, 400, "only urlencoded forms");
  t.is((await post(port, "/settings", body(token), { Origin: own, Host: "rebound.example" })).status, 403);

  // A chunked form is read up to the same limit.
  const chunked = (body: string) => rawRequest(port, `POST /settings HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: ${own}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
    `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`);
  t.is((await chunked(`name=Chunked&local_discovery=1&local_printing=1&csrf=${token}`)).status, 303);
  t.is(printer.device.name, "Chunked");
  t.is((await chunked(`name=Big&csrf=${token}&pad=${"p".repeat(3000)}`)).status, 400);
  t.is(printer.device.name, "Chunked");
  // Unticked local_discovery turns the Privet API off, not the pages.
  t.is((await post(port, "/settings", `name=Renamed&csrf=${token}`, { Origin: own })).status, 303);
  t.false(printer.localDiscovery);
  t.is(printer.device.name, "Renamed");
  t.is((await rawRequest(port, "GET /privet/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Privet-Token: \"\"\r\nConnection: close\r\n\r\n")).status, 404);
  t.is((await post(port, "/settings", `name=Renamed&local_discovery=1&local_printing=1&csrf=${token}`, { Origin: own })).status, 303);
  t.true(printer.localDiscovery);

  await printer.stop();
  const again = await startPrinter(t, storage);
  t.is(again.printer.device.name, "Renamed", "the name is kept across a restart");
  t.not(again.printer.web.guard.token, token, "a new secret every boot");
  t.is((await post(again.port, "/settings", body(token), { Origin: `http://127.0.0.1:${again.port}` })).status, 403, "the last boot's secret is refused");
  again.printer.factoryReset();
  t.is(again.printer.device.name, "Configured name", "a factory reset brings the configured name back");
  t.deepEqual(privetTxt(again.printer.device).find(([k]) => k === "ty"), ["ty", "Configured name"]);
});

test("other paths and methods: a 404 page, 405, and the router leaves /privet/ to Privet", async (t) => {
  const { port } = await startPrinter(t);
  const missing = await rawRequest(port, "GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  t.is(missing.status, 404);
  t.regex(missing.headers["content-type"], /text\/html/);
  t.regex(missing.headers["content-security-policy"], /frame-ancestors 'none'/);
  for (const key of ["__proto__", "constructor", "toString"]) {
    const odd = await fetch(`http://127.0.0.1:${port}/settings?done=${key}`);
    t.is(odd.status, 200);
    const text = await odd.text();
    t.true(text.endsWith("</html>\n") && !text.includes(`class="notice"`), `done=${key} finds no notice and breaks nothing`);
  }
  t.is((await rawRequest(port, "PUT / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")).status, 405);
  t.is((await rawRequest(port, "GET /privet/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Privet-Token: \"\"\r\nConnection: close\r\n\r\n")).status, 404);
  const info = await rawRequest(port, "GET /privet/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Privet-Token: \"\"\r\nConnection: close\r\n\r\n");
  t.is(JSON.parse(info.body).name, "Configured name");
});

test("the job list is every job still known, newest first", (t) => {
  const clock = new FakeClock();
  const store = new JobStore(clock, new SeededRandom(1));
  const a = store.create(undefined)!;
  clock.advance(10);
  const b = store.createUnslotted();
  clock.advance(10);
  const c = store.create(undefined)!;
  b.state = "done";
  store.finished(b);
  t.deepEqual(store.list().map((j) => j.id), [c.id, b.id, a.id]);
  clock.advance(11 * 60_000);
  t.deepEqual(store.list().map((j) => j.id), [], "expired drafts and states are gone");
});

test("a rename posted from the page renames the mDNS instance and re-announces TXT on the multicast link", async (t) => {
  const clock = new FakeClock();
  const network = new FakeNetwork(clock);
  const tcp = new FakeTcp();
  const printer = new Printer({ clock, random: new SeededRandom(5), storage: new MemoryStorage(), tcp, resolver: fakeResolver(), udp: network.udpFor("10.0.0.5"), log: () => {}, engine: new NullEngine(OFFICE_CAPABILITIES) },
    { port: 8631, name: "Office" });
  await printer.start();
  clock.advance(3000);
  const mark = network.log.length;
  const body = `name=Lobby+%C3%A9&description=ground&local_discovery=1&local_printing=1&csrf=${printer.web.guard.token}`;
  const c = tcp.accept("10.0.0.9");
  c.send(`POST /settings HTTP/1.1\r\nHost: 10.0.0.5:8631\r\nOrigin: http://10.0.0.5:8631\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  await new Promise((r) => setImmediate(r));
  t.is(parseResponses(c.output())[0].status, 303);
  clock.advance(3000);
  const txt = network.log.slice(mark).filter((d) => d.message.flags & FLAG_RESPONSE).flatMap((d) => d.message.answers)
    .filter((r) => r.type === TYPE_TXT && r.ttl > 0)
    .map((r) => Object.fromEntries((r.data as any).strings.map((s: Uint8Array) => Buffer.from(s).toString().split("=", 2))));
  // Privet's TXT (the one with url=); IPP's ty is the make and model.
  const privetTxt = txt.find((pairs) => "url" in pairs);
  t.truthy(privetTxt, "Privet's TXT re-announced");
  t.is(privetTxt!.ty, "Lobby é");
  t.is(privetTxt!.note, "ground");
  // The instance follows the name: its records are announced under the new name.
  const { TYPE_SRV } = await import("../modules/dns/message.js");
  const srvNames = network.log.slice(mark).filter((d) => d.message.flags & FLAG_RESPONSE).flatMap((d) => d.message.answers)
    .filter((r) => r.type === TYPE_SRV && r.ttl > 0).map((r) => r.name[0]);
  t.true(srvNames.includes("Lobby é"), JSON.stringify(srvNames));
  t.is(printer.mdns!.services.find((sv) => sv.type === "_privet._tcp")!.instanceName, "Lobby é");
  // IPP's service is named after the printer as well, and follows it.
  t.is(printer.mdns!.services.find((sv) => sv.type === "_ipp._tcp")!.instanceName, "Lobby é");
  const renamed = new Set(network.log.slice(mark).filter((d) => d.message.flags & FLAG_RESPONSE).flatMap((d) => d.message.answers)
    .filter((r) => r.type === TYPE_SRV && r.ttl > 0 && r.name[0] === "Lobby é").map((r) => r.name[1]));
  t.deepEqual([...renamed].sort(), ["_ipp", "_privet"], "both services announced under the new name");
  const stopped = printer.stop();
  clock.advance(200);
  await stopped;
});
