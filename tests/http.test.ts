import test from "ava";
import type { BodyConsumer, HttpHandler, HttpRequest, HttpServerOptions } from "../modules/http/server.js";
import { startFakeServer } from "./helpers/fake-server.js";
import { parseResponses } from "./helpers/fake-tcp.js";
import { SeededRandom } from "./helpers/seeded-random.js";

const enc = (text: string) => new TextEncoder().encode(text);

// Echoes what it parsed, so a test can check the parse as well as the framing.
const echo: HttpHandler = (request, response) => {
  const chunks: Uint8Array[] = [];
  const reply = () => response.json({
    method: request.method, path: request.path, query: request.query, version: request.version,
    host: request.header("Host") ?? null, body: Buffer.concat(chunks).toString("latin1"),
  });
  if (!request.hasBody) return reply();
  request.readBody({ data: (c) => chunks.push(Uint8Array.from(c)), end: reply, abort: () => {} });
};

const setup = (handler: HttpHandler = echo, options: Partial<HttpServerOptions> = {}) => startFakeServer(handler, options);

const REQUESTS = [
  "GET /privet/info HTTP/1.1\r\nHost: printer.local\r\nX-Privet-Token: \"\"\r\n\r\n",
  "POST /privet/printer/submitdoc?job_id=7&job_name=My%20Doc+2&user_name=%E2%9C%93 HTTP/1.1\r\nHost: p\r\nContent-Length: 12\r\n\r\nhello\r\nworld",
  "GET /a?x HTTP/1.1\nHost: lf-only\n\n",
  "POST /empty HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
];

function expectEchoes(t: any, output: string) {
  const responses = parseResponses(output);
  t.is(responses.length, REQUESTS.length);
  const bodies = responses.map((r) => JSON.parse(r.body));
  t.deepEqual(bodies[0], { method: "GET", path: "/privet/info", query: {}, version: "1.1", host: "printer.local", body: "" });
  t.deepEqual(bodies[1].query, { job_id: "7", job_name: "My Doc 2", user_name: "✓" });
  t.is(bodies[1].body, "hello\r\nworld");
  t.deepEqual(bodies[2], { method: "GET", path: "/a", query: { x: "" }, version: "1.1", host: "lf-only", body: "" });
  t.is(bodies[3].method, "POST");
  for (const r of responses) t.is(r.status, 200);
}

test("pipelined requests parse the same fed whole, byte by byte, and in random splits", async (t) => {
  const all = enc(REQUESTS.join(""));
  const whole = (await setup()).tcp.accept();
  whole.send(all);
  expectEchoes(t, whole.output());

  const single = (await setup()).tcp.accept();
  for (const b of all) single.send(Uint8Array.of(b));
  expectEchoes(t, single.output());

  const random = new SeededRandom(1234);
  for (let round = 0; round < 200; round++) {
    const connection = (await setup()).tcp.accept();
    let offset = 0;
    while (offset < all.length) {
      const n = 1 + random.below(40);
      connection.send(all.slice(offset, offset + n));
      offset += n;
    }
    const responses = parseResponses(connection.output());
    if (responses.length !== REQUESTS.length || responses.some((r) => r.status !== 200)) return t.fail(`round ${round}`);
    if (JSON.parse(responses[1].body).body !== "hello\r\nworld") return t.fail(`round ${round} body`);
  }
});

test("malformed requests get 400 and the connection closes", async (t) => {
  const cases = [
    "GET /x\r\n\r\n",
    "GET  /x HTTP/1.1\r\n\r\n",
    "G@T /x HTTP/1.1\r\n\r\n",
    "GET x HTTP/1.1\r\n\r\n",
    "GET /x HTTP/1.1\r\nNo colon here\r\n\r\n",
    "GET /x HTTP/1.1\r\nBad Name: v\r\n\r\n",
    "GET /x HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
    "GET /x HTTP/1.1\r\nA: b\u0000c\r\n\r\n",
    "GET /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    "GET /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    "GET /x HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n",
    "GET /x\u00ff HTTP/1.1\r\n\r\n",
    "\r\n".repeat(20) + "GET /x HTTP/1.1\r\n\r\n",
  ];
  for (const request of cases) {
    const { tcp, server } = await setup();
    const connection = tcp.accept();
    connection.send(Buffer.from(request, "latin1"));
    const [response] = parseResponses(connection.output());
    t.is(response.status, 400, JSON.stringify(request));
    t.true(connection.ended, "closed after the error");
    t.is(server.connectionCount, 0);
  }
});

test("an unsupported HTTP version gets 505; a chunked body is read (it used to be refused with 411)", async (t) => {
  const { tcp } = await setup();
  const a = tcp.accept();
  a.send("GET /x HTTP/2.0\r\n\r\n");
  t.is(parseResponses(a.output())[0].status, 505);
  const b = tcp.accept();
  b.send("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  const [response] = parseResponses(b.output());
  t.is(response.status, 200);
  t.is(JSON.parse(response.body).body, "hello");
  t.false(b.ended);
});

test("the header section is bounded: 431 past the limit, 414 for a request line alone", async (t) => {
  const { tcp } = await setup(echo, { maxHeaderBytes: 1024, maxHeaders: 10 });
  const big = tcp.accept();
  big.send("GET /x HTTP/1.1\r\n");
  for (let i = 0; i < 100; i++) big.send(`X-Filler-${i}: ${"v".repeat(20)}\r\n`);
  t.is(parseResponses(big.output())[0].status, 431);
  t.true(big.ended);
  const many = tcp.accept();
  many.send("GET /x HTTP/1.1\r\n" + "A: b\r\n".repeat(11) + "\r\n");
  t.is(parseResponses(many.output())[0].status, 431);
  const long = tcp.accept();
  long.send(`GET /${"a".repeat(2000)} HTTP/1.1\r\n\r\n`);
  t.is(parseResponses(long.output())[0].status, 414);
});

test("a Content-Length body streams, and pause holds it in the TCP window until resume", async (t) => {
  let request: HttpRequest | undefined;
  const received: string[] = [];
  let ended = false;
  const { tcp } = await setup((req, res) => {
    request = req;
    req.readBody({
      data: (chunk) => { received.push(Buffer.from(chunk).toString()); req.pause(); },
      end: () => { ended = true; res.json({ ok: true }); },
      abort: () => {},
    });
  });
  const c = tcp.accept();
  c.send("POST /doc HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc");
  t.deepEqual(received, ["abc"]);
  t.true(c.paused, "the socket stops reading while the consumer is paused");
  c.send("def");
  c.send("ghi");
  t.deepEqual(received, ["abc"], "nothing more is delivered while paused");
  t.is(c.queuedBytes, 6);
  request!.resume();
  t.deepEqual(received, ["abc", "def"]);
  request!.resume();
  t.deepEqual(received, ["abc", "def", "ghi"]);
  t.true(ended);
  t.is(parseResponses(c.output())[0].status, 200);
});

test("keep-alive serves many requests on one connection; Connection: close and HTTP/1.0 end it", async (t) => {
  const { tcp } = await setup();
  const c = tcp.accept();
  for (let i = 0; i < 5; i++) c.send(`GET /n${i} HTTP/1.1\r\n\r\n`);
  const five = parseResponses(c.takeOutput());
  t.deepEqual(five.map((r) => JSON.parse(r.body).path), ["/n0", "/n1", "/n2", "/n3", "/n4"]);
  t.false(c.ended);
  c.send("GET /last HTTP/1.1\r\nConnection: close\r\n\r\n");
  t.is(parseResponses(c.output())[0].headers["connection"], "close");
  t.true(c.ended);

  const old = tcp.accept();
  old.send("GET /x HTTP/1.0\r\n\r\n");
  t.true(old.ended);
  const oldKeep = tcp.accept();
  oldKeep.send("GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  t.is(parseResponses(oldKeep.output())[0].headers["connection"], "keep-alive");
  t.false(oldKeep.ended);
});

test("an early answer skips a small unread body and keeps the connection, but closes on a large one", async (t) => {
  const refuse: HttpHandler = (req, res) => (req.path === "/refuse" ? res.json({ error: "no" }) : echo(req, res));
  const { tcp } = await setup(refuse, { discardLimit: 100 });
  const small = tcp.accept();
  small.send("POST /refuse HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789GET /after HTTP/1.1\r\n\r\n");
  const answers = parseResponses(small.output());
  t.is(answers.length, 2);
  t.is(JSON.parse(answers[1].body).path, "/after");
  const large = tcp.accept();
  large.send("POST /refuse HTTP/1.1\r\nContent-Length: 100000\r\n\r\n0123");
  t.is(parseResponses(large.output())[0].headers["connection"], "close");
  t.true(large.ended);
});

test("Expect: 100-continue is answered when the body is read", async (t) => {
  const { tcp } = await setup();
  const c = tcp.accept();
  c.send("POST /x HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
  t.true(c.output().startsWith("HTTP/1.1 100 Continue\r\n\r\n"));
  c.send("ok");
  t.is(JSON.parse(parseResponses(c.output().slice(25))[0].body).body, "ok");
});

test("beyond the connection limit a client gets 503 and a close when every slot is at work", async (t) => {
  // Slots that hold nothing are given to newcomers now (tests/http-slots.test.ts);
  // a 503 is left for slots busy with requests.
  const { tcp, server, clock } = await setup((req) => req.readBody({ data() {}, end() {}, abort() {} }), { maxConnections: 2, maxConnectionsPerAddress: 2 });
  const a = tcp.accept(), b = tcp.accept();
  a.send("POST /a HTTP/1.1\r\nContent-Length: 10\r\n\r\n12");
  b.send("POST /b HTTP/1.1\r\nContent-Length: 10\r\n\r\n12");
  const c = tcp.accept();
  t.is(server.connectionCount, 2);
  t.is(parseResponses(c.output())[0].status, 503);
  // Closed once the client has read it and gone, or after half a second.
  c.closeFromPeer();
  t.true(c.isClosed);
  // At most two refused sockets wait at once; the third is closed at once.
  const waiting = [tcp.accept(), tcp.accept()];
  const third = tcp.accept();
  for (const w of waiting) t.false(w.ended);
  t.true(third.ended);
  clock.advance(500);
  for (const w of waiting) t.true(w.ended);
  a.closeFromPeer();
  t.is(server.connectionCount, 1);
  const d = tcp.accept();
  t.false(d.isClosed);
  t.is(server.connectionCount, 2);
});

test("idle connections time out: silently when nothing was sent, 408 mid-head, abort mid-body", async (t) => {
  let aborted = "";
  const consumer = (res: any): BodyConsumer => ({ data() {}, end() { res.json({}); }, abort(reason) { aborted = reason; } });
  const { tcp, clock, server } = await setup((req, res) => req.readBody(consumer(res)), { idleTimeoutMs: 1000 });
  const quiet = tcp.accept();
  const partial = tcp.accept();
  partial.send("GET /x HT");
  const body = tcp.accept();
  body.send("POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345");
  clock.advance(600);
  body.send("6");
  clock.advance(600);
  t.true(quiet.destroyed);
  t.is(quiet.output(), "");
  t.is(parseResponses(partial.output())[0].status, 408);
  t.false(body.isClosed, "activity resets the idle clock");
  clock.advance(1000);
  t.true(body.destroyed);
  t.regex(aborted, /stopped sending/);
  t.is(server.connectionCount, 0);
  t.is(clock.pending, 0, "no timers left behind");
});

test("a paused body is not timed out: the device, not the client, is the slow one", async (t) => {
  let request: HttpRequest | undefined;
  const { tcp, clock } = await setup((req, res) => {
    request = req;
    req.readBody({ data: () => req.pause(), end: () => res.json({}), abort: () => t.fail("aborted") });
  }, { idleTimeoutMs: 1000 });
  const c = tcp.accept();
  c.send("POST /x HTTP/1.1\r\nContent-Length: 4\r\n\r\nab");
  clock.advance(60_000);
  t.false(c.isClosed);
  request!.resume();
  c.send("cd");
  request!.resume();
  t.is(parseResponses(c.output())[0].status, 200);
});

test("a client that disconnects mid-body aborts the consumer once", async (t) => {
  let aborts = 0;
  let closes = 0;
  const { tcp, server } = await setup((req) => {
    req.onClose(() => closes++);
    req.readBody({ data() {}, end() { t.fail("ended"); }, abort() { aborts++; } });
  });
  const c = tcp.accept();
  c.send("POST /x HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc");
  c.closeFromPeer();
  t.is(aborts, 1);
  t.is(closes, 1);
  t.is(server.connectionCount, 0);
});

test("a handler that throws gets a 500 and the server keeps serving", async (t) => {
  const { tcp, logs } = await setup((req, res) => {
    if (req.path === "/boom") throw new Error("kaboom");
    res.json({ ok: true });
  });
  const c = tcp.accept();
  c.send("GET /boom HTTP/1.1\r\n\r\nGET /fine HTTP/1.1\r\n\r\n");
  const [first, second] = parseResponses(c.output());
  t.is(first.status, 500);
  t.is(second.status, 200);
  t.true(logs.some((l) => l.includes("kaboom")));
});

test("random garbage never throws out of the server and always ends in a response or a wait", async (t) => {
  const random = new SeededRandom(4242);
  const alphabet = Buffer.from("GET POST / HTTP/1.1\r\n:Content-Length: 12 \t\u0000\u00ff%=&?");
  for (let round = 0; round < 1500; round++) {
    const { tcp, clock } = await setup(echo, { maxHeaderBytes: 256, idleTimeoutMs: 1000 });
    const c = tcp.accept();
    const n = random.below(400);
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++) bytes[i] = random.below(4) === 0 ? random.below(256) : alphabet[random.below(alphabet.length)];
    try {
      let offset = 0;
      while (offset < n) {
        const step = 1 + random.below(50);
        c.send(bytes.subarray(offset, offset + step));
        offset += step;
      }
      clock.advance(5000);
    } catch (error) {
      return t.fail(`round ${round}: ${String(error)}`);
    }
    if (!c.isClosed && !c.paused) return t.fail(`round ${round}: connection left open and idle`);
  }
  t.pass();
});

// A consumer (the spooler, a form reader) that throws must not unwind into
// the host's socket callback: 500 if nothing was sent, close, abort().
test("a body consumer that throws in data or end gets its request a 500, a close and an abort", async (t) => {
  for (const where of ["data", "end"] as const) {
    for (const framing of ["length", "chunked"] as const) {
      const aborts: string[] = [];
      const { tcp, server, logs } = await setup((req) => req.readBody({
        data() { if (where === "data") throw new Error("consumer exploded"); },
        end() { if (where === "end") throw new Error("consumer exploded"); },
        abort(reason) { aborts.push(reason); },
      }));
      const c = tcp.accept();
      const request = framing === "length"
        ? "POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
        : "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
      t.notThrows(() => c.send(request + "GET /next HTTP/1.1\r\n\r\n"), `${where} ${framing}`);
      const responses = parseResponses(c.output());
      t.deepEqual(responses.map((r) => r.status), [500], `${where} ${framing}`);
      t.is(responses[0].headers["connection"], "close");
      t.true(c.ended);
      t.is(server.connectionCount, 0);
      t.is(aborts.length, 1);
      t.regex(aborts[0], /consumer exploded/);
      t.true(logs.some((l) => l.startsWith("error") && l.includes(`threw in ${where}`) && l.includes("consumer exploded")));
    }
  }
});

test("a consumer that throws after its handler answered closes the connection without a second response", async (t) => {
  const aborts: string[] = [];
  const { tcp } = await setup((req, res) => req.readBody({
    data() { res.json({ early: true }); throw new Error("after answering"); },
    end() {},
    abort(reason) { aborts.push(reason); },
  }));
  const c = tcp.accept();
  t.notThrows(() => c.send("POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\nhello"));
  t.deepEqual(parseResponses(c.output()).map((r) => r.status), [200]);
  t.true(c.ended);
  t.is(aborts.length, 1);
});

test("a throw from inside resume(), from a handler that started reading, or from abort() stays inside the server", async (t) => {
  let request: HttpRequest | undefined;
  let aborts = 0;
  let fail = false;
  const { tcp, logs } = await setup((req, res) => {
    request = req;
    req.readBody({
      data() { req.pause(); if (fail) throw new Error("engine callback failed"); },
      end() { res.json({}); },
      abort() { aborts++; },
    });
    if (req.path === "/throw") throw new Error("handler failed after readBody");
  });
  // The owner resumes from its own callback (the engine's ready()).
  const a = tcp.accept();
  a.send("POST /x HTTP/1.1\r\nContent-Length: 4\r\n\r\nab");
  a.send("cd");
  fail = true;
  t.notThrows(() => request!.resume());
  t.is(parseResponses(a.output())[0].status, 500);
  t.true(a.ended);
  t.is(aborts, 1);

  fail = false;
  const b = tcp.accept();
  t.notThrows(() => b.send("POST /throw HTTP/1.1\r\nContent-Length: 4\r\n\r\nab"));
  t.is(parseResponses(b.output())[0].status, 500);
  t.true(b.ended);
  t.is(aborts, 2);
  t.true(logs.some((l) => l.includes("handler failed after readBody")));

  const { tcp: tcp2, logs: logs2 } = await setup((req) => {
    req.onClose(() => { throw new Error("listener failed"); });
    req.readBody({ data() {}, end() {}, abort() { throw new Error("abort failed"); } });
  });
  const c = tcp2.accept();
  c.send("POST /x HTTP/1.1\r\nContent-Length: 4\r\n\r\nab");
  t.notThrows(() => c.closeFromPeer());
  t.true(logs2.some((l) => l.includes("abort failed")));
  t.true(logs2.some((l) => l.includes("listener failed")));
});

test("the budgets are options: maxHeldBytes, discardLimit; the defaults fit the board", async (t) => {
  const { server } = await setup();
  t.true(server.options.maxHeldBytes <= 16 * 1024);
  t.true(server.options.discardLimit <= 16 * 1024);
  const refuse: HttpHandler = (_req, res) => res.json({ error: "no" });
  const big = await setup(refuse, { discardLimit: 1_000_000 });
  const c = big.tcp.accept();
  c.send("POST /refuse HTTP/1.1\r\nContent-Length: 500000\r\n\r\n");
  t.false("connection" in parseResponses(c.output())[0].headers, "a desktop may read a large rest to keep the connection");
  c.send(new Uint8Array(500_000));
  c.send("GET /after HTTP/1.1\r\n\r\n");
  t.is(parseResponses(c.output()).length, 2);
});

test("a response the client stopped reading is given up after stallTimeoutMs, and the log names the request", async (t) => {
  const { tcp, clock, logs } = await setup((_request, response) => {
    const writer = response.stream(200)!;
    writer.write("x".repeat(4096));
    writer.onDrain({ drained: () => writer.end() });
  }, { stallTimeoutMs: 5000, idleTimeoutMs: 30_000 });
  const c = tcp.accept();
  c.full = true;
  c.send("GET /big HTTP/1.1\r\nHost: p\r\n\r\n");
  clock.advance(4999);
  t.false(c.isClosed, "not before the stall timeout");
  clock.advance(1);
  t.true(c.isClosed);
  t.true(logs.some((line) => line.includes("stopped reading the response to GET /big")), logs.join("\n"));
});
