import test from "ava";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { call, registerAndClaim, startTestCloud } from "./helpers/cloud.js";
import { which } from "./helpers/peers.js";
import { nextPush, RawXmpp, saslBody, STREAM_OPEN, testCertificate, xmppLogin, type Transport } from "./helpers/xmpp.js";

// Other TLS stacks and other XMPP code than ours against the emulator's XMPP side: a Python
// listener in the manner of cloudprint 0.14 (Python's ssl, certificate checked) on all three
// listeners, OpenSSL's own STARTTLS for XMPP (s_client -starttls xmpp), and Python's
// expat reading all a connection carried from the server as one XML document.

const listener = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "tests", "peers", "xmpp_listener.py");
const certificate = testCertificate();
const caDir = mkdtempSync(path.join(tmpdir(), "xmpp-peer-"));
const caFile = path.join(caDir, "cert.pem");
writeFileSync(caFile, certificate.cert);
const PDF = Buffer.from("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n");

// A child process read like a socket: wait for a pattern on stdout, with a deadline.
function child(command: string, args: string[]) {
  const proc = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  let consumed = 0;
  proc.stdout.on("data", (c) => { out += c; });
  proc.stderr.on("data", (c) => { err += c; });
  proc.stdin.on("error", () => {});
  const exited = new Promise<number | null>((resolve) => proc.on("close", (code) => resolve(code)));
  return {
    proc, exited,
    async expect(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(out.slice(consumed));
        if (match) { consumed += match.index + match[0].length; return match; }
        if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`no ${pattern} in ${JSON.stringify(out.slice(consumed, consumed + 500))}; stderr ${JSON.stringify(err.slice(0, 500))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop() { if (proc.exitCode === null) proc.kill("SIGTERM"); },
  };
}

const python = which("python3");
for (const mode of ["plain", "starttls", "tls"] as const) {
  (python ? test : test.skip)(`python3 ssl listener (${mode}): bound, then the job, settings and delete pushes${python ? "" : " (skipped: python3 is not installed)"}`, async (t) => {
    const cloud = await startTestCloud({ xmpp: { port: 0, tls: certificate } });
    t.teardown(() => cloud.service.close());
    const r = await registerAndClaim(cloud);
    const x = cloud.service.xmpp!;
    const port = mode === "plain" ? x.port : mode === "starttls" ? x.starttlsPort! : x.directTlsPort!;
    const py = child(python!, [listener, "--port", String(port), "--mode", mode, "--cafile", caFile, "--jid", r.poll.xmpp_jid, "--token", r.access, "--pushes", "3"]);
    t.teardown(() => py.stop());
    const bound = await py.expect(/^bound (\S+)\n/m);
    t.true(bound[1].startsWith(`${r.poll.xmpp_jid}/cloud_print`));
    await call(cloud.service, "submit", { printerid: r.printerId, title: "py", contentType: "application/pdf" }, { encoding: "multipart", token: r.user, files: [{ name: "content", filename: "a.pdf", contentType: "application/pdf", data: PDF }] });
    await py.expect(new RegExp(`^${r.printerId}\\n`, "m"));
    await call(cloud.service, "update", { printerid: r.printerId, local_settings: JSON.stringify({ pending: { local_discovery: false } }) }, { token: r.user });
    await py.expect(new RegExp(`^${r.printerId}/update_settings\\n`, "m"));
    await call(cloud.service, "delete", { printerid: r.printerId }, { token: r.user });
    await py.expect(new RegExp(`^${r.printerId}/delete\\n`, "m"));
    t.is(await py.exited, 0);
  });
}

(which("openssl") ? test : test.skip)(`openssl s_client -starttls xmpp: OpenSSL's STARTTLS, a verified certificate, then SASL and a push over it${which("openssl") ? "" : " (skipped: openssl is not installed)"}`, async (t) => {
  const cloud = await startTestCloud({ xmpp: { port: 0, tls: certificate } });
  t.teardown(() => cloud.service.close());
  const r = await registerAndClaim(cloud);
  const s = child("openssl", ["s_client", "-connect", `127.0.0.1:${cloud.service.xmpp!.starttlsPort}`, "-starttls", "xmpp", "-xmpphost", "gmail.com",
    "-CAfile", caFile, "-verify_return_error", "-verify_hostname", "localhost", "-quiet"]);
  t.teardown(() => s.stop());
  const stream = `<stream:stream to="gmail.com" version="1.0" xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:client">`;
  // s_client did the first stream and STARTTLS itself; from here stdin is the encrypted stream.
  s.proc.stdin.write(stream);
  await s.expect(/<mechanism>X-OAUTH2<\/mechanism>/);
  s.proc.stdin.write(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="X-OAUTH2">${saslBody(r.poll.xmpp_jid, r.access)}</auth>`);
  await s.expect(/<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"\/>/);
  s.proc.stdin.write(stream);
  await s.expect(/<bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"\/>/);
  s.proc.stdin.write(`<iq type="set" id="0"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>openssl</resource></bind></iq>`);
  await s.expect(/<jid>[^<]+<\/jid>/);
  s.proc.stdin.write(`<iq type="set" id="3"><subscribe xmlns="google:push"><item channel="cloudprint.google.com" from="cloudprint.google.com"/></subscribe></iq>`);
  await s.expect(/id="3" type="result"\/>/);
  await call(cloud.service, "submit", { printerid: r.printerId, title: "ossl", contentType: "application/pdf" }, { encoding: "multipart", token: r.user, files: [{ name: "content", filename: "a.pdf", contentType: "application/pdf", data: PDF }] });
  const push = await s.expect(/<data>([^<]+)<\/data>/);
  t.is(Buffer.from(push[1], "base64").toString(), r.printerId);
});

// The whole connection, as one document: a second XML declaration, a stray close tag or
// anything else ill-formed is an error here, though a regex over each stanza would pass it.
// The stream may still be open, so the end of the input is not required (Parse(data, False)).
const EXPAT = `
import sys, xml.parsers.expat
data = sys.stdin.buffer.read()
parser = xml.parsers.expat.ParserCreate()
starts = []
parser.StartElementHandler = lambda name, attrs: starts.append(name)
closed = []
parser.EndElementHandler = lambda name: closed.append(name)
try:
    parser.Parse(data, False)
except xml.parsers.expat.ExpatError as error:
    print("error: %s at byte %d: %r" % (error, parser.ErrorByteIndex, data[max(0, parser.ErrorByteIndex - 40):parser.ErrorByteIndex + 40]))
    sys.exit(1)
print("ok streams=%d stream-ends=%d" % (starts.count("stream:stream"), closed.count("stream:stream")))
`;

function expat(bytes: Buffer): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const proc = spawn(python!, ["-c", EXPAT], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    proc.stdout.on("data", (c) => { out += c; });
    proc.stderr.on("data", (c) => { out += c; });
    proc.stdin.on("error", () => {});
    proc.on("close", (code) => resolve({ code, out }));
    proc.stdin.end(bytes);
  });
}

for (const transport of ["starttls", "plain", "tls"] as Transport[]) {
  (python ? test : test.skip)(`python3 expat (${transport}): every byte the server sent, through the restarts and the deletion, is one well-formed document${python ? "" : " (skipped: python3 is not installed)"}`, async (t) => {
    const cloud = await startTestCloud({ xmpp: { port: 0, tls: certificate } });
    t.teardown(() => cloud.service.close());
    const r = await registerAndClaim(cloud);
    const { client } = await xmppLogin(transport, cloud.service.xmpp!, r.poll.xmpp_jid, r.access, certificate.cert);
    t.teardown(() => client.destroy());
    client.send(`<iq type="get" id="p"><ping xmlns="urn:xmpp:ping"/></iq>`);
    await client.expect(/id="p"/);
    await call(cloud.service, "delete", { printerid: r.printerId }, { token: r.user });
    t.is(await nextPush(client), `${r.printerId}/delete`);
    await client.expect(/<\/stream:stream>/);
    t.true(await client.waitClosed(), "the server hangs up after ending the stream");

    const bytes = Buffer.concat(client.transcript);
    const text = bytes.toString("utf8");
    t.true(text.startsWith("<?xml version='1.0'?><stream:stream "), text.slice(0, 80));
    t.is(text.split("<?xml").length - 1, 1, "one declaration per connection");
    const parsed = await expat(bytes);
    t.is(parsed.code, 0, parsed.out);
    // A header for the first stream, one after the SASL restart, and one after STARTTLS where it was used.
    t.is(parsed.out.trim(), `ok streams=${transport === "starttls" ? 3 : 2} stream-ends=1`);
  });
}

(python ? test : test.skip)(`python3 expat: a stream error before any header, and the emulator's shutdown, are well-formed too${python ? "" : " (skipped: python3 is not installed)"}`, async (t) => {
  // A grace far longer than the test may take: that close() returns at all shows the
  // clients' hang-ups ended it, not the grace (no wall clock read on a busy machine).
  const cloud = await startTestCloud({ xmpp: { port: 0, tls: certificate, shutdownGraceMs: 10 * 60_000 } });
  let stopped = false;
  t.teardown(() => stopped ? undefined : cloud.service.close());
  const early = await RawXmpp.connect(cloud.service.xmpp!.port);
  t.teardown(() => early.destroy());
  early.send(`<message/>`);
  await early.expect(/<\/stream:error><\/stream:stream>/);
  t.true(await early.waitClosed());
  const parsedEarly = await expat(Buffer.concat(early.transcript));
  t.is(parsedEarly.code, 0, parsedEarly.out);

  const r = await registerAndClaim(cloud);
  const { client } = await xmppLogin("starttls", cloud.service.xmpp!, r.poll.xmpp_jid, r.access, certificate.cert);
  t.teardown(() => client.destroy());
  const waiting = await RawXmpp.connect(cloud.service.xmpp!.port);
  t.teardown(() => waiting.destroy());
  waiting.send(STREAM_OPEN);
  await waiting.expect(/<\/stream:features>/);
  await cloud.service.close();
  stopped = true;
  for (const c of [client, waiting]) {
    t.true(await c.waitClosed());
    const text = Buffer.concat(c.transcript).toString("utf8");
    t.true(text.endsWith("</stream:stream>"), text.slice(-80));
    const parsed = await expat(Buffer.concat(c.transcript));
    t.is(parsed.code, 0, parsed.out);
  }
});
