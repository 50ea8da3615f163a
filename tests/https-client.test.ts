import test from "ava";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as https from "node:https";
import type * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { nodeClock, nodeResolver, nodeTcp } from "../hosts/node/hal.js";
import { nodeTls } from "../hosts/node/tls.js";
import { HttpClient, HttpClientError, type HttpClientOptions } from "../modules/http/client.js";
import { requestJson, requestText } from "../modules/http/collect.js";
import { steady } from "./helpers/steady.js";

// The client over the Node host's TLS against node:https on 127.0.0.1, with
// certificates openssl makes for the test: one to trust (only through the
// test-only trustSelfSigned), and ones that must be refused.

const dir = mkdtempSync(path.join(tmpdir(), "http-client-tls-"));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

interface Pair { cert: string; key: string }

// A self-signed P-256 certificate for the given subject name and SANs.
function makeCertificate(name: string, cn: string, san: string): Pair {
  const key = path.join(dir, `${name}.key`), cert = path.join(dir, `${name}.pem`);
  const made = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", key, "-out", cert, "-days", "2", "-subj", `/CN=${cn}`, "-addext", `subjectAltName=${san}`], { encoding: "utf8", timeout: 20_000 });
  if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
  return { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
}

const good = makeCertificate("good", "127.0.0.1", "IP:127.0.0.1,DNS:localhost");
const otherName = makeCertificate("other-name", "printer.example", "DNS:printer.example");

async function httpsServer(t: { teardown(fn: () => void): void }, pair: Pair, handler: Parameters<typeof https.createServer>[1]) {
  const server = https.createServer({ cert: pair.cert, key: pair.key }, handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => { server.closeAllConnections(); server.close(); });
  return `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

const hal = { tcp: nodeTcp, resolver: nodeResolver, tls: nodeTls, clock: nodeClock, log: () => {} };
const client = (options: Partial<HttpClientOptions> = {}) => new HttpClient(hal, options);

test("HTTPS with a trusted self-signed certificate: by address and by name, GET and POST", async (t) => {
  let sni: string | undefined;
  const where = await httpsServer(t, good, (request, response) => {
    sni = (request.socket as unknown as { servername?: string }).servername;
    const pieces: Buffer[] = [];
    request.on("data", (c: Buffer) => pieces.push(c));
    request.on("end", () => response.end(JSON.stringify({ method: request.method, url: request.url, body: Buffer.concat(pieces).toString() })));
  });
  const byAddress = await requestJson(client({ trustSelfSigned: good.cert }), { method: "GET", url: `https://${where}/info` });
  t.deepEqual(byAddress.json, { method: "GET", url: "/info", body: "" });
  t.falsy(sni, "no SNI for an address");
  const port = where.split(":")[1];
  const byName = await requestJson(client({ trustSelfSigned: good.cert }), { method: "POST", url: `https://localhost:${port}/register`, body: "proxy=1" });
  t.deepEqual(byName.json, { method: "POST", url: "/register", body: "proxy=1" });
  t.is(sni, "localhost");
});

test("HTTPS: a certificate nobody trusts is refused, saying why", async (t) => {
  const where = await httpsServer(t, good, (request, response) => response.end("secret"));
  const error = await t.throwsAsync(client().request({ method: "GET", url: `https://${where}/` }), { instanceOf: HttpClientError });
  t.is(error!.kind, "tls");
  t.regex(error!.message, /certificate for 127\.0\.0\.1 is not trusted: (DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)/);
  // Trust anchors replace the defaults: another certificate as the only anchor does not help.
  const anchored = await t.throwsAsync(client({ trustAnchors: [otherName.cert] }).request({ method: "GET", url: `https://${where}/` }));
  t.regex(anchored!.message, /is not trusted/);
  // And the right one as an anchor does.
  const answer = await requestText(client({ trustAnchors: [good.cert] }), { method: "GET", url: `https://${where}/` });
  t.is(answer.text, "secret");
});

test("HTTPS: a trusted certificate for another name is refused", async (t) => {
  const where = await httpsServer(t, otherName, (request, response) => response.end("secret"));
  const error = await t.throwsAsync(client({ trustSelfSigned: otherName.cert }).request({ method: "GET", url: `https://${where}/` }), { instanceOf: HttpClientError });
  t.is(error!.kind, "tls");
  t.regex(error!.message, /certificate is not valid for 127\.0\.0\.1: it names DNS:printer\.example/);
});

test("HTTPS: a plain-text server on the TLS port fails the handshake, within its timeout", async (t) => {
  const net = await import("node:net");
  const silent = net.createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const sockets: net.Socket[] = [];
  silent.on("connection", (s) => sockets.push(s));
  t.teardown(() => { for (const s of sockets) s.destroy(); silent.close(); });
  const port = (silent.address() as net.AddressInfo).port;
  const error = await t.throwsAsync(client({ tlsTimeoutMs: 300 }).request({ method: "GET", url: `https://127.0.0.1:${port}/` }));
  t.is((error as HttpClientError).kind, "tls");
  t.regex(error!.message, /TLS handshake with 127\.0\.0\.1 timed out after 300 ms/);
  const garbage = net.createServer((s) => { s.on("error", () => {}); s.end("HTTP/1.1 400 Bad Request\r\n\r\n"); });
  await new Promise<void>((resolve) => garbage.listen(0, "127.0.0.1", resolve));
  t.teardown(() => garbage.close());
  const refused = await t.throwsAsync(client().request({ method: "GET", url: `https://127.0.0.1:${(garbage.address() as net.AddressInfo).port}/` }));
  t.regex(refused!.message, /TLS handshake with 127\.0\.0\.1 failed/);
});

test("HTTPS: a chunked response paused and resumed over TLS arrives whole, and the server is held back", async (t) => {
  const piece = Buffer.alloc(16 * 1024, 0x33);
  const total = 64 * 1024 * 1024;
  let written = 0;
  const where = await httpsServer(t, good, (request, response) => {
    const pump = () => {
      while (written < total) {
        written += piece.length;
        if (!response.write(piece)) return void response.once("drain", pump);
      }
      response.end();
    };
    pump();
  });
  const response = await client({ trustSelfSigned: good.cert }).request({ method: "GET", url: `https://${where}/big` });
  t.is(response.headers["transfer-encoding"], "chunked");
  let received = 0;
  let paused = false;
  const done = new Promise<HttpClientError | undefined>((resolve) => {
    response.read({
      data: (bytes) => {
        received += bytes.length;
        if (!paused && received > 8 * 1024 * 1024) { paused = true; response.pause(); }
      },
      end: () => resolve(undefined),
      error: resolve,
    });
  });
  for (let i = 0; i < 400 && !paused; i++) await new Promise((r) => setTimeout(r, 25));
  t.true(paused);
  const held = await steady(() => written);
  await new Promise((r) => setTimeout(r, 300));
  t.is(written, held, "the server's writes wait while the consumer is paused");
  t.true(written < total);
  response.resume();
  t.is(await done, undefined);
  t.is(received, total);
});

test("STARTTLS shape: a connection in use as plain text is wrapped later, and the old one goes quiet", async (t) => {
  const net = await import("node:net");
  const tls = await import("node:tls");
  const server = net.createServer((socket) => {
    socket.on("error", () => {});
    socket.once("data", () => {
      socket.write("GO\n");
      const secure = new tls.TLSSocket(socket, { isServer: true, cert: good.cert, key: good.key });
      secure.on("error", () => {});
      secure.on("data", (c: Buffer) => secure.write(c.toString().toUpperCase()));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => server.close());
  const plain = await nodeTcp.connect({ address: "127.0.0.1", port: (server.address() as net.AddressInfo).port, timeoutMs: 2000 });
  let plainText = "", plainClosed = false;
  const go = new Promise<void>((resolve) => plain.setEvents({
    data: (c) => { plainText += Buffer.from(c).toString(); if (plainText.endsWith("\n")) resolve(); },
    drain: () => {},
    close: () => { plainClosed = true; },
  }));
  plain.write(Buffer.from("STARTTLS\n"));
  await go;
  t.is(plainText, "GO\n");
  const secure = await nodeTls.wrap(plain, { serverName: "127.0.0.1", trustSelfSigned: good.cert, timeoutMs: 5000 });
  t.false(plain.write(Buffer.from("leak")), "the plain connection no longer writes");
  let answer = "";
  const echoed = new Promise<void>((resolve) => secure.setEvents({
    data: (c) => { answer += Buffer.from(c).toString(); if (answer.length >= 5) resolve(); },
    drain: () => {},
    close: () => {},
  }));
  secure.write(Buffer.from("hello"));
  await echoed;
  t.is(answer, "HELLO");
  secure.destroy();
  await new Promise((r) => setTimeout(r, 50));
  t.false(plainClosed, "the plain connection's events went with its socket");
  t.is(secure.remoteAddress, "127.0.0.1");
});
