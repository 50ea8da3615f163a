import test from "./harness.js";
import { ChunkedDecoder, ChunkedError } from "../../modules/http/chunked.js";
import { HttpServer, type HttpHandler } from "../../modules/http/server.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { FakeSocket, ascii, chars, fakeListener } from "./fake-socket.js";

// The HTTP server's new paths (chunked bodies, contained consumer errors,
// slot eviction) inside XS, over the XS-safe TCP fake.


const statuses = (s: FakeSocket) => (s.out.match(/HTTP\/1\.1 \d{3}/g) ?? []).map((x) => Number(x.slice(9))).filter((x) => x !== 100);

function serve(handler: HttpHandler, maxConnections = 8) {
  const { tcp, connect } = fakeListener();
  const clock = new FakeClock();
  const server = new HttpServer(tcp, clock, () => {}, { maxConnections, maxConnectionsPerAddress: maxConnections }, handler);
  void server.start();
  return { clock, server, connect: (address = "192.0.2.1") => connect(address) };
}

test("the chunked decoder on XS: byte by byte, extensions and trailer, then ChunkedError", (t) => {
  const input = ascii("3;a=b\r\nabc\r\nA\r\n0123456789\r\n0\r\nT: v\r\n\r\nNEXT");
  const decoder = new ChunkedDecoder();
  let body = "";
  let offset = 0;
  while (!decoder.done && offset < input.length) offset += decoder.feed(input.subarray(offset, offset + 1), 0, { piece: (bytes) => { body += chars(bytes); } });
  t.is(body, "abc0123456789");
  t.is(chars(input.subarray(offset)), "NEXT");
  let caught: unknown;
  try { new ChunkedDecoder().feed(ascii("5\r\nhelloX"), 0, { piece: () => {} }); } catch (error) { caught = error; }
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
  t.deepEqual(statuses(c), [200]);
  const d = connect();
  d.send("POST /boom HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
  t.deepEqual(statuses(d), [500]);
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
  t.deepEqual(statuses(a), [408]);
  c.send("GET /x HTTP/1.1\r\n\r\n");
  t.deepEqual(statuses(c), [200]);
  clock.advance(9000);
  t.true(b.closed, "10 s after its first byte");
  t.deepEqual(statuses(b), [408]);
});

export { runAll } from "./harness.js";
