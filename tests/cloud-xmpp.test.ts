import test from "ava";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { call, registerAndClaim, startTestCloud, userToken, type TestCloud } from "./helpers/cloud.js";
import { escapeRe, nextPush, RawXmpp, saslBody, STREAM_OPEN, testCertificate, xmppLogin, type Transport } from "./helpers/xmpp.js";

// The emulator's XMPP side driven by a raw socket, stanza by stanza as reference 3.2 has
// them, on each of the three listeners; and the pushes a device gets for new jobs,
// settings changes and deletion.

const certificate = testCertificate();
const PDF = Buffer.from("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n");

async function cloudWithXmpp(t: { teardown(f: () => unknown): void }, extra: Record<string, unknown> = {}): Promise<TestCloud> {
  const cloud = await startTestCloud({ xmpp: { port: 0, tls: certificate, ...extra } });
  t.teardown(() => cloud.service.close());
  return cloud;
}

test("the service object tells where the XMPP listeners are; without a certificate only plain text runs", async (t) => {
  const cloud = await cloudWithXmpp(t);
  const x = cloud.service.xmpp!;
  t.is(x.host, "127.0.0.1");
  t.is(x.domain, "gmail.com");
  t.true(x.port > 0 && x.starttlsPort! > 0 && x.directTlsPort! > 0);
  t.is(new Set([x.port, x.starttlsPort, x.directTlsPort, cloud.service.port]).size, 4);

  const plainOnly = await startTestCloud({ xmpp: { port: 0 } });
  t.teardown(() => plainOnly.service.close());
  t.is(plainOnly.service.xmpp!.starttlsPort, undefined);
  t.is(plainOnly.service.xmpp!.directTlsPort, undefined);
  const client = await RawXmpp.connect(plainOnly.service.xmpp!.port);
  t.teardown(() => client.destroy());
  client.send(STREAM_OPEN);
  const features = await client.expect(/<stream:features>.*?<\/stream:features>/);
  t.false(features[0].includes("starttls"), "no certificate, no STARTTLS offer");
  t.regex(features[0], /<mechanism>X-OAUTH2<\/mechanism><mechanism>X-GOOGLE-TOKEN<\/mechanism>/);
  client.send(`<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>`);
  await client.expect(/<failure xmlns="urn:ietf:params:xml:ns:xmpp-tls"\/><\/stream:stream>/);
  t.true(await client.waitClosed(), "asking for what was not offered ends the stream");

  const off = await startTestCloud();
  t.teardown(() => off.service.close());
  t.is(off.service.xmpp, undefined, "no xmpp config, no listener");
});

for (const transport of ["plain", "starttls", "tls"] as Transport[]) {
  test(`${transport}: the stanza sequence, then a push for a new job, a settings change and the deletion`, async (t) => {
    const cloud = await cloudWithXmpp(t);
    const r = await registerAndClaim(cloud);
    const jid: string = r.poll.xmpp_jid;
    t.regex(jid, /^[0-9a-f]{32}@cloudprint\.googleusercontent\.com$/);
    const { client, fullJid } = await xmppLogin(transport, cloud.service.xmpp!, jid, r.access, certificate.cert);
    t.teardown(() => client.destroy());
    t.true(fullJid.startsWith(`${jid}/cloud_print`), fullJid);
    if (transport !== "plain") t.true((client.socket as import("node:tls").TLSSocket).encrypted === true);

    // Pings as the Go connector and as Chrome send them.
    client.send(`<iq type="get" id="7" to="cloudprint.google.com" from="${fullJid}"><ping xmlns="urn:xmpp:ping"/></iq>`);
    await client.expect(new RegExp(`<iq type="result" id="7" from="cloudprint\\.google\\.com" to="${escapeRe(fullJid)}"/>`));
    client.send(`<iq type="get" id="8"><ping xmlns="urn:xmpp:ping"/></iq>`);
    await client.expect(/<iq type="result" id="8" from="gmail\.com"/);
    // A whitespace keepalive, as cloudprint 0.14 sends, is no stanza and no error.
    client.send(" ");

    const submitted = await call(cloud.service, "submit", { printerid: r.printerId, title: "over xmpp", contentType: "application/pdf" }, { encoding: "multipart", token: r.user, files: [{ name: "content", filename: "a.pdf", contentType: "application/pdf", data: PDF }] });
    t.true(submitted.json.success, submitted.text);
    t.is(await nextPush(client), r.printerId);

    const updated = await call(cloud.service, "update", { printerid: r.printerId, local_settings: JSON.stringify({ pending: { xmpp_timeout_value: 600 } }) }, { token: r.user });
    t.true(updated.json.success, updated.text);
    t.is(await nextPush(client), `${r.printerId}/update_settings`);

    t.true((await call(cloud.service, "delete", { printerid: r.printerId }, { token: r.user })).json.success);
    t.is(await nextPush(client), `${r.printerId}/delete`);
    t.deepEqual(cloud.pushes.map((p) => p.payload), [r.printerId, `${r.printerId}/update_settings`, `${r.printerId}/delete`], "onNotify still hears every push");

    // The robot went with the printer: the service ends its stream, right after the push.
    await client.expect(/^<\/stream:stream>/);
    t.true(await client.waitClosed());
  });
}

test("onLog tells a session's steps, for a person debugging a device, and never the token", async (t) => {
  const lines: string[] = [];
  const cloud = await cloudWithXmpp(t, { onLog: (line: string) => lines.push(line) });
  const r = await registerAndClaim(cloud);
  const bad = await RawXmpp.connect(cloud.service.xmpp!.port);
  t.teardown(() => bad.destroy());
  bad.send(STREAM_OPEN + `<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="X-OAUTH2">${saslBody(r.poll.xmpp_jid, "ya29.wrong")}</auth>`);
  await bad.expect(/<failure/);
  const { client, fullJid } = await xmppLogin("starttls", cloud.service.xmpp!, r.poll.xmpp_jid, r.access, certificate.cert);
  t.teardown(() => client.destroy());
  await call(cloud.service, "delete", { printerid: r.printerId }, { token: r.user });
  await nextPush(client);
  t.true(lines.some((l) => /^xmpp #1 connected \(plain\) from 127\.0\.0\.1:\d+$/.test(l)), lines.join("\n"));
  t.true(lines.includes("xmpp #1 SASL X-OAUTH2 refused: not-authorized"));
  for (const expected of ["STARTTLS: proceeding to the TLS handshake", `SASL X-OAUTH2 accepted for ${r.poll.xmpp_jid}`, `bound ${fullJid}`, "subscribed to cloudprint.google.com", `push ${r.printerId}/delete`]) {
    t.true(lines.includes(`xmpp #2 ${expected}`), expected);
  }
  t.false(lines.some((l) => l.includes(r.access) || l.includes("ya29.wrong")), "tokens stay out of the log");
});

test("the STARTTLS listener refuses to authenticate before TLS", async (t) => {
  const cloud = await cloudWithXmpp(t);
  const r = await registerAndClaim(cloud);
  const client = await RawXmpp.connect(cloud.service.xmpp!.starttlsPort!);
  t.teardown(() => client.destroy());
  client.send(STREAM_OPEN);
  const features = await client.expect(/<stream:features>.*?<\/stream:features>/);
  t.false(features[0].includes("mechanism"), "no SASL offer in plain text");
  client.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="X-OAUTH2">${saslBody(r.poll.xmpp_jid, r.access)}</auth>`);
  await client.expect(/<stream:error><policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
  t.true(await client.waitClosed());
});

test("the authcid may be the bare JID or only its local part; X-GOOGLE-TOKEN and a user's token work too", async (t) => {
  const cloud = await cloudWithXmpp(t);
  const r = await registerAndClaim(cloud);
  const local = r.poll.xmpp_jid.split("@")[0];
  const a = await xmppLogin("plain", cloud.service.xmpp!, r.poll.xmpp_jid, r.access);
  t.teardown(() => a.client.destroy());

  const b = await RawXmpp.connect(cloud.service.xmpp!.port);
  t.teardown(() => b.destroy());
  b.send(STREAM_OPEN);
  await b.expect(/<\/stream:features>/);
  // cloudprint 0.14's form: no auth:* attributes; the Go connector's: the local part only.
  b.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="X-GOOGLE-TOKEN">${saslBody(local, r.access)}</auth>`);
  await b.expect(/<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"\/>/);

  // The owner's own session hears about the owner's printers, deletion included.
  const owner = await xmppLogin("plain", cloud.service.xmpp!, r.email, r.user);
  t.teardown(() => owner.client.destroy());
  t.true(owner.fullJid.startsWith(`${r.email}/`));
  await call(cloud.service, "delete", { printerid: r.printerId }, { token: r.user });
  t.is(await nextPush(owner.client), `${r.printerId}/delete`);
  t.is(await nextPush(a.client), `${r.printerId}/delete`);
  // b never bound nor subscribed: the real service pushed only to subscribers.
  t.false((await b.drain(200)).includes("<message"));
});

test("bad tokens, another robot's JID, an expired token and broken SASL are refused with <failure>", async (t) => {
  const cloud = await cloudWithXmpp(t);
  const r = await registerAndClaim(cloud);
  const other = await registerAndClaim(cloud, "Other printer");
  const jid = r.poll.xmpp_jid;
  const attempts: Array<[string, string, string]> = [
    ["unknown token", `mechanism="X-OAUTH2">${saslBody(jid, "ya29.nothing")}`, "not-authorized"],
    ["the refresh token is not an access token", `mechanism="X-OAUTH2">${saslBody(jid, r.refresh)}`, "not-authorized"],
    ["another robot's token", `mechanism="X-OAUTH2">${saslBody(jid, other.access)}`, "not-authorized"],
    ["unknown mechanism", `mechanism="PLAIN">${saslBody(jid, r.access)}`, "invalid-mechanism"],
    ["not base64", `mechanism="X-OAUTH2">!!!!`, "incorrect-encoding"],
    ["no initial response", `mechanism="X-OAUTH2">=`, "malformed-request"],
    ["no separators", `mechanism="X-OAUTH2">${Buffer.from(r.access).toString("base64")}`, "malformed-request"],
  ];
  for (const [what, auth, condition] of attempts) {
    const client = await RawXmpp.connect(cloud.service.xmpp!.port);
    client.send(STREAM_OPEN);
    await client.expect(/<\/stream:features>/);
    client.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" ${auth}</auth>`);
    await client.expect(new RegExp(`<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><${condition}/></failure>`));
    // Still before authentication: a bind is refused as not-authorized.
    client.send(`<iq type="set" id="0"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>`);
    await client.expect(/<stream:error><not-authorized /);
    t.true(await client.waitClosed(), what);
  }

  // Three failures in a row end the stream.
  const stubborn = await RawXmpp.connect(cloud.service.xmpp!.port);
  t.teardown(() => stubborn.destroy());
  stubborn.send(STREAM_OPEN);
  for (let i = 0; i < 3; i++) stubborn.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="X-OAUTH2">${saslBody(jid, "ya29.x")}</auth>`);
  await stubborn.expect(/<stream:error><policy-violation/);
  t.true(await stubborn.waitClosed());

  // An hour later the token has expired (the emulator's clock moves, nobody waits).
  cloud.clock.now += 3601 * 1000;
  const late = await RawXmpp.connect(cloud.service.xmpp!.port);
  t.teardown(() => late.destroy());
  late.send(STREAM_OPEN);
  late.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="X-OAUTH2">${saslBody(jid, r.access)}</auth>`);
  await late.expect(/<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><not-authorized\/><\/failure>/);
});

test("the push in the captured push: prefix form; the last stanza on the channel starts the DORMANT clock", async (t) => {
  const cloud = await cloudWithXmpp(t, { prefixedPush: true });
  const r = await registerAndClaim(cloud);
  const { client } = await xmppLogin("plain", cloud.service.xmpp!, r.poll.xmpp_jid, r.access);
  t.teardown(() => client.destroy());
  await call(cloud.service, "submit", { printerid: r.printerId, title: "x", contentType: "application/pdf" }, { encoding: "multipart", token: r.user, files: [{ name: "content", filename: "a.pdf", contentType: "application/pdf", data: PDF }] });
  const push = await client.expect(/<message [^>]*><push:push channel="cloudprint\.google\.com" xmlns:push="google:push"><push:recipient to="[^"]+"><\/push:recipient><push:data>([^<]+)<\/push:data><\/push:push><\/message>/);
  t.is(Buffer.from(push[1], "base64").toString(), r.printerId);

  // Once the session ends the printer is OFFLINE at once (no window); the time away counts from its last stanza.
  cloud.clock.now += 3000 * 1000;
  client.send(`<iq type="get" id="p1"><ping xmlns="urn:xmpp:ping"/></iq>`);
  await client.expect(/id="p1"/);
  client.send("</stream:stream>");
  t.true(await client.waitClosed());
  // A fresh token each time: the clock jumps past any token's life.
  const status = async () => (await call(cloud.service, "printer", { printerid: r.printerId }, { token: await userToken(cloud.service, r.email) })).json.printers[0].connectionStatus;
  // The server learns of the close a moment after the client; bounded wait.
  for (let i = 0; i < 100 && (await status()) === "ONLINE"; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  t.is(await status(), "OFFLINE");
  cloud.clock.now += 30 * 24 * 3600 * 1000;
  t.is(await status(), "OFFLINE", "thirty days from the last ping, not from the sign-in 3000 s before it");
  cloud.clock.now += 1000;
  t.is(await status(), "DORMANT");
});

test("a printer with a subscribed XMPP session is ONLINE however long it stays quiet, and not once the session ends", async (t) => {
  const cloud = await cloudWithXmpp(t);
  const r = await registerAndClaim(cloud);
  const { client } = await xmppLogin("starttls", cloud.service.xmpp!, r.poll.xmpp_jid, r.access, certificate.cert);
  t.teardown(() => client.destroy());
  cloud.clock.now += 24 * 3600 * 1000;
  // A day later the owner's old token has expired; a fresh one reads the state.
  const user = await userToken(cloud.service, r.email);
  const status = async () => (await call(cloud.service, "search", { connection_status: "ALL" }, { token: user })).json.printers[0].connectionStatus;
  t.is(await status(), "ONLINE", "presence, not the last call, decides while connected");
  client.send("</stream:stream>");
  t.true(await client.waitClosed());
  // The server learns of the close a moment after the client; bounded wait.
  for (let i = 0; i < 100 && (await status()) === "ONLINE"; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  t.is(await status(), "OFFLINE");
});

test("iqs the service does not serve get an error stanza, and the session goes on", async (t) => {
  const cloud = await cloudWithXmpp(t);
  const r = await registerAndClaim(cloud);
  const { client, fullJid } = await xmppLogin("plain", cloud.service.xmpp!, r.poll.xmpp_jid, r.access);
  t.teardown(() => client.destroy());
  client.send(`<iq type="get" id="r1"><query xmlns="jabber:iq:roster"/></iq>`);
  await client.expect(/<iq type="error" id="r1"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"\/><\/error><\/iq>/);
  client.send(`<iq type="set" id="s2"><subscribe xmlns="google:push"><item channel="chat.example" from="x"/></subscribe></iq>`);
  await client.expect(/<iq type="error" id="s2"><error type="cancel"><item-not-found /);
  client.send(`<iq type="set" id="b2"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>`);
  await client.expect(/<iq type="error" id="b2"><error type="cancel"><not-allowed /);
  client.send(`<presence/><message to="x"><body>hi</body></message><iq type="get" id="&quot;q"><ping xmlns="urn:xmpp:ping"/></iq>`);
  await client.expect(new RegExp(`<iq type="result" id="&quot;q" from="gmail\\.com" to="${escapeRe(fullJid)}"/>`));
  t.false(client.closed);
});

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "tools", "cloud", "cli.js");

test("npm run cloud: --tls-cert/--tls-key add the STARTTLS and direct-TLS listeners, and the banner names all three", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "cloud-xmpp-cli-"));
  writeFileSync(path.join(dir, "cert.pem"), certificate.cert);
  writeFileSync(path.join(dir, "key.pem"), certificate.key);
  const child = spawn(process.execPath, [cli, "--verbose", "--port", "0", "--xmpp-port", "0", "--xmpp-starttls-port", "0", "--xmpps-port", "0",
    "--tls-cert", path.join(dir, "cert.pem"), "--tls-key", path.join(dir, "key.pem"), "--state-dir", path.join(dir, "state")], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  child.stdout.on("data", (c) => (stdout += c));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    for (let i = 0; i < 500 && !/direct TLS/.test(stdout); i++) await new Promise((r) => setTimeout(r, 20));
    const direct = /direct TLS {3}127\.0\.0\.1:(\d+)/.exec(stdout);
    const starttls = /STARTTLS {5}127\.0\.0\.1:(\d+)/.exec(stdout);
    t.truthy(direct && starttls && /plain text {3}127\.0\.0\.1:\d+/.test(stdout), stdout);
    const client = await RawXmpp.connectTls(Number(direct![1]), certificate.cert);
    t.teardown(() => client.destroy());
    client.send(STREAM_OPEN);
    await client.expect(/<mechanism>X-OAUTH2<\/mechanism>/);
    const plain = await RawXmpp.connect(Number(starttls![1]));
    t.teardown(() => plain.destroy());
    plain.send(STREAM_OPEN);
    await plain.expect(/<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"><required\/><\/starttls>/);
    // --verbose shows each session's steps.
    for (let i = 0; i < 250 && !/xmpp #2 connected \(starttls\)/.test(stdout); i++) await new Promise((r) => setTimeout(r, 20));
    t.regex(stdout, /xmpp #1 connected \(tls\) from 127\.0\.0\.1/);
    t.regex(stdout, /xmpp #2 connected \(starttls\) from 127\.0\.0\.1/);
  } finally {
    child.kill("SIGTERM");
  }
  t.is(await exited, 0);

  for (const args of [["--tls-cert", "x.pem"], ["--xmpps-port", "5223"], ["--no-xmpp", "--xmpp-port", "1"], ["--xmpp-port", "70000"], ["--tls-cert", "/nonexistent", "--tls-key", "/nonexistent"]]) {
    const bad = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    bad.stderr.on("data", (c) => (stderr += c));
    t.is(await new Promise<number | null>((resolve) => bad.on("exit", (c) => resolve(c))), 2, args.join(" "));
    t.regex(stderr, /Usage: npm run cloud/);
  }
});
