import test, { type ExecutionContext } from "ava";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { nodeClock, nodeRandom, nodeResolver, nodeTcp } from "../hosts/node/hal.js";
import { nodeTls } from "../hosts/node/tls.js";
import { XmppClient, type XmppClientListener, type XmppClientOptions, type XmppError } from "../modules/xmpp/client.js";
import { which } from "./helpers/peers.js";

// The client against a real XMPP server: Debian's prosody, run by the test
// on 127.0.0.1 from a configuration in a temporary directory (as nobody
// when the test runs as root). Prosody has no X-OAUTH2, so these runs use
// the client's test-only SASL PLAIN (the same "\0user\0secret" payload) and
// skip the google:push subscription, which only the Cloud Print service
// (and our emulator) answers. What they show on a real peer: STARTTLS
// (required by prosody) and direct TLS, the stream restarts, bind,
// session, pings answered, a refused password refreshed.

const missing = which("prosody") ? undefined : "prosody is not installed (apt-get install prosody)";
const title = (name: string) => `${name}${missing ? ` (skipped: ${missing})` : ""}`;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function accepting(port: number, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: "127.0.0.1", port }, () => { socket.destroy(); resolve(true); });
      socket.on("error", () => resolve(false));
    });
    if (ok) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

interface Prosody { starttlsPort: number; directTlsPort: number; cert: string; log: () => string }

let prosody: Prosody | undefined;
let child: ChildProcess | undefined;
let dir: string | undefined;

async function startProsody(): Promise<Prosody> {
  if (prosody) return prosody;
  dir = mkdtempSync(path.join(tmpdir(), "xmpp-prosody-"));
  // Named as prosody's certificate directory expects: the direct-TLS port takes its certificate from there.
  mkdirSync(path.join(dir, "certs"));
  const key = path.join(dir, "certs", "localhost.key"), cert = path.join(dir, "certs", "localhost.crt");
  const made = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], { encoding: "utf8", timeout: 20_000 });
  if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
  const starttlsPort = await freePort(), directTlsPort = await freePort();
  // internal_plain keeps each account as a Lua table under data/<host>/accounts.
  mkdirSync(path.join(dir, "data", "localhost", "accounts"), { recursive: true });
  writeFileSync(path.join(dir, "data", "localhost", "accounts", "robot.dat"), `return {\n\t["password"] = "secret";\n};\n`);
  writeFileSync(path.join(dir, "prosody.cfg.lua"), [
    `pidfile = "${dir}/prosody.pid"`,
    `data_path = "${dir}/data"`,
    `certificates = "${dir}/certs"`,
    `interfaces = { "127.0.0.1" }`,
    `local_interfaces = { "127.0.0.1" }`,
    `c2s_ports = { ${starttlsPort} }`,
    `c2s_direct_tls_ports = { ${directTlsPort} }`,
    `s2s_ports = { }`,
    `modules_enabled = { "saslauth", "tls", "ping", "disco" }`,
    `modules_disabled = { "s2s", "offline" }`,
    `authentication = "internal_plain"`,
    `c2s_require_encryption = true`,
    `log = { debug = "${dir}/prosody.log" }`,
    `VirtualHost "localhost"`,
    `ssl = { key = "${key}"; certificate = "${cert}" }`,
    "",
  ].join("\n"));
  const root = process.getuid?.() === 0;
  if (root) {
    // Prosody need not run as root for this; nobody owns its directory instead.
    for (const p of [dir, path.join(dir, "data"), path.join(dir, "data", "localhost"), path.join(dir, "data", "localhost", "accounts"),
      path.join(dir, "data", "localhost", "accounts", "robot.dat"), path.join(dir, "certs"), key, cert, path.join(dir, "prosody.cfg.lua")]) chownSync(p, 65534, 65534);
    chmodSync(dir, 0o700);
  }
  child = spawn("prosody", ["--config", path.join(dir, "prosody.cfg.lua"), "-F"], {
    stdio: ["ignore", "ignore", "pipe"], ...(root ? { uid: 65534, gid: 65534 } : {}),
  });
  let stderr = "";
  child.stderr!.on("data", (c) => (stderr += c));
  if (!await accepting(starttlsPort, 15_000) || !await accepting(directTlsPort, 5_000)) {
    throw new Error(`prosody did not start: ${stderr.slice(-2000)}`);
  }
  const logFile = path.join(dir, "prosody.log");
  prosody = { starttlsPort, directTlsPort, cert: readFileSync(cert, "utf8"), log: () => { try { return readFileSync(logFile, "utf8"); } catch { return ""; } } };
  return prosody;
}

test.after.always(async () => {
  // Only the prosody this file started, by its PID.
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child!.once("exit", resolve));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const hal = { tcp: nodeTcp, resolver: nodeResolver, tls: nodeTls, clock: nodeClock, random: nodeRandom, log: () => {} };

function client(t: ExecutionContext, server: Prosody, options: Partial<XmppClientOptions>, listener: XmppClientListener = {}) {
  const errors: XmppError[] = [];
  const xmpp = new XmppClient(hal, {
    host: "127.0.0.1", port: server.starttlsPort, jid: "robot@localhost", accessToken: "secret", printerId: "p-1",
    saslMechanism: "PLAIN", subscribe: false, trustSelfSigned: server.cert, backoffInitialMs: 60_000, ...options,
  }, { error: (e) => errors.push(e), ...listener });
  t.teardown(() => xmpp.stop());
  xmpp.start();
  return { xmpp, errors };
}

async function until(t: ExecutionContext, what: string | (() => string), condition: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !condition();) {
    if (Date.now() > end) { const w = typeof what === "string" ? what : what(); t.fail(`timed out waiting for ${w}`); throw new Error(w); }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

(missing ? test.skip : test.serial)(title("prosody: STARTTLS (required by the server), SASL, bind, session, and pings answered for several intervals"), async (t) => {
  const server = await startProsody();
  const { xmpp, errors } = client(t, server, { pingIntervalSeconds: 0.2, minPingIntervalSeconds: 0, pingJitter: 0, pongTimeoutMs: 500, missedPongsAllowed: 0 });
  await until(t, "online", () => xmpp.state === "online");
  t.is(xmpp.fullJid, "robot@localhost/cloud_print");
  // With no missed pong allowed, five intervals online mean five answers.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  t.is(xmpp.state, "online");
  t.deepEqual(errors.map((e) => e.message), []);
  xmpp.stop();
  const log = server.log();
  t.regex(log, /Received\[c2s_unauthed\]: <starttls/);
  // Our pings are the only iq gets this account sends.
  t.true((log.match(/Received\[c2s\]: <iq [^>]*type='get'/g) ?? []).length >= 4);
});

(missing ? test.skip : test.serial)(title("prosody: direct TLS; a refused password is refreshed once and the client comes online"), async (t) => {
  const server = await startProsody();
  let asked = 0;
  // Prosody picks the direct-TLS certificate by SNI, which needs a name, not an address.
  const { xmpp, errors } = client(t, server, { port: server.directTlsPort, transport: "direct-tls", serverName: "localhost", accessToken: "stale" }, {
    refreshAccessToken: async () => { asked++; return "secret"; },
  });
  await until(t, () => `online (errors: ${errors.map((e) => e.message).join("; ")})`, () => xmpp.state === "online");
  t.is(asked, 1);
  t.deepEqual(errors.map((e) => e.kind), ["auth"]);
  t.regex(errors[0].message, /refused the access token: not-authorized/);
});

(missing ? test.skip : test.serial)(title("prosody: a configuration that never does TLS is refused by the client, since prosody requires STARTTLS"), async (t) => {
  const server = await startProsody();
  const { xmpp, errors } = client(t, server, { transport: "plain", allowPlainText: true });
  await until(t, "the error", () => errors.length === 1);
  t.is(errors[0].kind, "policy");
  t.is(errors[0].message, "the server requires STARTTLS, which this configuration cannot do");
  t.is(xmpp.state, "offline");
});
