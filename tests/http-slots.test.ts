import test from "ava";
import * as net from "node:net";
import { HttpServer, type HttpHandler, type HttpServerOptions } from "../modules/http/server.js";
import { Printer } from "../modules/printer/printer.js";
import { nodeHal } from "../hosts/node/hal.js";
import { rawRequest } from "./helpers/client.js";
import { FakeClock } from "./helpers/fake-clock.js";
import { startFakeServer } from "./helpers/fake-server.js";
import { FakeTcp, parseResponses } from "./helpers/fake-tcp.js";
import { TestEngine } from "./helpers/test-engine.js";

// A few hostile or careless connections must not keep every
// other client out. Unit tests of each rule on the fake clock and TCP, then
// both attacks over real sockets against the Node host.

// Answers at once, except /hold (never answered: a slot busy with real work)
// and /upload (reads its body slowly).
const handler: HttpHandler = (request, response) => {
  if (request.path === "/hold") return;
  if (request.path === "/upload") return request.readBody({ data() {}, end() { response.json({}); }, abort() {} });
  response.json({ path: request.path });
};

const setup = (options: Partial<HttpServerOptions> = {}) => startFakeServer(handler, options);

test("a head has a total deadline from its first byte, however steadily it trickles in", async (t) => {
  const { tcp, clock, server } = await setup({ idleTimeoutMs: 1000, headTimeoutMs: 3000 });
  const slow = tcp.accept();
  clock.advance(200);
  slow.send("GET /privet/info HTTP/1.1\r\n");
  // A byte every 500 ms never trips the 1 s idle timeout.
  for (let i = 0; i < 5; i++) {
    clock.advance(500);
    slow.send("X");
  }
  t.false(slow.isClosed);
  clock.advance(499);
  t.false(slow.isClosed, "2999 ms after its first byte");
  clock.advance(1);
  const [response] = parseResponses(slow.output());
  t.is(response.status, 408);
  t.regex(response.body, /longer than 3000 ms/);
  t.true(slow.ended);
  t.is(server.connectionCount, 0);
  t.is(clock.pending, 0);
});

test("the head deadline starts again for each request on a kept connection", async (t) => {
  const { tcp, clock } = await setup({ idleTimeoutMs: 10_000, headTimeoutMs: 1000 });
  const c = tcp.accept();
  c.send("GET /one HTTP/1.1\r\n\r\n");
  // Idle between requests is bounded by the idle timeout, not the head's.
  clock.advance(5000);
  t.false(c.isClosed);
  c.send("GET /two HTTP/1.1\r\n");
  clock.advance(999);
  t.false(c.isClosed);
  clock.advance(1);
  t.deepEqual(parseResponses(c.output()).map((r) => r.status), [200, 408]);
});

test("an empty line after a request (old clients send CRLF after a POST body) leaves the connection idle", async (t) => {
  const { tcp, clock } = await setup({ idleTimeoutMs: 5000, headTimeoutMs: 1000, maxConnections: 1, maxConnectionsPerAddress: 1 });
  const c = tcp.accept();
  c.send("POST /x HTTP/1.1\r\nContent-Length: 2\r\n\r\nok\r\n");
  clock.advance(2000);
  t.false(c.isClosed, "no head deadline for an empty line");
  const next = tcp.accept();
  t.true(c.destroyed, "and it is idle, so a newcomer may take its slot");
  t.deepEqual(parseResponses(c.output()).map((r) => r.status), [200]);
  t.false(next.isClosed);
});

test("a connection that sends nothing gets a shorter first-byte deadline, closed without a word", async (t) => {
  const { tcp, clock, server } = await setup({ idleTimeoutMs: 30_000, firstByteTimeoutMs: 2000, headTimeoutMs: 10_000 });
  const silent = tcp.accept();
  const late = tcp.accept();
  clock.advance(1900);
  late.send("G");
  clock.advance(100);
  t.true(silent.destroyed);
  t.is(silent.output(), "");
  t.false(late.isClosed, "a first byte in time moves it to the head deadline");
  clock.advance(9899);
  t.false(late.isClosed);
  clock.advance(1);
  t.is(parseResponses(late.output())[0].status, 408);
  // Never later than the idle timeout, should that be the shorter.
  const short = await setup({ idleTimeoutMs: 500, firstByteTimeoutMs: 2000 });
  const quiet = short.tcp.accept();
  short.clock.advance(500);
  t.true(quiet.destroyed);
  t.is(server.connectionCount, 0);
});

test("at the limit a newcomer takes the slot of the longest-idle connection between requests", async (t) => {
  const { tcp, clock, server } = await setup({ maxConnections: 3, maxConnectionsPerAddress: 3 });
  const kept = tcp.accept();
  kept.send("GET /a HTTP/1.1\r\n\r\n");
  clock.advance(1000);
  const silent = tcp.accept();
  clock.advance(1000);
  // From here kept has been idle since 2000, silent since 1000.
  kept.send("GET /b HTTP/1.1\r\n\r\n");
  const busy = tcp.accept();
  busy.send("GET /hold HTTP/1.1\r\n\r\n");
  clock.advance(1000);
  t.is(server.connectionCount, 3);
  const first = tcp.accept();
  t.true(silent.destroyed, "silent was idle longest");
  t.false(kept.isClosed);
  t.false(first.isClosed);
  first.send("GET /first HTTP/1.1\r\n\r\n");
  t.is(parseResponses(first.output())[0].status, 200);
  clock.advance(1000);
  const second = tcp.accept();
  t.true(kept.destroyed);
  t.deepEqual(parseResponses(kept.output()).map((r) => r.status), [200, 200], "nothing more is written to an idle connection");
  t.false(busy.isClosed, "a request waiting for its handler is real work");
  t.false(first.isClosed);
  t.false(second.isClosed);
  t.is(server.connectionCount, 3);
});

test("a connection too new to have sent anything is taken last, after slow heads", async (t) => {
  const { tcp, clock, server } = await setup({ maxConnections: 2, maxConnectionsPerAddress: 2 });
  const slow = tcp.accept();
  slow.send("GET /x HTTP/1.1\r\n");
  clock.advance(100);
  const fresh = tcp.accept();
  clock.advance(50);
  // A burst: the first newcomer takes the slow head's slot...
  const burst1 = tcp.accept();
  t.is(parseResponses(slow.output())[0].status, 408);
  t.false(fresh.isClosed, "a connection 50 ms old may have its request on the way");
  // ...and with nothing else left, the oldest of the new ones gives way.
  const burst2 = tcp.accept();
  t.true(fresh.destroyed);
  t.false(burst1.isClosed);
  t.false(burst2.isClosed);
  t.is(server.connectionCount, 2);
});

test("with no idle slot, the head that has been arriving longest gives way with a 408", async (t) => {
  const { tcp, clock, server } = await setup({ maxConnections: 3, maxConnectionsPerAddress: 3 });
  const heads = [tcp.accept(), tcp.accept(), tcp.accept()];
  for (const c of [heads[1], heads[0], heads[2]]) {
    c.send("GET /privet/info HTTP/1.1\r\n");
    clock.advance(10);
  }
  const newcomer = tcp.accept();
  t.true(heads[1].ended, "its head started first");
  t.is(parseResponses(heads[1].output())[0].status, 408);
  t.false(heads[0].isClosed);
  newcomer.send("GET /privet/info HTTP/1.1\r\n\r\n");
  t.is(parseResponses(newcomer.output())[0].status, 200);
  t.is(server.connectionCount, 3);
});

test("503 only when every slot is busy with real work: a body, a handler, a discard", async (t) => {
  const refuseEarly: HttpHandler = (request, response) => (request.path === "/refuse" ? response.json({ no: true }) : handler(request, response));
  const tcp = new FakeTcp();
  const clock = new FakeClock();
  const server = new HttpServer(tcp, clock, () => {}, { maxConnections: 3, maxConnectionsPerAddress: 3 }, refuseEarly);
  await server.start();
  const body = tcp.accept();
  body.send("POST /upload HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc");
  const held = tcp.accept();
  held.send("GET /hold HTTP/1.1\r\n\r\n");
  const discarding = tcp.accept();
  discarding.send("POST /refuse HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc");
  const refused = tcp.accept();
  const [answer] = parseResponses(refused.output());
  t.is(answer.status, 503);
  t.is(answer.headers["retry-after"], "1");
  // Its request is read (and dropped) for a moment before the close, so the
  // client's socket does not answer it with a reset that loses the 503.
  t.false(refused.isClosed);
  refused.send("GET / HTTP/1.1\r\n\r\n");
  clock.advance(500);
  t.true(refused.ended);
  for (const c of [body, held, discarding]) t.false(c.isClosed);
});

test("one address holds at most its share of the slots and displaces only its own; loopback is exempt", async (t) => {
  const { tcp, server } = await setup({ maxConnections: 4 });
  t.is(server.options.maxConnectionsPerAddress, undefined, "the default share is half the slots");
  const otherIdle = tcp.accept("192.0.2.20");
  const a1 = tcp.accept("192.0.2.10");
  const a2 = tcp.accept("192.0.2.10");
  // a3 over its share displaces a1 (its own longest idle), not the older otherIdle.
  const a3 = tcp.accept("192.0.2.10");
  t.true(a1.destroyed);
  t.false(otherIdle.isClosed);
  t.false(a3.isClosed);
  a2.send("GET /hold HTTP/1.1\r\n\r\n");
  a3.send("POST /upload HTTP/1.1\r\nContent-Length: 10\r\n\r\n");
  const a4 = tcp.accept("192.0.2.10");
  const [answer] = parseResponses(a4.output());
  t.is(answer.status, 503);
  t.regex(answer.body, /from your address/);
  // Another host still gets in, though the server has room for only one more.
  const b = tcp.accept("192.0.2.30");
  t.false(b.isClosed);
  t.is(server.connectionCount, 4);

  const local = await setup({ maxConnections: 4 });
  const loopback = [1, 2, 3, 4].map(() => local.tcp.accept("127.0.0.1"));
  for (const c of loopback) c.send("GET /hold HTTP/1.1\r\n\r\n");
  t.true(loopback.every((c) => !c.isClosed), "the desktop's own tools and the tests are not capped");
  const mapped = await setup({ maxConnections: 2 });
  const six = [1, 2].map(() => mapped.tcp.accept("::ffff:127.0.0.1"));
  for (const c of six) c.send("GET /hold HTTP/1.1\r\n\r\n");
  t.true(six.every((c) => !c.isClosed));
});

// ---- both attacks over real sockets against the Node host ----

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Hostile connections that reconnect whenever the printer closes one, so the
// attack lasts as long as the test wants rather than one timeout.
class Attack {
  private readonly sockets = new Set<net.Socket>();
  private stopped = false;
  opened = 0;
  closedByPrinter = 0;
  answers = new Map<string, number>();

  constructor(private readonly port: number, private readonly count: number, private readonly kind: "slowloris" | "silent", private readonly reconnectMs = 100) {}

  start(): void {
    for (let i = 0; i < this.count; i++) this.open();
  }

  private open(): void {
    if (this.stopped) return;
    this.opened++;
    const socket = net.connect(this.port, "127.0.0.1");
    this.sockets.add(socket);
    let drip: NodeJS.Timeout | undefined;
    socket.on("connect", () => {
      if (this.kind !== "slowloris") return;
      socket.write("GET /privet/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Privet-Token: \"\"\r\nX-Padding: ");
      drip = setInterval(() => socket.write("a"), 1000);
    });
    socket.on("data", (data) => {
      const status = data.toString("latin1").slice(9, 12);
      this.answers.set(status, (this.answers.get(status) ?? 0) + 1);
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      clearInterval(drip);
      this.sockets.delete(socket);
      if (this.stopped) return;
      this.closedByPrinter++;
      setTimeout(() => this.open(), this.reconnectMs);
    });
  }

  stop(): void {
    this.stopped = true;
    for (const socket of this.sockets) socket.destroy();
  }
}

interface Probe { first200Ms: number | undefined; statuses: Map<string, number>; latencies: number[] }

// A well-behaved client asking /privet/info on a new connection every 100 ms.
async function probe(port: number, durationMs: number): Promise<Probe> {
  const statuses = new Map<string, number>();
  const latencies: number[] = [];
  let first200Ms: number | undefined;
  const start = Date.now();
  while (Date.now() - start < durationMs) {
    const sent = Date.now();
    let status: string;
    try {
      status = String((await rawRequest(port, "GET /privet/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Privet-Token: \"\"\r\n\r\n", 3000)).status);
    } catch {
      status = "no answer";
    }
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    if (status === "200") {
      latencies.push(Date.now() - sent);
      first200Ms ??= Date.now() - start;
    }
    await sleep(100);
  }
  return { first200Ms, statuses, latencies };
}

const HEAD_TIMEOUT_MS = 2000;

test("black box: /privet/info is answered during a slowloris attack and during a silent-connection attack", async (t) => {
  const printer = new Printer(nodeHal({ log: () => {}, engine: new TestEngine() }), {
    port: 0,
    // Small timeouts keep the test short; eight slots as on the desktop.
    http: { maxConnections: 8, headTimeoutMs: HEAD_TIMEOUT_MS, firstByteTimeoutMs: 1000, idleTimeoutMs: 5000 },
  });
  const port = await printer.start();
  try {
    for (const [kind, count] of [["slowloris", 50], ["silent", 20]] as const) {
      const attack = new Attack(port, count, kind);
      attack.start();
      // Let the attack take every slot first.
      let full = false;
      for (let i = 0; i < 100 && !full; i++) {
        await sleep(10);
        full = printer.http.connectionCount === 8 && attack.closedByPrinter >= count - 8;
      }
      const result = await probe(port, 3000);
      const held = printer.http.connectionCount;
      attack.stop();
      const summary = `${kind}: ${attack.opened} attack connections opened, ${attack.closedByPrinter} closed by the printer ` +
        `(answers to the attack: ${JSON.stringify(Object.fromEntries(attack.answers))}); /privet/info: ` +
        `${JSON.stringify(Object.fromEntries(result.statuses))}, first 200 after ${result.first200Ms} ms, ` +
        `latency of 200s max ${Math.max(...result.latencies)} ms`;
      t.log(summary);
      t.true(full, `the attack filled every slot and had more connections waiting: ${summary}`);
      t.true(held >= 7, "the attack was still holding the slots at the end");
      // Before the slot policy every one of these probes was a 503 (30 of 30
      // in each attack). Now an attacker's slot is always there for the taking.
      t.not(result.first200Ms, undefined, summary);
      t.true(result.first200Ms! < HEAD_TIMEOUT_MS + 1000, summary);
      t.is(result.statuses.get("503"), undefined, summary);
      const answered = result.statuses.get("200") ?? 0;
      t.true(answered >= 3 && answered > (result.statuses.get("no answer") ?? 0), summary);
      await sleep(100);
    }
  } finally {
    await printer.stop();
  }
});
