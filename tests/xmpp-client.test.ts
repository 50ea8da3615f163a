import test, { type ExecutionContext } from "ava";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { nodeClock, nodeRandom, nodeResolver, nodeTcp } from "../hosts/node/hal.js";
import { nodeTls } from "../hosts/node/tls.js";
import { XmppClient, type XmppClientHal, type XmppClientListener, type XmppClientOptions, type XmppConnectionState, type XmppError, type XmppPush } from "../modules/xmpp/client.js";
import { FakeClock } from "./helpers/fake-clock.js";
import { FakeTcp, fakeResolver, type FakeConnection } from "./helpers/fake-tcp.js";
import { SeededRandom } from "./helpers/seeded-random.js";
import { ScriptedXmpp, type ScriptOptions } from "./helpers/xmpp-server.js";

// The XMPP client against a scripted server written here: over real sockets
// on 127.0.0.1 for the protocol (plain, STARTTLS and direct TLS with a
// certificate openssl makes for the test), and over the in-memory TCP with
// the fake clock for everything that is about time (pings, backoff).

const JID = "robot@cloudprint.googleusercontent.com";
const PRINTER = "a3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d";

const dir = mkdtempSync(path.join(tmpdir(), "xmpp-client-"));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
const keyFile = path.join(dir, "key.pem"), certFile = path.join(dir, "cert.pem");
const made = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
  "-keyout", keyFile, "-out", certFile, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], { encoding: "utf8", timeout: 20_000 });
if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
const CERT = readFileSync(certFile, "utf8"), KEY = readFileSync(keyFile, "utf8");

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(t: ExecutionContext, what: string, condition: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !condition();) {
    if (Date.now() > end) { t.fail(`timed out waiting for ${what}`); throw new Error(`timed out waiting for ${what}`); }
    await sleep(10);
  }
}

// A listener on 127.0.0.1 running one script per connection; options(n)
// configures the n-th connection's script.
async function realServer(t: ExecutionContext, mode: "tcp" | "direct-tls", options: (n: number) => Partial<ScriptOptions>) {
  const scripts: ScriptedXmpp[] = [];
  const sockets = new Set<net.Socket>();
  const handler = (raw: net.Socket) => {
    sockets.add(raw);
    raw.on("error", () => {});
    let socket = raw;
    const onData = (chunk: Buffer) => script.input(chunk.toString("utf8"));
    const script = new ScriptedXmpp({
      send: (text) => { if (!socket.destroyed) socket.write(text); },
      upgrade: () => {
        socket.off("data", onData);
        const secure = new tls.TLSSocket(socket, { isServer: true, cert: CERT, key: KEY });
        secure.on("error", () => {});
        secure.on("data", onData);
        sockets.add(secure);
        socket = secure;
      },
      close: () => socket.end(),
    }, options(scripts.length));
    scripts.push(script);
    socket.on("data", onData);
  };
  const server = mode === "direct-tls" ? tls.createServer({ cert: CERT, key: KEY }, handler) : net.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => { for (const s of sockets) s.destroy(); server.close(); });
  return { port: (server.address() as net.AddressInfo).port, scripts, sockets };
}

const realHal: XmppClientHal = { tcp: nodeTcp, resolver: nodeResolver, tls: nodeTls, clock: nodeClock, random: nodeRandom, log: () => {} };

function startClient(t: ExecutionContext, hal: XmppClientHal, options: Partial<XmppClientOptions>, listener: XmppClientListener = {}) {
  const states: XmppConnectionState[] = [];
  const errors: XmppError[] = [];
  const pushes: XmppPush[] = [];
  const client = new XmppClient(hal, {
    host: "127.0.0.1", jid: JID, accessToken: "good-token", printerId: PRINTER, ...options,
  }, {
    state: (state) => states.push(state),
    error: (error) => errors.push(error),
    push: (push) => pushes.push(push),
    ...listener,
  });
  t.teardown(() => client.stop());
  client.start();
  return { client, states, errors, pushes };
}

const STREAM_HEADER = `<stream:stream to="cloudprint.googleusercontent.com" xml:lang="en" version="1.0" xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:client">`;
const AUTH = `<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="X-OAUTH2" auth:service="oauth2" auth:allow-generated-jid="true" auth:client-uses-full-bind-result="true" xmlns:auth="http://www.google.com/talk/protocol/auth">`
  + `${Buffer.from(`\u0000${JID}\u0000good-token`).toString("base64")}</auth>`;

test("plain text on loopback: the exact sequence of §3.2, each push kind, the server's iqs answered, a polite stop", async (t) => {
  const server = await realServer(t, "tcp", () => ({}));
  const { client, states, pushes } = startClient(t, realHal, { port: server.port, transport: "plain", allowPlainText: true });
  await until(t, "online", () => client.state === "online");
  const script = server.scripts[0];
  t.deepEqual(script.received, [
    STREAM_HEADER,
    AUTH,
    STREAM_HEADER,
    `<iq type="set" id="0"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>cloud_print</resource></bind></iq>`,
    `<iq type="set" id="1"><session xmlns="urn:ietf:params:xml:ns:xmpp-session"/></iq>`,
    `<iq type="set" id="2" to="${JID}"><subscribe xmlns="google:push"><item channel="cloudprint.google.com" from="cloudprint.google.com"/></subscribe></iq>`,
  ]);
  t.is(client.fullJid, script.fullJid);

  script.push(PRINTER);
  script.push(`${PRINTER}/update_settings`, true);
  script.push("some-other-printer");
  script.push(`${PRINTER}/delete`);
  script.push(`${PRINTER}/`, true);
  await until(t, "four pushes", () => pushes.length === 4);
  t.deepEqual(pushes.map((p) => p.kind), ["jobs", "update_settings", "delete", "jobs"]);
  t.true(pushes.every((p) => p.printerId === PRINTER));

  // The server's own ping is answered; an iq nobody here handles gets service-unavailable.
  const before = script.received.length;
  server.sockets.forEach((s) => s.write(`<iq type="get" id="s1" from="gmail.com"><ping xmlns="urn:xmpp:ping"/></iq><iq type="set" id="s2" from="gmail.com"><query xmlns="jabber:iq:roster"/></iq>`));
  await until(t, "answers", () => script.received.length === before + 2);
  t.deepEqual(script.received.slice(before), [
    `<iq type="result" id="s1" to="gmail.com"/>`,
    `<iq type="error" id="s2" to="gmail.com"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`,
  ]);

  client.stop();
  await until(t, "the stream end", () => script.received.at(-1) === "</stream:stream>");
  t.deepEqual(states, ["connecting", "online", "offline"]);
});

test("STARTTLS with a trusted self-signed certificate: offered and required; SASL only after TLS; pings answered", async (t) => {
  for (const starttls of ["offered", "required"] as const) {
    const server = await realServer(t, "tcp", () => ({ starttls }));
    const { client, errors } = startClient(t, realHal, {
      port: server.port, transport: "starttls", trustSelfSigned: CERT, pingIntervalSeconds: 0.05, minPingIntervalSeconds: 0,
    });
    await until(t, `online (${starttls})`, () => client.state === "online");
    const script = server.scripts[0];
    t.true(script.secure);
    t.deepEqual(script.received.slice(0, 4), [STREAM_HEADER, `<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>`, STREAM_HEADER, AUTH]);
    await until(t, "three pings answered", () => script.pings >= 3);
    t.is(client.state, "online");
    t.deepEqual(errors, []);
    client.stop();
  }
});

test("direct TLS, as Google's Go connector: a push arrives", async (t) => {
  const server = await realServer(t, "direct-tls", () => ({}));
  const { client, pushes } = startClient(t, realHal, { port: server.port, transport: "direct-tls", trustSelfSigned: CERT });
  await until(t, "online", () => client.state === "online");
  t.is(server.scripts[0].received[0], STREAM_HEADER);
  server.scripts[0].push(PRINTER);
  await until(t, "the push", () => pushes.length === 1);
  t.is(pushes[0].kind, "jobs");
});

test("an untrusted certificate is a TLS error and no token is sent", async (t) => {
  const server = await realServer(t, "direct-tls", () => ({}));
  const { errors, states } = startClient(t, realHal, { port: server.port, transport: "direct-tls", backoffInitialMs: 60_000 });
  await until(t, "the error", () => errors.length === 1);
  t.is(errors[0].kind, "tls");
  t.regex(errors[0].message, /not trusted/);
  t.deepEqual(states, ["connecting", "offline"]);
  t.is(server.scripts.length, 0);
});

test("STARTTLS not offered and plain text not allowed: refused before SASL, with a clear error", async (t) => {
  const server = await realServer(t, "tcp", () => ({ starttls: "none" }));
  const { errors, states } = startClient(t, realHal, { port: server.port, transport: "starttls", backoffInitialMs: 60_000 });
  await until(t, "the error", () => errors.length === 1);
  t.is(errors[0].kind, "policy");
  t.is(errors[0].message, "the server does not offer STARTTLS, and plain text is not allowed");
  t.deepEqual(server.scripts[0].received, [STREAM_HEADER]);
  t.deepEqual(states, ["connecting", "offline"]);

  // A server that requires STARTTLS and a configuration that never does TLS.
  const requiring = await realServer(t, "tcp", () => ({ starttls: "required" }));
  const plain = startClient(t, realHal, { port: requiring.port, transport: "plain", allowPlainText: true, backoffInitialMs: 60_000 });
  await until(t, "the error", () => plain.errors.length === 1);
  t.is(plain.errors[0].message, "the server requires STARTTLS, which this configuration cannot do");
  t.deepEqual(requiring.scripts[0].received, [STREAM_HEADER]);

  // Plain text without allowPlainText is a configuration error at start.
  const refused = startClient(t, realHal, { port: requiring.port, transport: "plain" });
  t.is(refused.errors[0].kind, "config");
  t.deepEqual(refused.states, []);
});

test("a refused token: the owner is asked for a fresh one once, and the client comes online with it", async (t) => {
  const server = await realServer(t, "tcp", () => ({ tokens: ["fresh-token"] }));
  let asked = 0;
  const { client, errors, states } = startClient(t, realHal, { port: server.port, transport: "plain", allowPlainText: true, accessToken: "stale-token" }, {
    refreshAccessToken: async () => { asked++; return "fresh-token"; },
  });
  await until(t, "online", () => client.state === "online");
  t.is(asked, 1);
  t.is(errors.length, 1);
  t.is(errors[0].kind, "auth");
  t.regex(errors[0].message, /refused the access token: not-authorized/);
  t.deepEqual(states, ["connecting", "online"]);
  t.is(server.scripts.length, 2);
});

test("a refused token and a refresh the server refuses too: back off, ask again only after the backoff", async (t) => {
  const server = await realServer(t, "tcp", () => ({ tokens: ["never"] }));
  let asked = 0;
  const { client, errors, states } = startClient(t, realHal, {
    port: server.port, transport: "plain", allowPlainText: true, accessToken: "stale", backoffInitialMs: 300, backoffMaxMs: 300,
  }, { refreshAccessToken: async () => { asked++; return `fresh-${asked}`; } });
  await until(t, "offline", () => client.state === "offline");
  t.is(asked, 1);
  t.deepEqual(errors.map((e) => e.kind), ["auth", "auth"]);
  await until(t, "the second round", () => asked === 2 && errors.length === 4 && client.state === "offline");
  t.deepEqual(states.slice(0, 4), ["connecting", "offline", "connecting", "offline"]);

  // A refresh that fails (the refresh token is dead): a "token" error, then backoff.
  const second = await realServer(t, "tcp", () => ({ tokens: ["never"] }));
  const dead = startClient(t, realHal, { port: second.port, transport: "plain", allowPlainText: true, backoffInitialMs: 60_000 }, {
    refreshAccessToken: () => Promise.reject(new Error("invalid_grant")),
  });
  await until(t, "the token error", () => dead.errors.length === 2);
  t.deepEqual(dead.errors.map((e) => e.kind), ["auth", "token"]);
  t.is(dead.errors[1].message, "no fresh access token: invalid_grant");
  t.is(dead.client.state, "offline");
});

test("a hostile server: each kind of garbage is refused with its own error, and the client reconnects until a good server answers", async (t) => {
  const garbage = [
    "this is not XML",
    `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><lolz>&lol2;</lolz>`,
    `<stream:stream xmlns:stream="s">${"<a>".repeat(20)}`,
    `<stream:stream xmlns:stream="s"><message>${"x".repeat(10_000)}</message>`,
    `<stream:stream xmlns:stream="s"><message>${"<a/>".repeat(100)}</message>`,
    `<html><body>`,
    `<stream:stream xmlns:stream="s"><stream:error><host-unknown xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error>`,
    `<stream:stream xmlns:stream="s"><success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>`,
    `<stream:stream xmlns:stream="s">\u0001`,
  ];
  const server = await realServer(t, "tcp", (n) => ({ garbage: garbage[n] }));
  const { client, errors } = startClient(t, realHal, { port: server.port, transport: "plain", allowPlainText: true, backoffInitialMs: 20, backoffMaxMs: 40 });
  await until(t, "online", () => client.state === "online", 10_000);
  t.deepEqual(errors.map((e) => e.kind), ["xml", "xml", "xml", "xml", "limit", "protocol", "stream-error", "protocol", "xml"]);
  t.regex(errors[1].message, /DOCTYPE is not allowed/);
  t.regex(errors[6].message, /host-unknown/);
  t.is(server.scripts.length, garbage.length + 1);
});

// ---- Time, with the fake clock and the in-memory TCP ----

async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) await new Promise((resolve) => setImmediate(resolve));
}

// The script over a fake connection: answers go out on the next turn, as a real peer's would.
function fakeServer(tcp: FakeTcp, address: string, options: (n: number) => Partial<ScriptOptions>) {
  const scripts: ScriptedXmpp[] = [];
  const connections: FakeConnection[] = [];
  tcp.peers.set(address, (connection) => {
    connections.push(connection);
    const script = new ScriptedXmpp({
      send: (text) => setImmediate(() => connection.send(text)),
      upgrade: () => { throw new Error("no TLS in memory"); },
      close: () => setImmediate(() => { if (!connection.isClosed) connection.closeFromPeer(); }),
    }, options(scripts.length));
    scripts.push(script);
    const write = connection.write.bind(connection);
    connection.write = (bytes: Uint8Array) => {
      const ok = write(bytes);
      script.input(Buffer.from(bytes).toString("utf8"));
      return ok;
    };
  });
  return { scripts, connections };
}

async function advanceUntil(clock: FakeClock, condition: () => boolean, limitMs: number): Promise<void> {
  for (let waited = 0; !condition(); waited += 1000) {
    if (waited > limitMs) throw new Error(`not within ${limitMs} ms`);
    clock.advance(1000);
    await settle();
  }
}

// Steps the clock a second at a time until the script has seen one more ping; returns when.
async function nextPing(clock: FakeClock, script: ScriptedXmpp, limitMs: number): Promise<number> {
  const start = script.pings;
  for (let waited = 0; waited <= limitMs; waited += 1000) {
    if (script.pings > start) return clock.now;
    clock.advance(1000);
    await settle();
  }
  throw new Error(`no ping within ${limitMs} ms`);
}

function fakeHal(clock: FakeClock, tcp: FakeTcp, seed = 1): XmppClientHal {
  return { tcp, resolver: fakeResolver({ "talk.example": ["127.0.0.1"] }), clock, random: new SeededRandom(seed), log: () => {} };
}

test("pings every xmpp_timeout_value plus up to 20 %; an unanswered ping is repeated, a second one ends the connection, which comes back", async (t) => {
  const clock = new FakeClock(), tcp = new FakeTcp();
  let answer = true;
  const server = fakeServer(tcp, "127.0.0.1:5222", () => ({ answerPings: answer }));
  const { client, errors, states } = startClient(t, fakeHal(clock, tcp), { host: "talk.example", transport: "plain", allowPlainText: true });
  await settle();
  t.is(client.state, "online");
  const script = server.scripts[0];

  // Each ping comes 300 to 360 s after the previous answer (answers come at once here).
  let last = 0;
  const gaps: number[] = [];
  for (let round = 1; round <= 4; round++) {
    const at = await nextPing(clock, script, 400_000);
    gaps.push(at - last);
    last = at;
  }
  for (const gap of gaps) t.true(gap >= 300_000 && gap <= 361_000, `gap ${gap}`);
  t.true(new Set(gaps).size > 1, "jittered");

  // The owner changes xmpp_timeout_value; the next ping follows it.
  client.setPingInterval(600);
  script.options.answerPings = false;
  const at = await nextPing(clock, script, 800_000);
  t.true(at - last >= 600_000 && at - last <= 721_000, `gap ${at - last}`);
  t.is(script.pings, 5);
  // Unanswered: one more ping after the pong timeout, then the connection is dead.
  clock.advance(30_000);
  await settle();
  t.is(script.pings, 6);
  t.is(client.state, "online");
  clock.advance(30_000);
  await settle();
  t.is(client.state, "offline");
  t.is(errors.at(-1)!.kind, "timeout");
  t.is(errors.at(-1)!.message, "2 pings in a row went unanswered");
  t.true(server.connections[0].destroyed);

  // Back within the first backoff step (5 s at most).
  answer = true;
  clock.advance(5_000);
  await settle();
  t.is(client.state, "online");
  t.is(server.connections.length, 2);
  t.deepEqual(states, ["connecting", "online", "offline", "connecting", "online"]);
});

test("backoff: doubled per failure with jitter in its upper half, capped, and reset by a session that comes online", async (t) => {
  const clock = new FakeClock(), tcp = new FakeTcp();
  // An attempt starts by resolving the host, synchronously from the timer.
  const attempts: number[] = [];
  const hal = fakeHal(clock, tcp, 99);
  const resolve = hal.resolver.resolve;
  hal.resolver = { resolve: (name, ms) => { attempts.push(clock.now); return resolve(name, ms); } };
  const { client, errors } = startClient(t, hal, { port: 5222, transport: "plain", allowPlainText: true });
  await settle();
  // A second at a time: one jump of minutes would also fire the attempt's
  // own timeout before its connect had a turn to fail.
  for (let i = 0; i < 10; i++) await advanceUntil(clock, () => attempts.length === i + 2, 300_000);
  t.deepEqual(errors.filter((e) => e.kind !== "connect").map((e) => e.message), []);
  t.regex(errors[0].message, /ECONNREFUSED/);
  const delays = attempts.slice(1).map((at, i) => at - attempts[i]);
  t.is(delays.length, 10);
  delays.forEach((delay, i) => {
    const base = Math.min(300_000, 5_000 * 2 ** i);
    t.true(delay >= base / 2 && delay <= base, `delay ${i} is ${delay}, base ${base}`);
  });
  t.true(new Set(delays.slice(6)).size > 1, "the capped delays are jittered");

  // The server comes up: online; then it hangs up and the next delay starts small again.
  const server = fakeServer(tcp, "127.0.0.1:5222", () => ({}));
  await advanceUntil(clock, () => client.state === "online", 300_000);
  t.is(client.state, "online");
  server.connections[0].closeFromPeer();
  const closedAt = clock.now;
  t.is(client.state, "offline");
  t.is(errors.at(-1)!.message, "the server closed the connection");
  await advanceUntil(clock, () => client.state === "online", 5_000);
  t.is(client.state, "online");
  t.true(attempts.at(-1)! - closedAt >= 2_500 && attempts.at(-1)! - closedAt <= 5_000);
});

test("a server that accepts and says nothing: the handshake times out, and stop() ends the retries", async (t) => {
  const clock = new FakeClock(), tcp = new FakeTcp();
  const silent: FakeConnection[] = [];
  tcp.peers.set("127.0.0.1:5222", (connection) => { silent.push(connection); });
  const { client, errors } = startClient(t, fakeHal(clock, tcp), { transport: "plain", allowPlainText: true });
  await settle();
  t.is(client.state, "connecting");
  clock.advance(30_000);
  await settle();
  t.is(client.state, "offline");
  t.is(errors[0].kind, "timeout");
  t.true(silent[0].destroyed);
  client.stop();
  clock.advance(600_000);
  await settle();
  t.is(silent.length, 1);
  t.is(clock.pending, 0);
});

test("a server that stops reading while it keeps pinging is dropped once the unsent answers pass the cap", async (t) => {
  const clock = new FakeClock(), tcp = new FakeTcp();
  const server = fakeServer(tcp, "127.0.0.1:5222", () => ({}));
  const { client, errors } = startClient(t, fakeHal(clock, tcp), { transport: "plain", allowPlainText: true, backoffInitialMs: 60_000 });
  await settle();
  t.is(client.state, "online");
  const connection = server.connections[0];
  const write = connection.write;
  let written = 0;
  connection.write = (bytes: Uint8Array) => { written += bytes.length; write(bytes); return false; };
  // A drain in between forgives what was sent before it.
  for (let i = 0; i < 200; i++) connection.send(`<iq type="get" id="s${i}" from="gmail.com"><ping xmlns="urn:xmpp:ping"/></iq>`);
  t.is(client.state, "online");
  (connection as unknown as { events: { drain(): void } }).events.drain();
  for (let i = 0; i < 1000 && client.state === "online"; i++) connection.send(`<iq type="get" id="t${i}" from="gmail.com"><ping xmlns="urn:xmpp:ping"/></iq>`);
  t.is(client.state, "offline");
  t.is(errors.at(-1)!.kind, "limit");
  t.regex(errors.at(-1)!.message, /the server has not read \d+ bytes/);
  t.true(written < 2 * 16_384 + 2_000, `${written} bytes written`);
  t.true(connection.destroyed);
});

test("fuzz: 300 sessions with the server's bytes mutated; nothing is thrown into the socket callbacks, every failure is an XmppError", async (t) => {
  const random = new SeededRandom(4242);
  const inserts = ["<", ">", "&", "/>", "</iq>", "<!DOCTYPE", "]]>", "\u0000", "<stream:stream>", "</stream:stream>", "<success/>", "<iq type='result' id='0'/>"];
  const outcomes = new Map<string, number>();
  for (let i = 0; i < 300; i++) {
    const clock = new FakeClock(), tcp = new FakeTcp();
    let thrown: unknown;
    tcp.peers.set("127.0.0.1:5222", (connection) => {
      const script = new ScriptedXmpp({
        send: (text) => setImmediate(() => {
          let bytes = Array.from(Buffer.from(text));
          // One message in six is damaged, so sessions get some way before it.
          for (let r = random.below(6) === 0 ? 1 + random.below(2) : 0; r > 0; r--) {
            const at = random.below(bytes.length + 1);
            if (random.below(2) === 0) bytes.splice(at, 1 + random.below(4));
            else bytes.splice(at, 0, ...Buffer.from(inserts[random.below(inserts.length)]));
          }
          if (random.below(12) === 0) bytes = bytes.map((b) => (random.below(50) === 0 ? random.below(256) : b));
          try { connection.send(Uint8Array.from(bytes)); } catch (error) { thrown = error; }
        }),
        upgrade: () => {},
        close: () => setImmediate(() => { if (!connection.isClosed) connection.closeFromPeer(); }),
      });
      const write = connection.write.bind(connection);
      connection.write = (bytes: Uint8Array) => { const ok = write(bytes); script.input(Buffer.from(bytes).toString("utf8")); return ok; };
    });
    const errors: unknown[] = [];
    const client = new XmppClient(fakeHal(clock, tcp, i + 1), { host: "127.0.0.1", jid: JID, accessToken: "good-token", printerId: PRINTER, transport: "plain", allowPlainText: true, backoffInitialMs: 600_000 }, {
      error: (error) => errors.push(error),
      refreshAccessToken: () => Promise.resolve("good-token"),
    });
    client.start();
    await settle();
    clock.advance(30_000);
    await settle();
    t.is(thrown, undefined);
    t.true(errors.every((e) => e instanceof Error && e.name === "XmppError"), String(errors.find((e) => !(e instanceof Error && e.name === "XmppError"))));
    const outcome = errors.length > 0 ? (errors[0] as XmppError).kind : client.state;
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    client.stop();
  }
  t.log([...outcomes].map(([k, n]) => `${k}: ${n}`).join(", "));
  // The mutations reach several kinds of failure, and some sessions survive them.
  t.true(outcomes.size >= 4);
  t.true((outcomes.get("online") ?? 0) > 10);
});

test("a late answer to an earlier ping still counts; an owner's listener that throws is logged, not thrown into the socket", async (t) => {
  const clock = new FakeClock(), tcp = new FakeTcp();
  const server = fakeServer(tcp, "127.0.0.1:5222", () => ({ answerPings: false }));
  const logged: string[] = [];
  const hal = { ...fakeHal(clock, tcp), log: (_level: string, message: string) => { logged.push(message); } };
  let calls = 0;
  const { client, errors } = startClient(t, hal, { transport: "plain", allowPlainText: true }, {
    push: () => { calls++; throw new Error("owner bug"); },
  });
  await settle();
  const script = server.scripts[0];
  const connection = server.connections[0];
  await nextPing(clock, script, 400_000);
  clock.advance(30_000);
  await settle();
  t.is(script.pings, 2);
  const firstId = /id="(\d+)"/.exec(script.received.filter((s) => s.includes("urn:xmpp:ping"))[0])![1];
  connection.send(`<iq type="result" id="${firstId}" from="gmail.com"/>`);
  clock.advance(30_000);
  await settle();
  t.is(client.state, "online");
  t.deepEqual(errors, []);

  script.push(PRINTER);
  script.push(PRINTER);
  await settle();
  t.is(calls, 2);
  t.is(client.state, "online");
  t.true(logged.includes("xmpp: the push listener threw: owner bug"));
});

test("STARTTLS refused by the server is a TLS error; a push whose data is not base64 is reported and skipped", async (t) => {
  const refusing = await realServer(t, "tcp", () => ({ starttls: "required", refuseStartTls: true }));
  const refused = startClient(t, realHal, { port: refusing.port, transport: "starttls", trustSelfSigned: CERT, backoffInitialMs: 60_000 });
  await until(t, "the error", () => refused.errors.length === 1);
  t.is(refused.errors[0].kind, "tls");
  t.is(refused.errors[0].message, "the server refused STARTTLS");
  t.is(refused.client.state, "offline");

  const server = await realServer(t, "tcp", () => ({}));
  const { client, errors, pushes } = startClient(t, realHal, { port: server.port, transport: "plain", allowPlainText: true });
  await until(t, "online", () => client.state === "online");
  // bnet's bug: the payload sent raw. Then a good one.
  server.sockets.forEach((s) => s.write(`<message from="cloudprint.google.com"><push xmlns="google:push"><data>${PRINTER}/delete</data></push></message>`));
  server.scripts[0].push(PRINTER);
  await until(t, "the good push", () => pushes.length === 1);
  t.is(pushes[0].kind, "jobs");
  t.deepEqual(errors.map((e) => e.message), ["a push whose data is not base64"]);
  t.is(client.state, "online");
});
