import test from "ava";
import { ChunkedDecoder, ChunkedError } from "../modules/http/chunked.js";
import { readSmallBody, type HttpHandler, type HttpRequest } from "../modules/http/server.js";
import { Printer } from "../modules/printer/printer.js";
import { nodeHal } from "../hosts/node/hal.js";
import { get, rawRequest } from "./helpers/client.js";
import { startFakeServer } from "./helpers/fake-server.js";
import { parseResponses } from "./helpers/fake-tcp.js";
import { SeededRandom } from "./helpers/seeded-random.js";
import { TestEngine } from "./helpers/test-engine.js";

const latin1 = (text: string) => Buffer.from(text, "latin1");
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1");

// A chunked encoding of body cut into pieces of the given sizes, with
// optional extensions and trailer fields, as a sender could legally write it.
function encode(body: Uint8Array, sizes: number[], options: { extension?: (i: number) => string; trailer?: string; pad?: number } = {}): Uint8Array {
  const parts: Buffer[] = [];
  let offset = 0;
  let i = 0;
  for (const size of sizes) {
    if (offset >= body.length) break;
    const n = Math.min(size, body.length - offset);
    const hex = n.toString(16).padStart(options.pad ?? 0, "0");
    parts.push(latin1(`${hex}${options.extension ? options.extension(i++) : ""}\r\n`), Buffer.from(body.subarray(offset, offset + n)), latin1("\r\n"));
    offset += n;
  }
  if (offset < body.length) throw new Error("sizes do not cover the body");
  parts.push(latin1(`0\r\n${options.trailer ?? ""}\r\n`));
  return Buffer.concat(parts);
}

// Feeds input in the given pieces; returns the decoded body and where the
// message ended in input. Fails the test on no progress.
function decodeSplit(input: Uint8Array, pieces: number[], decoder = new ChunkedDecoder()): { body: string; end: number } {
  let body = "";
  let offset = 0;
  for (const piece of pieces) {
    const stop = Math.min(input.length, offset + piece);
    // Each piece is a separate buffer, as TCP would deliver it.
    const chunk = input.slice(offset, stop);
    const used = decoder.feed(chunk, 0, { piece: (bytes) => { body += text(bytes); } });
    if (decoder.done) return { body, end: offset + used };
    if (used !== chunk.length) throw new Error(`stopped at ${used} of ${chunk.length} without being asked`);
    offset = stop;
    if (offset >= input.length) break;
  }
  return { body, end: -1 };
}

function randomSplits(random: SeededRandom, length: number, max: number): number[] {
  const pieces: number[] = [];
  for (let total = 0; total < length;) {
    const n = 1 + random.below(max);
    pieces.push(n);
    total += n;
  }
  return pieces;
}

const BODY = latin1("The quick brown fox\r\njumps over 0\r\n\r\n the lazy dog; 5\r\n" + "x".repeat(300));
const NEXT = "GET /next HTTP/1.1\r\n\r\n";

test("decoder: one body decodes the same whole, byte by byte and in random splittings, and stops at its end", (t) => {
  const random = new SeededRandom(99);
  const encoded = encode(BODY, [7, 1, 30, 200, 1000], { extension: (i) => (i % 2 ? `;name${i}=value` : ` ; q="a;b" ;x`), trailer: "X-Checksum: 1234\r\nY: z\r\n" });
  const input = Buffer.concat([encoded, latin1(NEXT)]);
  const whole = decodeSplit(input, [input.length]);
  t.is(whole.body, text(BODY));
  t.is(whole.end, encoded.length, "the next message's bytes are left alone");
  const bytewise = decodeSplit(input, new Array(input.length).fill(1));
  t.deepEqual(bytewise, whole);
  for (let round = 0; round < 500; round++) {
    const sizes = randomSplits(random, BODY.length, 1 + random.below(120));
    const candidate = Buffer.concat([encode(BODY, sizes, { pad: random.below(9) }), latin1(NEXT)]);
    const result = decodeSplit(candidate, randomSplits(random, candidate.length, 1 + random.below(64)));
    if (result.body !== text(BODY) || result.end !== candidate.length - NEXT.length) return t.fail(`round ${round}`);
  }
});

test("decoder: onBody returning false stops right after that piece, mid-chunk or not", (t) => {
  const input = Buffer.concat([encode(latin1("hello world"), [5, 6]), latin1(NEXT)]);
  const decoder = new ChunkedDecoder();
  const pieces: string[] = [];
  let offset = 0;
  for (let guard = 0; guard < 20 && !decoder.done; guard++) {
    // At most 4 bytes at a time, so a chunk arrives in several pieces.
    const chunk = input.subarray(offset, Math.min(input.length, offset + 4));
    let pieceEnd = -1;
    const used = decoder.feed(chunk, 0, {
      piece: (bytes) => {
        pieces.push(text(bytes));
        pieceEnd = bytes.byteOffset - chunk.byteOffset + bytes.length;
        return false;
      },
    });
    if (pieceEnd >= 0 && used !== pieceEnd) return t.fail(`went on past the piece: ${used} vs ${pieceEnd}`);
    offset += used;
  }
  t.true(decoder.done);
  t.is(pieces.join(""), "hello world");
  t.true(pieces.length >= 4, "chunks arrived in pieces");
  t.is(input.subarray(offset).toString("latin1"), NEXT);
  t.is(decoder.bodyBytes, 11);
});

test("decoder: extensions, padded sizes, upper-case hex and trailers are accepted; reset starts over", (t) => {
  const cases: Array<[string, string]> = [
    ["5;a=b\r\nhello\r\n0\r\n\r\n", "hello"],
    ["5 \t; a = \"q\\\"\" ;b\r\nhello\r\n0;last\r\n\r\n", "hello"],
    ["00000000000A\r\n0123456789\r\n000\r\n\r\n", "0123456789"],
    ["a\r\n0123456789\r\n0\r\nTrailer: x\r\nMore: y\r\n\r\n", "0123456789"],
    ["0\r\n\r\n", ""],
  ];
  const decoder = new ChunkedDecoder();
  for (const [input, body] of cases) {
    decoder.reset();
    t.deepEqual(decodeSplit(latin1(input), [input.length], decoder), { body, end: input.length }, JSON.stringify(input));
  }
});

test("decoder: hostile framing throws ChunkedError with a reason, at the first bad byte", (t) => {
  const cases: Array<[string, RegExp]> = [
    ["1000000000000\r\n", /too large/],
    ["fffffffffffff\r\n", /too large/],
    ["\r\n", /missing/],
    [";ext\r\n", /missing/],
    ["g\r\n", /missing/],
    ["5g\r\n", /bad character/],
    ["-5\r\n", /missing/],
    ["5 5\r\nhello\r\n", /after chunk size/],
    ["5\nhello\r\n", /bad character/],
    ["5;ext\nhello\r\n", /bare LF/],
    ["5\r\rhello\r\n", /CRLF/],
    ["5\r\nhelloX\r\n", /longer than its size/],
    ["5\r\nhello\r\r\n", /not ended by CRLF/],
    ["5\r\nhello\n0\r\n\r\n", /longer than its size/],
    ["0\r\n\n" + NEXT, /bare LF/],
    ["0\r\nA: b\n\r\n", /bare LF/],
    ["0\r\nA: b\r\r\n", /trailer field not ended/],
    ["0\r\n\rX", /not ended by CRLF/],
    [`5;${"e".repeat(300)}\r\n`, /size line longer than 256/],
    [`0\r\n${"T: v\r\n".repeat(1000)}\r\n`, /trailer longer than 4096/],
  ];
  for (const [input, reason] of cases) {
    const error = t.throws(() => decodeSplit(latin1(input), [1, 2, 3, 1000, 100000]), { instanceOf: ChunkedError }, JSON.stringify(input));
    if (error) t.regex(error.message, reason, JSON.stringify(input));
  }
  // The biggest size that fits is taken, and waits for its data.
  const decoder = new ChunkedDecoder();
  t.notThrows(() => decoder.feed(latin1("ffffffffffff\r\nabc"), 0, { piece: () => {} }));
  t.is(decoder.bodyBytes, 3);
});

test("decoder: bounds come from its limits, not from what the peer sends", (t) => {
  const small = new ChunkedDecoder({ maxSizeLineBytes: 8, maxTrailerBytes: 10 });
  t.throws(() => small.feed(latin1("5;abcdefg\r\n"), 0, { piece: () => {} }), { instanceOf: ChunkedError, message: /longer than 8/ });
  small.reset();
  t.throws(() => small.feed(latin1("0\r\nAbc: defgh\r\n\r\n"), 0, { piece: () => {} }), { instanceOf: ChunkedError, message: /longer than 10/ });
  small.reset();
  t.is(small.feed(latin1("5;abcd\r\nhello\r\n0\r\nA: b\r\n\r\n"), 0, { piece: () => {} }), 26);
  t.true(small.done);
});

test("decoder: thousands of random mutations never throw anything but ChunkedError and never stall", (t) => {
  const random = new SeededRandom(31337);
  const base = Buffer.concat([encode(latin1("hello, world; and more\r\n"), [3, 10, 2, 100], { extension: () => ";k=v", trailer: "T: 1\r\n" }), latin1(NEXT)]);
  const alphabet = latin1("0123456789abcdefABCDEF;= \t\r\n\r\n\"xX:");
  let errors = 0, completes = 0, waits = 0;
  for (let round = 0; round < 5000; round++) {
    const input = Array.from(base);
    const mutations = 1 + random.below(4);
    for (let m = 0; m < mutations; m++) {
      const at = random.below(input.length + 1);
      const byte = random.below(3) === 0 ? random.below(256) : alphabet[random.below(alphabet.length)];
      switch (random.below(3)) {
        case 0: input[Math.min(at, input.length - 1)] = byte; break;
        case 1: input.splice(at, 0, byte); break;
        default: input.splice(at, 1);
      }
    }
    const bytes = Uint8Array.from(input);
    const decoder = new ChunkedDecoder();
    let delivered = 0;
    try {
      let offset = 0;
      for (let guard = 0; offset < bytes.length && !decoder.done; guard++) {
        if (guard > bytes.length) return t.fail(`round ${round}: no progress`);
        const end = Math.min(bytes.length, offset + 1 + random.below(16));
        const chunk = bytes.subarray(offset, end);
        const used = decoder.feed(chunk, 0, { piece: (piece) => { delivered += piece.length; } });
        if (used <= 0 && chunk.length > 0) return t.fail(`round ${round}: feed took nothing`);
        offset += used;
      }
      if (delivered > bytes.length) return t.fail(`round ${round}: more body than input`);
      if (decoder.done) completes++;
      else waits++;
    } catch (error) {
      if (!(error instanceof ChunkedError)) return t.fail(`round ${round}: ${String(error)}`);
      errors++;
    }
  }
  t.true(errors > 1000 && completes > 100 && waits > 10, `${errors} errors, ${completes} complete, ${waits} waiting`);
});

// ---- the server reading chunked bodies ----

const setup = startFakeServer;

// Reads every body into a string and answers with what it saw.
const collect: HttpHandler = (request, response) => {
  if (!request.hasBody) return response.json({ path: request.path, body: "", chunked: request.chunked, declared: request.declaredLength ?? null });
  let body = "";
  request.readBody({
    data: (chunk) => { body += text(chunk); },
    end: () => response.json({ path: request.path, body, chunked: request.chunked, declared: request.declaredLength ?? null }),
    abort: () => {},
  });
};

const chunkedHead = (path = "/upload", extra = "") => `POST ${path} HTTP/1.1\r\nHost: p\r\nTransfer-Encoding: chunked\r\n${extra}\r\n`;

test("server: a chunked upload with a pausing consumer is held in the TCP window and arrives whole", async (t) => {
  const random = new SeededRandom(7);
  const body = random.bytes(20_000);
  const wire = Buffer.concat([latin1(chunkedHead()), encode(body, [1, 4000, 13, 7000, 999999], { extension: () => ";x=1" }), latin1(NEXT)]);
  for (let round = 0; round < 30; round++) {
    let request: HttpRequest | undefined;
    const received: Buffer[] = [];
    let ends = 0;
    const { tcp } = await setup((req, res) => {
      if (req.path === "/next") return res.json({ next: true });
      request = req;
      if (!req.chunked || req.declaredLength !== undefined || req.contentLength !== 0) t.fail("not seen as chunked");
      req.readBody({
        data: (chunk) => { received.push(Buffer.from(chunk)); req.pause(); },
        end: () => { ends++; res.json({ bytes: received.reduce((n, b) => n + b.length, 0) }); },
        abort: (reason) => t.fail(reason),
      });
    });
    const c = tcp.accept();
    let offset = 0;
    for (const piece of randomSplits(random, wire.length, 3000)) {
      c.send(wire.subarray(offset, offset + piece));
      offset += piece;
    }
    t.true(c.paused, "the socket is paused while the consumer is");
    for (let guard = 0; guard < 1000 && ends === 0; guard++) {
      const before = received.length;
      request!.resume();
      if (received.length > before + 1) return t.fail("more than one piece per resume");
    }
    t.is(ends, 1);
    if (!Buffer.concat(received).equals(Buffer.from(body))) return t.fail(`round ${round}: body differs`);
    const responses = parseResponses(c.output());
    t.deepEqual(responses.map((r) => r.status), [200, 200], "the pipelined request after the body is answered too");
    t.is(JSON.parse(responses[1].body).next, true);
    t.false(c.isClosed);
  }
});

test("server: chunked requests and pipelined requests parse the same whole, byte by byte and in random splits", async (t) => {
  const wire = latin1(
    chunkedHead("/one") + "5\r\nhello\r\n0\r\n\r\n" +
    "GET /two HTTP/1.1\r\n\r\n" +
    chunkedHead("/three", "Expect: nothing\r\n") + "3;e=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: yes\r\n\r\n" +
    "POST /four HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz");
  const expected = [["/one", "hello"], ["/two", ""], ["/three", "abcde"], ["/four", "xyz"]];
  const random = new SeededRandom(5);
  const splittings = [[wire.length], new Array(wire.length).fill(1)];
  for (let i = 0; i < 200; i++) splittings.push(randomSplits(random, wire.length, 30));
  for (const pieces of splittings) {
    const { tcp } = await setup(collect);
    const c = tcp.accept();
    let offset = 0;
    for (const piece of pieces) {
      c.send(wire.subarray(offset, offset + piece));
      offset += piece;
    }
    const got = parseResponses(c.output()).map((r) => { const j = JSON.parse(r.body); return [j.path, j.body]; });
    if (JSON.stringify(got) !== JSON.stringify(expected)) return t.fail(`${pieces.length} pieces: ${JSON.stringify(got)}`);
  }
  t.pass();
});

test("server: the framing is checked: TE with Content-Length, a non-final chunked, unknown codings, TE in HTTP/1.0", async (t) => {
  const cases: Array<[string, number, RegExp]> = [
    ["Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", 400, /both/],
    ["Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", 400, /both/],
    ["Transfer-Encoding: gzip\r\n", 400, /final/],
    ["Transfer-Encoding: chunked, gzip\r\n", 400, /final/],
    ["Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", 400, /final/],
    ["Transfer-Encoding: chunked, chunked\r\n", 400, /more than once/],
    ["Transfer-Encoding: chunked;q=1\r\n", 400, /final/],
    ["Transfer-Encoding: \r\n", 400, /final/],
    ["Transfer-Encoding: gzip, chunked\r\n", 501, /gzip/],
    ["Transfer-Encoding: identity, chunked\r\n", 501, /identity/],
  ];
  for (const [headers, status, reason] of cases) {
    const { tcp, server } = await setup(collect);
    const c = tcp.accept();
    c.send(`POST /x HTTP/1.1\r\n${headers}\r\n5\r\nhello\r\n0\r\n\r\n`);
    const [response] = parseResponses(c.output());
    t.is(response.status, status, headers);
    t.regex(response.body, reason, headers);
    t.true(c.ended, "closed: the body's end is unknown");
    t.is(server.connectionCount, 0);
  }
  const { tcp } = await setup(collect);
  const old = tcp.accept();
  old.send("POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  t.is(parseResponses(old.output())[0].status, 400);
  t.true(old.ended);
  // Case and spacing of the coding do not matter.
  const loud = tcp.accept();
  loud.send("POST /x HTTP/1.1\r\nTransfer-Encoding:  Chunked \r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  t.is(JSON.parse(parseResponses(loud.output())[0].body).body, "hello");
});

test("server: a malformed chunked body aborts the consumer and closes, with a 400 if nothing was answered", async (t) => {
  const aborts: string[] = [];
  const received: string[] = [];
  const { tcp, server } = await setup((req) => req.readBody({
    data: (c) => { received.push(text(c)); },
    end: () => t.fail("ended"),
    abort: (reason) => aborts.push(reason),
  }));
  const c = tcp.accept();
  c.send(chunkedHead() + "5\r\nhello\r\n");
  c.send("5\r\nworldX\r\n0\r\n\r\nGET /never HTTP/1.1\r\n\r\n");
  t.deepEqual(received, ["hello", "world"]);
  t.is(aborts.length, 1);
  t.regex(aborts[0], /malformed chunked body: chunk data longer than its size/);
  const responses = parseResponses(c.output());
  t.is(responses.length, 1);
  t.is(responses[0].status, 400);
  t.true(c.ended);
  t.is(server.connectionCount, 0);

  // After an early answer the bad framing only closes the connection.
  const early = await setup((_req, res) => res.json({ early: true }));
  const d = early.tcp.accept();
  d.send(chunkedHead() + "5\r\nhello\r\nzz\r\n");
  const answers = parseResponses(d.output());
  t.is(answers.length, 1);
  t.is(answers[0].status, 200);
  t.true(d.ended);
  t.is(early.server.connectionCount, 0);
});

test("server: an early answer discards a small unread chunked body and keeps the connection, but closes past the discard limit", async (t) => {
  const refuse: HttpHandler = (req, res) => (req.path === "/refuse" ? res.json({ error: "no" }) : collect(req, res));
  const { tcp, server } = await setup(refuse, { discardLimit: 100 });
  const small = tcp.accept();
  small.send(chunkedHead("/refuse") + "a\r\n0123456789\r\n");
  small.send("a\r\n0123456789\r\n0\r\n\r\nGET /after HTTP/1.1\r\n\r\n");
  const answers = parseResponses(small.output());
  t.deepEqual(answers.map((r) => r.status), [200, 200]);
  t.is(JSON.parse(answers[1].body).path, "/after");
  t.false(small.isClosed);

  const large = tcp.accept();
  large.send(chunkedHead("/refuse"));
  t.is(parseResponses(large.output()).length, 1);
  for (let i = 0; i < 20 && !large.isClosed; i++) large.send("10\r\n0123456789abcdef\r\n");
  t.true(large.ended, "closed once more than the discard limit went by");
  t.is(server.connectionCount, 1);

  // A client waiting for 100 Continue will not send the body: close at once.
  const waiting = tcp.accept();
  waiting.send(chunkedHead("/refuse", "Expect: 100-continue\r\n"));
  t.is(parseResponses(waiting.output())[0].headers["connection"], "close");
  t.true(waiting.ended);
});

test("server: Expect: 100-continue on a chunked body is answered when the body is read", async (t) => {
  const { tcp } = await setup(collect);
  const c = tcp.accept();
  c.send(chunkedHead("/x", "Expect: 100-continue\r\n"));
  t.true(c.output().startsWith("HTTP/1.1 100 Continue\r\n\r\n"));
  c.send("2\r\nok\r\n0\r\n\r\n");
  t.is(JSON.parse(parseResponses(c.takeOutput().slice(25))[0].body).body, "ok");
});

test("server: readSmallBody collects a chunked body within its limit and refuses one past it", async (t) => {
  const { tcp } = await setup((req, res) => readSmallBody(req, 16, (body) => {
    if (res.sent) return;
    res.json(body === undefined ? { refused: true } : { body: text(body) });
  }));
  const fits = tcp.accept();
  fits.send(chunkedHead() + "3\r\nabc\r\n5\r\ndefgh\r\n8\r\nijklmnop\r\n0\r\n\r\n");
  t.deepEqual(JSON.parse(parseResponses(fits.output())[0].body), { body: "abcdefghijklmnop" });
  const over = tcp.accept();
  over.send(chunkedHead() + "3\r\nabc\r\n5\r\ndefgh\r\n9\r\nijklmnopq\r\n");
  t.deepEqual(JSON.parse(parseResponses(over.output())[0].body), { refused: true });
  over.send("0\r\n\r\nGET /next HTTP/1.1\r\n\r\n");
  t.is(parseResponses(over.output()).length, 2, "the rest was discarded and the connection kept");
  const empty = tcp.accept();
  empty.send(chunkedHead() + "0\r\n\r\n");
  t.deepEqual(JSON.parse(parseResponses(empty.output())[0].body), { body: "" });
  // Content-Length bodies as before.
  const plain = tcp.accept();
  plain.send("POST /x HTTP/1.1\r\nContent-Length: 17\r\n\r\n");
  t.deepEqual(JSON.parse(parseResponses(plain.output())[0].body), { refused: true });
});

test("server: a chunked body that stalls is timed out and its consumer aborted", async (t) => {
  let aborted = "";
  const { tcp, clock, server } = await setup((req) => req.readBody({ data() {}, end() { t.fail("ended"); }, abort(reason) { aborted = reason; } }), { idleTimeoutMs: 1000 });
  const c = tcp.accept();
  c.send(chunkedHead() + "10\r\nabc");
  clock.advance(900);
  c.send("def");
  clock.advance(900);
  t.false(c.isClosed);
  clock.advance(200);
  t.true(c.destroyed);
  t.regex(aborted, /stopped sending/);
  t.is(server.connectionCount, 0);
  t.is(clock.pending, 0);
});

test("server: a host that keeps delivering while paused is cut off at maxHeldBytes", async (t) => {
  let aborted = "";
  const { tcp, server } = await setup((req) => req.readBody({ data: () => req.pause(), end() {}, abort(reason) { aborted = reason; } }), { maxHeldBytes: 100 });
  const c = tcp.accept();
  c.send(chunkedHead() + "1000\r\nabc");
  t.true(c.paused);
  // Play a host that ignores pause().
  c.paused = false;
  c.send("x".repeat(60));
  t.false(c.isClosed, "within the budget");
  c.paused = false;
  c.send("x".repeat(60));
  t.true(c.destroyed);
  t.regex(aborted, /too much while paused/);
  t.is(server.connectionCount, 0);
});

// ---- the Privet API on the Node host: submitdoc still wants Content-Length ----

test("Privet: submitdoc with a chunked body is invalid_document; createjob takes a chunked ticket", async (t) => {
  const printer = new Printer(nodeHal({ log: () => {}, engine: new TestEngine() }), { port: 0 });
  const port = await printer.start();
  try {
    const token = JSON.parse((await get(port, "/privet/info", { "X-Privet-Token": "\"\"" })).body)["x-privet-token"];
    const submit = await rawRequest(port, `POST /privet/printer/submitdoc HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Privet-Token: ${token}\r\nContent-Type: image/pwg-raster\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nRaS2\r\n0\r\n\r\n`);
    t.is(submit.status, 200);
    t.is(JSON.parse(submit.body).error, "invalid_document");
    t.regex(JSON.parse(submit.body).description, /Content-Length/);
    const ticket = JSON.stringify({ version: "1.0", print: {} });
    const half = Math.floor(ticket.length / 2);
    const create = await rawRequest(port, `POST /privet/printer/createjob HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Privet-Token: ${token}\r\nTransfer-Encoding: chunked\r\n\r\n` +
      `${half.toString(16)}\r\n${ticket.slice(0, half)}\r\n${(ticket.length - half).toString(16)}\r\n${ticket.slice(half)}\r\n0\r\n\r\n`);
    t.is(create.status, 200);
    t.truthy(JSON.parse(create.body).job_id, create.body);
  } finally {
    await printer.stop();
  }
});
