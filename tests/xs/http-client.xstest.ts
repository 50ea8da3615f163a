import test, { runAll as runRegistered } from "./harness.js";
import { HttpClient, type HttpClientError, type HttpResponse } from "../../modules/http/client.js";
import { readBodyBytes } from "../../modules/http/collect.js";
import type { BodySink } from "../../modules/http/body.js";
import { multipartForm, urlEncodeForm } from "../../modules/http/form.js";
import type { Tcp, TcpConnection, TcpConnectionEvents } from "../../modules/hal/tcp.js";
import { utf8Decode, utf8Encode } from "../../modules/text/utf8.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { SeededRandom } from "../helpers/seeded-random.js";

// The HTTP client and the form encoders inside XS, over an in-memory TCP:
// proof that they need nothing but ECMAScript and the HAL. The harness runs
// tests synchronously, and the client is promise-based, so the scenarios
// run first (XS drains its promise jobs after each turn) and the registered
// tests then check what they recorded.

const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const latin1 = (bytes: Uint8Array) => { let s = ""; for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]); return s; };

// The server's end of an outbound connection, played by the scenario.
class Peer implements TcpConnection {
  readonly remoteAddress = "127.0.0.1";
  readonly remotePort = 8080;
  events: TcpConnectionEvents | undefined;
  written = "";
  paused = false;
  pauses = 0;
  queued: Uint8Array[] = [];
  destroyed = false;
  setEvents(events: TcpConnectionEvents): void { this.events = events; }
  write(bytes: Uint8Array): boolean { this.written += latin1(bytes); return true; }
  pause(): void { if (!this.paused) this.pauses++; this.paused = true; }
  resume(): void {
    this.paused = false;
    for (let guard = 0; guard < 1000 && !this.paused && this.queued.length > 0 && !this.destroyed; guard++) this.events!.data(this.queued.shift()!);
  }
  end(): void { this.destroyed = true; }
  destroy(): void { this.destroyed = true; }
  send(text: string): void {
    if (this.destroyed) return;
    const bytes = ascii(text);
    if (this.paused) this.queued.push(bytes);
    else this.events!.data(bytes);
  }
}

const peers: Peer[] = [];
const tcp: Tcp = {
  listen: () => Promise.reject(new Error("no listening here")),
  connect: () => { const peer = new Peer(); peers.push(peer); return Promise.resolve(peer); },
};
const clock = new FakeClock();
const hal = {
  tcp,
  resolver: { resolve: (name: string) => Promise.resolve(name === "localhost" ? ["127.0.0.1"] : [name]) },
  clock,
  log: () => {},
};

// Lets the client's awaits run until it has connected and sent its head (bounded).
async function connected(count: number): Promise<Peer> {
  for (let i = 0; i < 100 && (peers.length < count || peers[count - 1].written.length === 0); i++) await Promise.resolve();
  if (peers.length < count) throw new Error("the client never connected");
  return peers[count - 1];
}

function read(response: HttpResponse, onData?: (text: string) => void): Promise<{ body: string; error?: string }> {
  return new Promise((resolve) => {
    let body = "";
    response.read({
      data: (bytes) => { body += latin1(bytes); onData?.(body); },
      end: () => resolve({ body }),
      error: (error: HttpClientError) => resolve({ body, error: error.message }),
    });
  });
}

const results: Record<string, unknown> = {};

async function chunkedWithPause(): Promise<void> {
  const client = new HttpClient(hal);
  const pending = client.request({ method: "GET", url: "http://localhost:8080/job?id=1", headers: { Accept: "application/json" } });
  const peer = await connected(1);
  results.requestHead = peer.written;
  // The answer split at awkward places: inside the status line, a header, a chunk size and chunk data.
  peer.send("HTTP/1.1 200 O");
  peer.send("K\r\nTransfer-Encoding: chu");
  peer.send("nked\r\nContent-Type: text/plain\r\n\r\n5\r\nfirst\r\n1");
  const response = await pending;
  results.status = [response.status, response.reason, response.headers["content-type"], response.contentLength];
  let pausedOnce = false;
  const body = read(response, (text) => {
    if (!pausedOnce && text.length >= 5) { pausedOnce = true; response.pause(); }
  });
  peer.send("0\r\n0123456789abcdef\r\n");
  results.whilePaused = [peer.paused, peer.pauses];
  peer.send("3\r\nend\r\n0\r\n\r\n");
  results.queuedWhilePaused = peer.queued.length;
  response.resume();
  // resume() carries on from a fresh turn.
  clock.advance(1);
  const { body: text, error } = await body;
  results.chunked = [text, error ?? null, peer.destroyed];
}

async function postMultipart(): Promise<void> {
  const client = new HttpClient(hal);
  const form = multipartForm([
    { name: "printerid", value: "p-1" },
    { name: "content", filename: "a.pwg", contentType: "image/pwg-raster", data: ascii("RaS2 raster") },
  ], { random: new SeededRandom(1) });
  const pending = client.request({ method: "POST", url: "http://127.0.0.1:8080/submit", headers: { "Content-Type": form.contentType }, body: form });
  const peer = await connected(2);
  peer.send("HTTP/1.0 201 Created\r\nContent-Length: 2\r\n\r\nok");
  const response = await pending;
  const bytes = await readBodyBytes(response, 100);
  const split = peer.written.indexOf("\r\n\r\n");
  results.multipart = {
    status: response.status,
    body: utf8Decode(bytes),
    declared: /Content-Length: (\d+)/.exec(peer.written.slice(0, split))?.[1],
    sent: peer.written.length - split - 4,
    length: form.length,
    hasFile: peer.written.indexOf('filename="a.pwg"\r\nContent-Type: image/pwg-raster\r\n\r\nRaS2 raster\r\n') > 0,
    closing: peer.written.endsWith(`--${form.boundary}--\r\n`),
  };
}

async function chunkedUpload(): Promise<void> {
  const client = new HttpClient(hal);
  const pieces = ["abc", "", "defgh"];
  const pending = client.request({
    method: "PUT", url: "http://127.0.0.1:8080/up",
    body: { length: undefined, pull: (sink: BodySink) => { for (const p of pieces) sink.write(ascii(p)); sink.end(); } },
  });
  const peer = await connected(3);
  peer.send("HTTP/1.1 204 No Content\r\n\r\n");
  const response = await pending;
  const { error } = await read(response);
  results.upload = [peer.written.slice(peer.written.indexOf("\r\n\r\n") + 4), /Transfer-Encoding: chunked\r\n/.test(peer.written), error ?? null];
}

async function timeoutsAndClose(): Promise<void> {
  const client = new HttpClient(hal, { headTimeoutMs: 5000, idleTimeoutMs: 2000 });
  const silent = client.request({ method: "GET", url: "http://127.0.0.1:8080/silent" });
  await connected(4);
  clock.advance(5000);
  results.headTimeout = await silent.then(() => "resolved", (e: HttpClientError) => `${e.kind}: ${e.message}`);
  const cut = client.request({ method: "GET", url: "http://127.0.0.1:8080/cut" });
  const peer = await connected(5);
  peer.send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345");
  const response = await cut;
  const reading = read(response);
  peer.events!.close(false);
  results.cut = await reading;
  const garbage = client.request({ method: "GET", url: "http://127.0.0.1:8080/x" });
  (await connected(6)).send("\u0000\u0001binary nonsense\r\n\r\n");
  results.garbage = await garbage.then(() => "resolved", (e: HttpClientError) => e.message);
  const plain = await new HttpClient(hal).request({ method: "GET", url: "http://192.0.2.1/" }).then(() => "resolved", (e: HttpClientError) => e.kind);
  results.plain = plain;
}

test("the request head: origin-form target, Host with port, caller's fields, Connection: close", (t) => {
  t.is(results.requestHead, "GET /job?id=1 HTTP/1.1\r\nHost: localhost:8080\r\nAccept: application/json\r\nConnection: close\r\n\r\n");
});

test("a chunked response split anywhere, paused mid-body: TCP paused, the rest queued, all delivered after resume", (t) => {
  t.deepEqual(results.status, [200, "OK", "text/plain", undefined]);
  // Held data goes out before the connection resumes, so it never resumed in between.
  t.deepEqual(results.whilePaused, [true, 1]);
  t.is(results.queuedWhilePaused, 2);
  t.deepEqual(results.chunked, ["first0123456789abcdefend", null, true]);
});

test("a multipart POST goes with its exact Content-Length; an HTTP/1.0 answer is read", (t) => {
  const m = results.multipart as Record<string, unknown>;
  t.is(m.status, 201);
  t.is(m.body, "ok");
  t.is(Number(m.declared), m.length);
  t.is(m.sent, m.length);
  t.true(m.hasFile);
  t.true(m.closing);
});

test("a source of unknown length is sent chunked, empty writes skipped", (t) => {
  t.deepEqual(results.upload, ["3\r\nabc\r\n5\r\ndefgh\r\n0\r\n\r\n", true, null]);
});

test("head timeout, a cut body, garbage and plain text to the internet are errors", (t) => {
  t.is(results.headTimeout, "timeout: GET http://127.0.0.1:8080/silent: no response head within 5000 ms");
  t.deepEqual(results.cut, { body: "12345", error: "GET http://127.0.0.1:8080/cut: the connection closed after 5 of 10 body bytes" });
  t.is(results.garbage, "GET http://127.0.0.1:8080/x: malformed response: malformed status line");
  t.is(results.plain, "policy");
});

test("form encoders on XS", (t) => {
  t.is(urlEncodeForm([["name", "Büro Drucker"], ["a&b", "*-._~!"]]), "name=B%C3%BCro+Drucker&a%26b=*-._%7E%21");
  const form = multipartForm([{ name: "k", value: "v ✓" }], { boundary: "XyZ" });
  const pieces: string[] = [];
  form.pull({ write: (b) => { pieces.push(utf8Decode(b)); return true; }, end: () => pieces.push("<end>"), abort: () => {} });
  t.deepEqual(pieces, ["--XyZ\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\nv ✓\r\n", "--XyZ--\r\n", "<end>"]);
  t.is(form.length, utf8Encode(pieces.slice(0, 2).join("")).length);
});

// Everything here moves by promise jobs and the fake clock, so a scenario
// still pending after this many turns is stuck: fail it rather than let the
// file report nothing.
async function stuckAfter(turns: number): Promise<never> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
  throw new Error(`still pending after ${turns} promise turns`);
}

// The bundle's footer calls runAll(): play the scenarios, then check them.
export function runAll(): void {
  const scenarios = [chunkedWithPause, postMultipart, chunkedUpload, timeoutsAndClose];
  let chain = Promise.resolve();
  for (const scenario of scenarios) {
    chain = chain.then(() => Promise.race([scenario(), stuckAfter(5000)])).catch((error) => { results[`${scenario.name} failed`] = String(error); });
  }
  chain.then(() => {
    test("every scenario ran to its end", (t) => {
      t.deepEqual(Object.keys(results).filter((k) => k.endsWith("failed")).map((k) => `${k}: ${results[k]}`), []);
    });
    runRegistered();
  });
}
