import test from "ava";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { nodeClock, nodeResolver, nodeTcp } from "../hosts/node/hal.js";
import type { BodySink, BodySource } from "../modules/http/body.js";
import { HttpClient, HttpClientError, type HttpClientHal, type HttpClientOptions, type HttpResponse } from "../modules/http/client.js";
import { readBodyBytes, requestJson, requestText } from "../modules/http/collect.js";
import { parseHttpUrl } from "../modules/http/url.js";
import type { Tcp } from "../modules/hal/tcp.js";
import { fakeResolver } from "./helpers/fake-tcp.js";
import { steady } from "./helpers/steady.js";
import { SeededRandom } from "./helpers/seeded-random.js";

// The HTTP client on the Node host's real TCP against real servers on
// 127.0.0.1: node:http, raw node:net servers that misbehave on purpose, and
// Python's http.server.

const logs: string[] = [];
const hal: HttpClientHal = { tcp: nodeTcp, resolver: nodeResolver, clock: nodeClock, log: (level, message) => logs.push(`${level} ${message}`) };
const client = (options: Partial<HttpClientOptions> = {}) => new HttpClient(hal, options);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as net.AddressInfo).port;
}

// A node:http server for one test; closed, with its connections, in teardown.
async function httpServer(t: { teardown(fn: () => void): void }, handler: http.RequestListener) {
  const server = http.createServer(handler);
  const port = await listen(server);
  t.teardown(() => { server.closeAllConnections(); server.close(); });
  return { server, base: `http://127.0.0.1:${port}` };
}

// A raw TCP server that answers each connection with what the test scripts.
async function rawServer(t: { teardown(fn: () => void): void }, onSocket: (socket: net.Socket) => void) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    onSocket(socket);
  });
  const port = await listen(server);
  t.teardown(() => { for (const s of sockets) s.destroy(); server.close(); });
  return { base: `http://127.0.0.1:${port}`, sockets };
}

// The whole body, as the consumer saw it, or the error it got.
function readAll(response: HttpResponse): Promise<{ body: Buffer; error?: HttpClientError }> {
  return new Promise((resolve) => {
    const pieces: Buffer[] = [];
    response.read({
      data: (bytes) => { pieces.push(Buffer.from(bytes)); },
      end: () => resolve({ body: Buffer.concat(pieces) }),
      error: (error) => resolve({ body: Buffer.concat(pieces), error }),
    });
  });
}

function collectRequest(request: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const pieces: Buffer[] = [];
    request.on("data", (c: Buffer) => pieces.push(c));
    request.on("end", () => resolve(Buffer.concat(pieces)));
  });
}

test("GET: status, reason, lower-case headers, body; the request carries Host and Connection: close", async (t) => {
  let seen: http.IncomingHttpHeaders = {};
  const { base } = await httpServer(t, (request, response) => {
    seen = request.headers;
    const text = `you asked for ${request.url}`;
    response.writeHead(200, "Fine Thanks", { "Content-Type": "text/plain", "X-Mixed-Case": "Yes", "Content-Length": String(text.length) });
    response.end(text);
  });
  const response = await client().request({ method: "GET", url: `${base}/a/b?c=d%20e#frag`, headers: { "X-Printer": "lobby" } });
  t.is(response.status, 200);
  t.is(response.reason, "Fine Thanks");
  t.is(response.version, "1.1");
  t.is(response.headers["content-type"], "text/plain");
  t.is(response.headers["x-mixed-case"], "Yes");
  t.is(response.contentLength, "you asked for /a/b?c=d%20e".length);
  const { body, error } = await readAll(response);
  t.is(error, undefined);
  t.is(body.toString(), "you asked for /a/b?c=d%20e");
  t.is(seen.host, base.slice("http://".length));
  t.is(seen.connection, "close");
  t.is(seen["x-printer"], "lobby");
});

test("POST with a Content-Length body, as a string and as bytes", async (t) => {
  const { base } = await httpServer(t, async (request, response) => {
    const body = await collectRequest(request);
    response.end(JSON.stringify({ length: request.headers["content-length"], te: request.headers["transfer-encoding"] ?? null, body: body.toString("latin1") }));
  });
  const text = await requestJson(client(), { method: "POST", url: `${base}/submit`, headers: { "Content-Type": "text/plain" }, body: "Grüße ✓" });
  t.deepEqual(text.json, { length: "11", te: null, body: Buffer.from("Grüße ✓").toString("latin1") });
  const bytes = Uint8Array.from([0, 1, 2, 255, 13, 10]);
  const raw = await requestJson(client(), { method: "PUT", url: `${base}/raw`, body: bytes });
  t.deepEqual(raw.json, { length: "6", te: null, body: Buffer.from(bytes).toString("latin1") });
});

// A source that produces n pieces of size bytes on demand, counting pulls.
function countingSource(pieces: number, size: number, length?: number): BodySource & { pulls: number; produced: number } {
  const random = new SeededRandom(99);
  const source = {
    length,
    pulls: 0,
    produced: 0,
    pull(sink: BodySink) {
      source.pulls++;
      while (source.produced < pieces) {
        source.produced++;
        const more = sink.write(random.bytes(size));
        if (!more) return;
      }
      sink.end();
    },
  };
  return source;
}

test("a streamed body of unknown length goes chunked and arrives whole; a declared one goes with Content-Length", async (t) => {
  const { base } = await httpServer(t, async (request, response) => {
    const body = await collectRequest(request);
    response.end(JSON.stringify({ length: request.headers["content-length"] ?? null, te: request.headers["transfer-encoding"] ?? null, size: body.length, first: body[0], last: body[body.length - 1] }));
  });
  const reference = new SeededRandom(99).bytes(200 * 65536);
  const chunked = countingSource(200, 65536);
  const answer = await requestJson(client(), { method: "POST", url: `${base}/up`, body: chunked });
  t.deepEqual(answer.json, { length: null, te: "chunked", size: 200 * 65536, first: reference[0], last: reference[reference.length - 1] });
  t.true(chunked.pulls > 1, "13 MB did not fit the socket buffer at once: the source was pulled again after drain");
  const declared = countingSource(20, 1000, 20_000);
  const known = await requestJson(client(), { method: "POST", url: `${base}/up`, body: declared });
  t.like(known.json, { length: "20000", te: null, size: 20_000 });
});

test("a source that breaks its declared length fails the request with a clear error", async (t) => {
  const { base } = await httpServer(t, (request, response) => { request.resume(); request.on("end", () => response.end("ok")); });
  const short = await t.throwsAsync(client().request({ method: "POST", url: base, body: countingSource(2, 10, 30) }), { instanceOf: HttpClientError });
  t.regex(short!.message, /ended after 20 of the 30 bytes/);
  const long = await t.throwsAsync(client().request({ method: "POST", url: base, body: countingSource(4, 10, 30) }), { instanceOf: HttpClientError });
  t.regex(long!.message, /more than the 30 bytes/);
});

test("a chunked response streams through the chunked decoder", async (t) => {
  const { base } = await httpServer(t, async (request, response) => {
    response.writeHead(200, { "Content-Type": "application/octet-stream" });
    for (let i = 0; i < 50; i++) {
      response.write(Buffer.alloc(1000 + i, i));
      await sleep(1);
    }
    response.end();
  });
  const response = await client().request({ method: "GET", url: `${base}/stream` });
  t.is(response.headers["transfer-encoding"], "chunked");
  t.is(response.contentLength, undefined);
  const { body, error } = await readAll(response);
  t.is(error, undefined);
  t.is(body.length, 50 * 1000 + (49 * 50) / 2);
  t.is(body[0], 0);
  t.is(body[body.length - 1], 49);
});

test("a response with neither length nor chunking ends when the server closes", async (t) => {
  const { base } = await rawServer(t, (socket) => {
    socket.once("data", () => {
      socket.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst part, ");
      setTimeout(() => socket.end("second part"), 20);
    });
  });
  const response = await client().request({ method: "GET", url: base });
  const { body, error } = await readAll(response);
  t.is(error, undefined);
  t.is(body.toString(), "first part, second part");
});

test("a 302 is handed back as it is, with its Location, and not followed", async (t) => {
  const paths: string[] = [];
  const { base } = await httpServer(t, (request, response) => {
    paths.push(request.url!);
    if (request.url === "/old") response.writeHead(302, { Location: "/new" }).end("moved");
    else response.end("new place");
  });
  const answer = await requestText(client(), { method: "GET", url: `${base}/old` });
  t.is(answer.status, 302);
  t.is(answer.headers.location, "/new");
  t.is(answer.text, "moved");
  await sleep(50);
  t.deepEqual(paths, ["/old"]);
});

test("HEAD, 204 and 304 answers have no body even when they declare a length", async (t) => {
  const { base } = await httpServer(t, (request, response) => {
    if (request.url === "/204") response.writeHead(204).end();
    else if (request.url === "/304") response.writeHead(304, { "Content-Length": "99" }).end();
    else response.writeHead(200, { "Content-Length": "1234" }).end(request.method === "HEAD" ? undefined : "x".repeat(1234));
  });
  for (const [method, url, status] of [["HEAD", "/x", 200], ["GET", "/204", 204], ["GET", "/304", 304]] as const) {
    const response = await client().request({ method, url: base + url });
    t.is(response.status, status);
    const { body, error } = await readAll(response);
    t.is(error, undefined);
    t.is(body.length, 0);
  }
});

test("a paused consumer holds the server back through TCP, and memory does not grow with the body", async (t) => {
  const total = 256 * 1024 * 1024;
  const piece = Buffer.alloc(64 * 1024, 0x5a);
  let written = 0;
  let ended = false;
  const { base } = await httpServer(t, (request, response) => {
    response.writeHead(200, { "Content-Length": String(total) });
    const pump = () => {
      while (written < total) {
        written += piece.length;
        if (!response.write(piece)) return void response.once("drain", pump);
      }
      ended = true;
      response.end();
    };
    pump();
  });
  const response = await client().request({ method: "GET", url: `${base}/big` });
  let received = 0;
  let pauses = 0;
  const finished = new Promise<HttpClientError | undefined>((resolve) => {
    response.read({
      data: (bytes) => {
        received += bytes.length;
        // Stop at every 64 MB mark, as a full print engine would.
        if (Math.floor((received - bytes.length) / (64 << 20)) !== Math.floor(received / (64 << 20)) && received < total) {
          pauses++;
          response.pause();
        }
      },
      end: () => resolve(undefined),
      error: resolve,
    });
  });
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  for (let round = 0; round < 3; round++) {
    // Wait (bounded) for the consumer to reach its next pause mark.
    for (let i = 0; i < 400 && pauses <= round; i++) await sleep(25);
    t.is(pauses, round + 1, `paused at mark ${round + 1}`);
    const heldAt = await steady(() => written);
    await sleep(300);
    t.is(written, heldAt, "the server's writes are held back while the consumer is paused");
    t.false(ended);
    t.true(written - received < 32 * 1024 * 1024, `only socket buffers' worth is in flight (${written - received} bytes)`);
    response.resume();
  }
  const error = await finished;
  t.is(error, undefined);
  t.is(received, total);
  globalThis.gc?.();
  const growth = process.memoryUsage().heapUsed - heapBefore;
  t.true(growth < 16 * 1024 * 1024, `heap grew by ${growth} bytes for a 256 MB body`);
});

test("a server that never answers meets the head timeout; one that stalls mid-body the idle timeout", async (t) => {
  const { base } = await rawServer(t, (socket) => {
    socket.once("data", (request) => {
      if (request.toString().startsWith("GET /silent")) return;
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this much");
    });
  });
  const silent = await t.throwsAsync(client({ headTimeoutMs: 300 }).request({ method: "GET", url: `${base}/silent` }), { instanceOf: HttpClientError });
  t.is(silent!.kind, "timeout");
  t.regex(silent!.message, /no response head within 300 ms/);
  const response = await client({ idleTimeoutMs: 300 }).request({ method: "GET", url: `${base}/stall` });
  const { body, error } = await readAll(response);
  t.is(body.toString(), "only this much");
  t.is(error?.kind, "timeout");
  t.regex(error!.message, /body stalled for 300 ms/);
});

test("time the consumer holds the body paused is not idle time", async (t) => {
  const { base } = await httpServer(t, (request, response) => {
    response.writeHead(200, { "Content-Length": "6" });
    response.write("abc");
    setTimeout(() => response.end("def"), 50);
  });
  const response = await client({ idleTimeoutMs: 400 }).request({ method: "GET", url: base });
  response.pause();
  const reading = readAll(response);
  await sleep(800);
  response.resume();
  const { body, error } = await reading;
  t.is(error, undefined);
  t.is(body.toString(), "abcdef");
});

test("a server that closes mid-body is an error, not a short success", async (t) => {
  const { base } = await rawServer(t, (socket) => {
    socket.once("data", (request) => {
      if (request.toString().startsWith("GET /chunked")) socket.end("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\nonly part");
      else socket.end("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + "x".repeat(500));
    });
  });
  const length = await readAll(await client().request({ method: "GET", url: `${base}/length` }));
  t.is(length.error?.kind, "closed");
  t.regex(length.error!.message, /closed after 500 of 1000 body bytes/);
  const chunked = await readAll(await client().request({ method: "GET", url: `${base}/chunked` }));
  t.is(chunked.error?.kind, "closed");
  t.regex(chunked.error!.message, /closed in the middle of a chunked body/);
  t.is(chunked.body.toString(), "helloonly part");
  const none = await t.throwsAsync(rawServer(t, (socket) => socket.once("data", () => socket.end("HTTP/1.1 200"))).then(({ base: b }) => client().request({ method: "GET", url: b })));
  t.regex(none!.message, /closed in the middle of the response head/);
});

test("garbage is a clear protocol error: not HTTP, a bad chunk size, a bad Content-Length, an unknown coding", async (t) => {
  const answers: Record<string, string> = {
    "/ssh": "SSH-2.0-OpenSSH_9.2\r\n\r\n",
    "/chunk": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    "/length": "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello",
    "/gzip": "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    "/field": "HTTP/1.1 200 OK\r\nNo colon\r\n\r\n",
    "/version": "HTTP/2.0 200 OK\r\n\r\n",
  };
  const { base } = await rawServer(t, (socket) => {
    socket.once("data", (request) => socket.end(answers[request.toString().split(" ")[1]]));
  });
  const expect: Record<string, RegExp> = {
    "/ssh": /malformed response: malformed status line/,
    "/length": /malformed Content-Length/,
    "/gzip": /unsupported transfer coding/,
    "/field": /malformed response: malformed header field/,
    "/version": /HTTP\/2.0 is not supported/,
  };
  for (const [url, pattern] of Object.entries(expect)) {
    const error = await t.throwsAsync(client().request({ method: "GET", url: base + url }), { instanceOf: HttpClientError }, url);
    t.is(error!.kind, "protocol", url);
    t.regex(error!.message, pattern, url);
  }
  const chunk = await readAll(await client().request({ method: "GET", url: `${base}/chunk` }));
  t.is(chunk.error?.kind, "protocol");
  t.regex(chunk.error!.message, /malformed chunked body: chunk size missing/);
});

test("an oversized response head is refused within the bound, without reading it all", async (t) => {
  let accepted = 0;
  const { base } = await rawServer(t, (socket) => {
    socket.once("data", () => {
      socket.write("HTTP/1.1 200 OK\r\nX-Huge: ");
      // Up to 64 MB of one header value, as fast as the client takes it.
      const piece = Buffer.alloc(64 * 1024, 0x61);
      const pump = () => {
        while (accepted < 1024 * piece.length && !socket.destroyed) {
          accepted += piece.length;
          if (!socket.write(piece)) return void socket.once("drain", pump);
        }
      };
      pump();
    });
  });
  const error = await t.throwsAsync(client({ maxHeadBytes: 4096 }).request({ method: "GET", url: base }), { instanceOf: HttpClientError });
  t.regex(error!.message, /response head longer than 4096 bytes/);
  await sleep(100);
  t.true(accepted < 1024 * 64 * 1024, "the client stopped reading long before the server was done");
  const many = await rawServer(t, (socket) => socket.once("data", () => socket.end("HTTP/1.1 200 OK\r\n" + "A: b\r\n".repeat(100) + "\r\n")));
  const tooMany = await t.throwsAsync(client({ maxHeaders: 50 }).request({ method: "GET", url: many.base }));
  t.regex(tooMany!.message, /more than 50 header fields/);
});

test("interim 1xx answers are skipped; the real one is returned", async (t) => {
  const { base } = await rawServer(t, (socket) => {
    socket.once("data", () => socket.end("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"));
  });
  const answer = await requestText(client(), { method: "POST", url: base, body: "x" });
  t.is(answer.status, 201);
  t.is(answer.text, "ok");
});

test("plain text to a host that is not loopback is refused unless allowed; https needs TLS in the HAL", async (t) => {
  const attempts: string[] = [];
  const recordingTcp: Tcp = {
    listen: () => Promise.reject(new Error("not here")),
    connect: (options) => { attempts.push(`${options.address}:${options.port}`); return Promise.reject(new Error(`cannot connect to ${options.address}:${options.port}: ENETUNREACH`)); },
  };
  const cloudHal = { ...hal, tcp: recordingTcp, resolver: fakeResolver({ "cloud.example": ["192.0.2.10"] }) };
  const refused = await t.throwsAsync(new HttpClient(cloudHal).request({ method: "GET", url: "http://cloud.example/register" }), { instanceOf: HttpClientError });
  t.is(refused!.kind, "policy");
  t.regex(refused!.message, /plain-text HTTP to cloud.example is not allowed/);
  t.deepEqual(attempts, [], "nothing was sent");
  const allowed = await t.throwsAsync(new HttpClient(cloudHal, { allowPlainText: true }).request({ method: "GET", url: "http://cloud.example:8080/register" }));
  t.is((allowed as HttpClientError).kind, "connect");
  t.deepEqual(attempts, ["192.0.2.10:8080"]);
  const noTls = await t.throwsAsync(new HttpClient(cloudHal).request({ method: "GET", url: "https://cloud.example/" }));
  t.regex(noTls!.message, /this host has no TLS/);
  const unknown = await t.throwsAsync(new HttpClient(cloudHal).request({ method: "GET", url: "https://nowhere.example/" }));
  t.regex(unknown!.message, /no TLS/);
});

test("connection refused and unresolvable names are errors that say so", async (t) => {
  const closed = net.createServer();
  const port = await listen(closed);
  await new Promise((resolve) => closed.close(resolve));
  const refused = await t.throwsAsync(client().request({ method: "GET", url: `http://127.0.0.1:${port}/` }), { instanceOf: HttpClientError });
  t.is(refused!.kind, "connect");
  t.regex(refused!.message, /ECONNREFUSED/);
  const unresolved = await t.throwsAsync(new HttpClient({ ...hal, resolver: fakeResolver() }).request({ method: "GET", url: "http://printer.invalid/" }));
  t.is((unresolved as HttpClientError).kind, "resolve");
  t.regex(unresolved!.message, /cannot resolve printer.invalid/);
});

test("requests that cannot be sent as written are refused before connecting", async (t) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ method: "GET", url: "ftp://127.0.0.1/" }, /must start with http/],
    [{ method: "GET", url: "http://127.0.0.1/a b" }, /percent-encoded/],
    [{ method: "GET", url: "http://user:pw@127.0.0.1/" }, /user information/],
    [{ method: "GET", url: "http://127.0.0.1:99999/" }, /malformed port/],
    [{ method: "GET", url: "http://[::1]/" }, /IPv6/],
    [{ method: "GET", url: "http://bad_host/" }, /malformed host/],
    [{ method: "GET", url: "http://127.0.0.300/" }, /malformed IPv4/],
    [{ method: "GET", url: "http://127.0.0.1/" + "a".repeat(3000) }, /longer than 2048/],
    [{ method: "G T", url: "http://127.0.0.1/" }, /malformed method/],
    [{ method: "GET", url: "http://127.0.0.1/", headers: { "X-Evil": "a\r\nInjected: yes" } }, /cannot be sent/],
    [{ method: "GET", url: "http://127.0.0.1/", headers: { "Content-Length": "5" } }, /client's to set/],
  ];
  for (const [request, pattern] of cases) {
    const error = await t.throwsAsync(client().request(request as never), { instanceOf: HttpClientError });
    t.is(error!.kind, "request");
    t.regex(error!.message, pattern);
  }
  t.like(parseHttpUrl("HTTPS://Cloud.Example:443?x=1"), { secure: true, host: "cloud.example", port: 443, target: "/?x=1", authority: "cloud.example" });
  t.like(parseHttpUrl("http://localhost:8631/privet/info"), { secure: false, port: 8631, target: "/privet/info", authority: "localhost:8631" });
});

test("collecting small answers: JSON parsed, a body over the limit or not JSON refused", async (t) => {
  const { base } = await httpServer(t, (request, response) => {
    if (request.url === "/json") response.end(JSON.stringify({ success: true, printers: [] }));
    else if (request.url === "/big") response.end("x".repeat(5000));
    else if (request.url === "/chunked-big") { response.write("y".repeat(3000)); response.end("y".repeat(3000)); }
    else response.end("<html>not json</html>");
  });
  const ok = await requestJson(client(), { method: "GET", url: `${base}/json` });
  t.deepEqual(ok.json, { success: true, printers: [] });
  for (const url of ["/big", "/chunked-big"]) {
    const error = await t.throwsAsync(requestText(client(), { method: "GET", url: base + url }, 4096));
    t.regex(error!.message, /over the limit of 4096/);
  }
  const html = await t.throwsAsync(requestJson(client(), { method: "GET", url: `${base}/html` }));
  t.regex(html!.message, /body is not JSON/);
});

test("a body consumer that throws ends the exchange with an error instead of crashing the host", async (t) => {
  const { base } = await httpServer(t, (request, response) => response.end("some body"));
  const response = await client().request({ method: "GET", url: base });
  const error = await new Promise<HttpClientError>((resolve) => {
    response.read({ data: () => { throw new Error("engine on fire"); }, end: () => resolve(new HttpClientError("body", "ended")), error: resolve });
  });
  t.regex(error.message, /the body consumer threw: engine on fire/);
});

// Python's http.server: HTTP/1.0 answers from a real, independent server.
test.serial("Python's http.server: a file byte for byte, a 404, an HTTP/1.0 response", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "http-client-py-"));
  const content = new SeededRandom(7).bytes(300_000);
  writeFileSync(path.join(dir, "doc.bin"), content);
  const probe = net.createServer();
  const port = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
  const python: ChildProcess = spawn("python3", ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", dir], { stdio: "ignore" });
  t.teardown(() => { if (python.pid !== undefined && python.exitCode === null) process.kill(python.pid, "SIGTERM"); rmSync(dir, { recursive: true, force: true }); });
  const base = `http://127.0.0.1:${port}`;
  let response: HttpResponse | undefined;
  for (let attempt = 0; attempt < 100 && !response; attempt++) {
    try {
      response = await client({ connectTimeoutMs: 500 }).request({ method: "GET", url: `${base}/doc.bin` });
    } catch {
      await sleep(100);
    }
  }
  if (!response) return t.fail("python3 -m http.server did not start within 10 s");
  t.is(response.status, 200);
  t.is(response.version, "1.0");
  t.is(response.contentLength, content.length);
  const body = await readBodyBytes(response, 1 << 20);
  t.true(Buffer.from(body).equals(Buffer.from(content)));
  const missing = await requestText(client(), { method: "GET", url: `${base}/missing.txt` });
  t.is(missing.status, 404);
  t.regex(missing.text, /File not found/);
});

test("a server that stops taking the request body meets the idle timeout; one that answers early stops the upload", async (t) => {
  const { base } = await rawServer(t, (socket) => {
    socket.once("data", (first) => {
      if (first.toString().startsWith("POST /deaf")) return void socket.pause();
      // Answer at once, keep reading (and dropping) what comes, close later:
      // closing with unread data would reset the connection under the answer.
      socket.write("HTTP/1.1 413 Content Too Large\r\nContent-Length: 8\r\n\r\ntoo big!");
      socket.resume();
      setTimeout(() => socket.end(), 200);
    });
  });
  const deaf = countingSource(100_000, 65536);
  const stalled = await t.throwsAsync(client({ idleTimeoutMs: 300 }).request({ method: "POST", url: `${base}/deaf`, body: deaf }), { instanceOf: HttpClientError });
  t.is(stalled!.kind, "timeout");
  t.regex(stalled!.message, /request body stalled for 300 ms/);
  t.true(deaf.produced < 100_000, "the source was not drained into memory");
  const early = countingSource(100_000, 65536);
  const answer = await requestText(client(), { method: "POST", url: `${base}/early`, body: early });
  t.is(answer.status, 413);
  t.is(answer.text, "too big!");
  t.true(early.produced < 100_000);
});
