import test from "./harness.js";
import { ChunkedDecoder, ChunkedError } from "../../modules/http/chunked.js";
import { HttpServer, type HttpHandler } from "../../modules/http/server.js";
import type { Tcp, TcpConnection, TcpConnectionEvents } from "../../modules/hal/tcp.js";
import { FakeClock } from "../helpers/fake-clock.js";

// The HTTP server's new paths (chunked bodies, contained consumer errors,
// slot eviction) inside XS, over an inline TCP fake: tests/helpers/fake-tcp.ts
// leans on Buffer, which XS does not have.

const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const chars = (bytes: Uint8Array) => { let s = ""; for (const b of bytes) s += String.fromCharCode(b); return s; };

class Socket implements TcpConnection {
  remotePort = 1;
  out = "";
  paused = false;
  closed = false;
  private events!: TcpConnectionEvents;
  private queue: Uint8Array[] = [];
  constructor(readonly remoteAddress: string) {}
  setEvents(events: TcpConnectionEvents): void { this.events = events; }
  write(bytes: Uint8Array): boolean { this.out += chars(bytes); return true; }
  pause(): void { this.paused = true; }
  resume(): void {
    this.paused = false;
    while (!this.paused && this.queue.length > 0) this.events.data(this.queue.shift()!);
  }
  end(): void { this.closed = true; }
  destroy(): void { this.closed = true; }
  send(text: string): void {
    const bytes = ascii(text);
    if (this.paused) this.queue.push(bytes);
    else this.events.data(bytes);
  }
  statuses(): number[] { return (this.out.match(/HTTP\/1\.1 \d{3}/g) ?? []).map((s) => Number(s.slice(9))).filter((s) => s !== 100); }
}

// Synchronous: the harness does not await, and listen() takes the accept
// callback before start() first awaits.
function serve(handler: HttpHandler, maxConnections = 8) {
  let accept: (c: TcpConnection) => void = () => {};
  const tcp: Tcp = {
    listen: (_options, onConnection) => { accept = onConnection; return Promise.resolve({ port: 1, close() {} }); },
    connect: () => Promise.reject(new Error("no")),
  };
  const clock = new FakeClock();
  const server = new HttpServer(tcp, clock, () => {}, { maxConnections, maxConnectionsPerAddress: maxConnections }, handler);
  void server.start();
  return { clock, server, connect: (address = "192.0.2.1") => { const s = new Socket(address); accept(s); return s; } };
}

test("the chunked decoder on XS: byte by byte, extensions and trailer, then ChunkedError", (t) => {
  const input = ascii("3;a=b\r\nabc\r\nA\r\n0123456789\r\n0\r\nT: v\r\n\r\nNEXT");
  const decoder = new ChunkedDecoder();
  let body = "";
  let offset = 0;
  while (!decoder.done && offset < input.length) offset += decoder.feed(input.subarray(offset, offset + 1), 0, (bytes) => { body += chars(bytes); });
  t.is(body, "abc0123456789");
  t.is(chars(input.subarray(offset)), "NEXT");
  let caught: unknown;
  try { new ChunkedDecoder().feed(ascii("5\r\nhelloX"), 0, () => {}); } catch (error) { caught = error; }
  t.true(caught instanceof ChunkedError);
});

test("the HTTP server on XS: a chunked upload paused and resumed, a throwing consumer contained", (t) => {
  let body = "";
  let aborts = 0;
  const { connect } = serve((request, response) => {
    if (request.path === "/boom") return request.readBody({ data() { throw new Error("boom"); }, end() {}, abort() { aborts++; } });
    request.readBody({
      data: (chunk) => { body += chars(chunk); request.pause(); },
      end: () => response.json({ body }),
      abort: () => {},
    });
    // Resume later, as an engine would.
    resumeLater = () => request.resume();
  });
  let resumeLater = () => {};
  const c = connect();
  c.send("POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  t.is(body, "abc");
  t.true(c.paused);
  for (let i = 0; i < 5; i++) resumeLater();
  t.is(body, "abcde");
  t.deepEqual(c.statuses(), [200]);
  const d = connect();
  d.send("POST /boom HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
  t.deepEqual(d.statuses(), [500]);
  t.true(d.closed);
  t.is(aborts, 1);
});

test("the HTTP server on XS: a slow head gives its slot to a newcomer and times out", (t) => {
  const { clock, connect } = serve((_request, response) => response.json({}), 2);
  const a = connect();
  a.send("GET /x HTTP/1.1\r\n");
  const b = connect();
  b.send("GET /x HTTP/1.1\r\n");
  clock.advance(1000);
  const c = connect();
  t.true(a.closed);
  t.deepEqual(a.statuses(), [408]);
  c.send("GET /x HTTP/1.1\r\n\r\n");
  t.deepEqual(c.statuses(), [200]);
  clock.advance(9000);
  t.true(b.closed, "10 s after its first byte");
  t.deepEqual(b.statuses(), [408]);
});

export { runAll } from "./harness.js";
