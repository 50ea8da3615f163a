import test from "ava";
import { XmlError, XmppXmlReader, type XmlElement, type XmlFault } from "../tools/cloud/xmpp-xml.js";
import { call, registerAndClaim, startTestCloud } from "./helpers/cloud.js";
import { SeededRandom } from "./helpers/seeded-random.js";
import { nextPush, RawXmpp, saslBody, STREAM_OPEN, testCertificate, xmppLogin } from "./helpers/xmpp.js";

// Hostile XML on the emulator's XMPP side: the stanza reader is bounded and refuses what
// RFC 6120 forbids; one client's garbage ends that client's stream with a stream error and
// nothing else; the server keeps serving the sessions it has and new ones.

function reader() {
  const got: { roots: XmlElement[]; stanzas: XmlElement[]; closed: number } = { roots: [], stanzas: [], closed: 0 };
  const r = new XmppXmlReader({ streamOpen: (e) => got.roots.push(e), stanza: (e) => got.stanzas.push(e), streamClose: () => got.closed++ });
  return { r, got };
}

const SEQUENCE = `<?xml version='1.0'?>${STREAM_OPEN}<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="X-OAUTH2">AGEAYg==</auth> \n`
  + `<iq type="set" id="0"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>caf\u00e9 &amp; &#x263A;&#9731;</resource></bind></iq>`
  + `<message from="cloudprint.google.com"><push:push channel="c" xmlns:push="google:push"><push:data>QUJD</push:data></push:push></message>`
  + `<iq type='get' id='a&apos;b' to="x"><ping xmlns="urn:xmpp:ping" /></iq></stream:stream>`;

function checkSequence(t: import("ava").ExecutionContext, got: ReturnType<typeof reader>["got"]): void {
  t.is(got.roots.length, 1);
  t.is(got.roots[0].attrs.to, "gmail.com");
  t.deepEqual(got.stanzas.map((s) => `${s.ns} ${s.local}`), ["urn:ietf:params:xml:ns:xmpp-sasl auth", "jabber:client iq", "jabber:client message", "jabber:client iq"]);
  t.is(got.stanzas[0].text, "AGEAYg==");
  t.is(got.stanzas[1].children[0].children[0].text, "caf\u00e9 & \u263a\u2603");
  const push = got.stanzas[2].children[0];
  t.is(push.ns, "google:push", "a prefixed name resolves to its namespace");
  t.is(push.children[0].local, "data");
  t.is(push.children[0].text, "QUJD");
  t.is(got.stanzas[3].attrs.id, "a'b");
  t.is(got.stanzas[3].children[0].ns, "urn:xmpp:ping");
  t.is(got.closed, 1);
}

test("reader: a whole sequence, in one piece and one byte at a time (UTF-8 and entities split anywhere)", (t) => {
  const whole = reader();
  whole.r.write(Buffer.from(SEQUENCE));
  checkSequence(t, whole.got);
  const bytes = Buffer.from(SEQUENCE);
  const split = reader();
  for (let i = 0; i < bytes.length; i++) split.r.write(bytes.subarray(i, i + 1));
  checkSequence(t, split.got);
});

const REFUSED: Array<[string, string, XmlFault]> = [
  ["billion laughs (a DTD with entities)", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>${STREAM_OPEN}<a>&lol2;</a>`, "restricted-xml"],
  ["a DOCTYPE inside the stream", `${STREAM_OPEN}<!DOCTYPE x>`, "restricted-xml"],
  ["an entity nobody defined", `${STREAM_OPEN}<a>&lol;</a>`, "restricted-xml"],
  ["an external entity reference", `${STREAM_OPEN}<a b="&xxe;"/>`, "restricted-xml"],
  ["a comment", `${STREAM_OPEN}<!-- hi -->`, "restricted-xml"],
  ["CDATA", `${STREAM_OPEN}<a><![CDATA[x]]></a>`, "restricted-xml"],
  ["a processing instruction in the stream", `${STREAM_OPEN}<?php echo 1; ?>`, "restricted-xml"],
  ["a huge element name", `${STREAM_OPEN}<${"a".repeat(10_000)}/>`, "policy-violation"],
  ["a huge attribute name", `${STREAM_OPEN}<a ${"b".repeat(200)}="1"/>`, "policy-violation"],
  ["deep nesting", `${STREAM_OPEN}${"<a>".repeat(100)}`, "policy-violation"],
  ["a stanza too long", `${STREAM_OPEN}<a>${"x".repeat(70_000)}</a>`, "policy-violation"],
  ["a tag that never ends", `${STREAM_OPEN}<a b="${"x".repeat(10_000)}`, "policy-violation"],
  ["too many attributes", `${STREAM_OPEN}<a ${Array.from({ length: 40 }, (_, i) => `a${i}="1"`).join(" ")}/>`, "policy-violation"],
  ["a duplicate attribute", `${STREAM_OPEN}<a b="1" b="2"/>`, "not-well-formed"],
  ["a wrong end tag", `${STREAM_OPEN}<a><b></a>`, "not-well-formed"],
  ["an end tag for nothing", `${STREAM_OPEN}</a>`, "not-well-formed"],
  ["an undeclared prefix", `${STREAM_OPEN}<x:a/>`, "invalid-namespace"],
  ["not a stream", `<html><body>`, "invalid-namespace"],
  ["the stream in the wrong namespace", `<stream:stream xmlns:stream="urn:nope">`, "invalid-namespace"],
  ["text between stanzas", `${STREAM_OPEN}hello`, "not-well-formed"],
  ["a control character", `${STREAM_OPEN}<a>\u0001</a>`, "not-well-formed"],
  ["a character reference to NUL", `${STREAM_OPEN}<a>&#0;</a>`, "not-well-formed"],
  ["a bare ampersand", `${STREAM_OPEN}<a>&</a>`, "not-well-formed"],
  ["an unquoted attribute", `${STREAM_OPEN}<a b=1/>`, "not-well-formed"],
  ["< in an attribute", `${STREAM_OPEN}<a b="<"/>`, "not-well-formed"],
];

test("reader: what RFC 6120 forbids and what exceeds a limit is an XmlError with its stream error condition", (t) => {
  for (const [what, input, condition] of REFUSED) {
    const { r } = reader();
    const error = t.throws(() => r.write(Buffer.from(input)), { instanceOf: XmlError }, what);
    t.is(error?.condition, condition, what);
    // Dead until reset: nothing more is read from a failed stream.
    t.throws(() => r.write(Buffer.from("<a/>")), { instanceOf: XmlError });
  }
});

test("reader: thousands of random mutations of a valid sequence parse or fail with XmlError, nothing else", (t) => {
  const random = new SeededRandom(0x5eed);
  const base = Buffer.from(SEQUENCE);
  const alphabet = Buffer.from("<>/&;:='\"!?[]- \nax#\u00e9");
  let parsed = 0;
  let refused = 0;
  for (let round = 0; round < 3000; round++) {
    const bytes = Buffer.from(base);
    const edits = 1 + random.below(6);
    for (let e = 0; e < edits; e++) {
      const at = random.below(bytes.length);
      bytes[at] = random.below(3) === 0 ? random.below(256) : alphabet[random.below(alphabet.length)];
    }
    const { r } = reader();
    try {
      // Random chunking too: limits and resumption are exercised at every boundary.
      for (let at = 0; at < bytes.length;) {
        const n = 1 + random.below(64);
        r.write(bytes.subarray(at, at + n));
        at += n;
      }
      parsed++;
    } catch (error) {
      if (!(error instanceof XmlError)) throw error;
      refused++;
    }
  }
  t.true(parsed > 0 && refused > 0, `${parsed} parsed, ${refused} refused`);
});

async function bystander(t: import("ava").ExecutionContext) {
  const cloud = await startTestCloud({ xmpp: { port: 0, limits: { authTimeoutSeconds: 2, maxSessions: 64 } } });
  t.teardown(() => cloud.service.close());
  const r = await registerAndClaim(cloud);
  const { client } = await xmppLogin("plain", cloud.service.xmpp!, r.poll.xmpp_jid, r.access);
  t.teardown(() => client.destroy());
  let pings = 0;
  // The bystander is still served: a ping answered and a push delivered.
  const stillServed = async () => {
    const id = `alive${++pings}`;
    client.send(`<iq type="get" id="${id}"><ping xmlns="urn:xmpp:ping"/></iq>`);
    await client.expect(new RegExp(`id="${id}"`));
    const before = cloud.pushes.length;
    await call(cloud.service, "update", { printerid: r.printerId, local_settings: JSON.stringify({ pending: { xmpp_timeout_value: 300 + pings } }) }, { token: r.user });
    t.is(cloud.pushes.length, before + 1);
    t.is(await nextPush(client), `${r.printerId}/update_settings`);
  };
  return { cloud, r, stillServed };
}

test("server: each hostile input gets a stream error and a close; a bound session beside it keeps working", async (t) => {
  const { cloud, r, stillServed } = await bystander(t);
  for (const [what, input, condition] of REFUSED) {
    const evil = await RawXmpp.connect(cloud.service.xmpp!.port);
    evil.send(input);
    await evil.expect(new RegExp(`<stream:error><${condition} xmlns="urn:ietf:params:xml:ns:xmpp-streams"/>`)).catch((error) => t.fail(`${what}: ${error.message}`));
    t.true(await evil.waitClosed(), what);
  }
  // The same hostility after authenticating: the session is someone's, and still it only ends that one.
  const evil = await RawXmpp.connect(cloud.service.xmpp!.port);
  evil.send(STREAM_OPEN + `<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="X-OAUTH2">${saslBody(r.poll.xmpp_jid, r.access)}</auth>`);
  await evil.expect(/<success/);
  evil.send(STREAM_OPEN + "<iq>" + "<a>".repeat(50));
  await evil.expect(/<policy-violation/);
  t.true(await evil.waitClosed());
  await stillServed();
});

test("server: random bytes and thousands of mutated sequences on many connections; then a new login and a push still work", async (t) => {
  const { cloud, r, stillServed } = await bystander(t);
  const random = new SeededRandom(42);
  const base = Buffer.from(STREAM_OPEN + `<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="X-OAUTH2">${saslBody(r.poll.xmpp_jid, r.access)}</auth>`
    + STREAM_OPEN + `<iq type="set" id="0"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>r</resource></bind></iq><iq type="get" id="9"><ping xmlns="urn:xmpp:ping"/></iq>`);
  const port = cloud.service.xmpp!.port;
  let mutations = 0;
  // 40 connections, each fed many mutated copies in a row (most die at the first fault; the rest keep reading).
  for (let c = 0; c < 40; c++) {
    const conn = await RawXmpp.connect(port);
    for (let k = 0; k < 100; k++) {
      const bytes = Buffer.from(base);
      for (let e = 0, n = 1 + random.below(8); e < n; e++) bytes[random.below(bytes.length)] = random.below(256);
      mutations++;
      if (conn.closed) break;
      conn.socket.write(bytes);
    }
    if (c % 4 === 0) conn.socket.write(Buffer.from(random.bytes(4096)));
    await conn.drain(5);
    conn.destroy();
  }
  t.true(mutations >= 40);
  await stillServed();
  const again = await xmppLogin("plain", cloud.service.xmpp!, r.poll.xmpp_jid, r.access);
  t.teardown(() => again.client.destroy());
});

test("server: a connection that never authenticates is timed out; past maxSessions new connections are dropped", async (t) => {
  const cloud = await startTestCloud({ xmpp: { port: 0, limits: { authTimeoutSeconds: 1, maxSessions: 3 } } });
  t.teardown(() => cloud.service.close());
  const idle = await RawXmpp.connect(cloud.service.xmpp!.port);
  t.teardown(() => idle.destroy());
  idle.send(STREAM_OPEN);
  await idle.expect(/<connection-timeout xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/, 10_000);
  t.true(await idle.waitClosed());

  const held = await Promise.all([1, 2, 3].map(() => RawXmpp.connect(cloud.service.xmpp!.port)));
  t.teardown(() => held.forEach((h) => h.destroy()));
  held[0].send(STREAM_OPEN);
  await held[0].expect(/<\/stream:features>/);
  const extra = await RawXmpp.connect(cloud.service.xmpp!.port);
  t.teardown(() => extra.destroy());
  t.true(await extra.waitClosed(), "the fourth connection is closed at once");
});

test("server: garbage instead of a TLS handshake, on the direct-TLS port and after <proceed/>, ends only that connection", async (t) => {
  const certificate = testCertificate();
  const cloud = await startTestCloud({ xmpp: { port: 0, tls: certificate } });
  t.teardown(() => cloud.service.close());
  const r = await registerAndClaim(cloud);
  const x = cloud.service.xmpp!;
  const watcher = await xmppLogin("tls", x, r.poll.xmpp_jid, r.access, certificate.cert);
  t.teardown(() => watcher.client.destroy());
  const random = new SeededRandom(7);

  const direct = await RawXmpp.connect(x.directTlsPort!);
  direct.socket.write(Buffer.from(random.bytes(2048)));
  t.true(await direct.waitClosed(), "garbage on the TLS port");

  const midway = await RawXmpp.connect(x.starttlsPort!);
  midway.send(STREAM_OPEN + `<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>`);
  await midway.expect(/<proceed /);
  midway.socket.write(Buffer.from(random.bytes(2048)));
  t.true(await midway.waitClosed(), "garbage after <proceed/>");

  // A plain-text client on the direct-TLS port: its stream header is no ClientHello.
  const confused = await RawXmpp.connect(x.directTlsPort!);
  confused.send(STREAM_OPEN);
  t.true(await confused.waitClosed(), "plain text on the TLS port");

  await call(cloud.service, "delete", { printerid: r.printerId }, { token: r.user });
  t.is(await nextPush(watcher.client), `${r.printerId}/delete`);
});

test("server: a client that sends pings and never reads the answers is dropped once its answers pile up", async (t) => {
  const cloud = await startTestCloud({ xmpp: { port: 0, limits: { maxQueuedBytes: 64 * 1024 } } });
  t.teardown(() => cloud.service.close());
  const r = await registerAndClaim(cloud);
  const watcher = await xmppLogin("plain", cloud.service.xmpp!, r.poll.xmpp_jid, r.access);
  t.teardown(() => watcher.client.destroy());
  const greedy = await xmppLogin("plain", cloud.service.xmpp!, r.poll.xmpp_jid, r.access);
  t.teardown(() => greedy.client.destroy());
  greedy.client.socket.pause();
  const pings = Array.from({ length: 2000 }, (_, i) => `<iq type="get" id="g${i}"><ping xmlns="urn:xmpp:ping"/></iq>`).join("");
  // Bounded: at most 100 rounds of 2000 pings (about 12 MB of answers), far more than loopback buffers hold.
  let rounds = 0;
  while (!greedy.client.closed && rounds < 100) {
    greedy.client.socket.write(pings);
    rounds++;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  t.true(await greedy.client.waitClosed(10_000), `still open after ${rounds} rounds`);
  await call(cloud.service, "delete", { printerid: r.printerId }, { token: r.user });
  t.is(await nextPush(watcher.client), `${r.printerId}/delete`);
});
