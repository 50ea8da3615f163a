import test, { runAll as runRegistered } from "./harness.js";
import type { Tcp, TcpConnection, TcpConnectionEvents } from "../../modules/hal/tcp.js";
import { XmlError, XmlTokenizer, type XmlHandler } from "../../modules/text/xml.js";
import { utf8Encode } from "../../modules/text/utf8.js";
import { XmppClient, type XmppConnectionState, type XmppPush } from "../../modules/xmpp/client.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { SeededRandom } from "../helpers/seeded-random.js";
import { ScriptedXmpp, type ScriptOptions } from "../helpers/xmpp-server.js";

// The tokenizer and the XMPP client inside XS, the client over an in-memory
// TCP whose far end is the same scripted server the Node tests use. The
// scenario runs first (driven by promise turns and the fake clock), then
// the registered tests check what it recorded.

const latin1 = (bytes: Uint8Array) => { let s = ""; for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]); return s; };

function tokens(pieces: Uint8Array[]): string {
  const out: string[] = [];
  const handler: XmlHandler = {
    startElement: (name, attributes, selfClosing, depth) => out.push(`<${name}${Object.keys(attributes).map((k) => ` ${k}=${attributes[k]}`).join("")}${selfClosing ? "/" : ""}@${depth}>`),
    endElement: (name) => out.push(`</${name}>`),
    text: (text) => out.push(JSON.stringify(text)),
  };
  const tokenizer = new XmlTokenizer(handler, { maxTokenBytes: 256, maxDepth: 8 });
  try {
    for (const piece of pieces) tokenizer.write(piece);
  } catch (error) {
    if (!(error instanceof XmlError)) throw error;
    out.push(`error ${error.code}@${error.offset}`);
  }
  return out.join("");
}

const SAMPLE = `<?xml version='1.0'?><stream:stream xmlns:stream="http://etherx.jabber.org/streams" id="s1"><stream:features><mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>X-OAUTH2</mechanism></mechanisms></stream:features>`
  + `<message a='&lt;&#x1F600;'><push:push xmlns:push="google:push"><push:data>cHJpbnRlcg==</push:data></push:push>é&amp;<![CDATA[<x>]]><!-- c --></message><iq/>`;

test("the tokenizer on XS: the same tokens whole, byte by byte and randomly split", (t) => {
  const bytes = utf8Encode(SAMPLE);
  const expected = tokens([bytes]);
  t.true(expected.indexOf("error") < 0, expected);
  t.true(expected.indexOf(`"é&<x>"`) > 0, expected);
  t.true(expected.indexOf("a=<😀") > 0, expected);
  t.is(tokens(Array.from(bytes, (b) => Uint8Array.of(b))), expected);
  const random = new SeededRandom(3);
  for (let i = 0; i < 50; i++) {
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < bytes.length;) { const n = 1 + random.below(20); pieces.push(bytes.subarray(at, at + n)); at += n; }
    t.is(tokens(pieces), expected);
  }
});

test("the tokenizer on XS refuses hostile input with its own codes", (t) => {
  const cases: Array<[string, string]> = [
    [`<!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>`, "doctype"],
    [`<a>&b;</a>`, "entity"],
    [`<?php ?>`, "processing-instruction"],
    [`<a>${"x".repeat(300)}</a>`, "token-too-long"],
    ["<a>".repeat(9), "too-deep"],
    [`<a b="1" b="2"/>`, "duplicate-attribute"],
    [`<a></b>`, "mismatched-tag"],
  ];
  for (const [input, code] of cases) t.true(tokens([utf8Encode(input)]).indexOf(`error ${code}@`) >= 0, `${input.slice(0, 30)}: ${tokens([utf8Encode(input)])}`);
});

test("the tokenizer on XS: 500 mutated inputs, only XmlError escapes", (t) => {
  const random = new SeededRandom(11);
  const base = utf8Encode(SAMPLE);
  const splices = ["<", ">", "&", "<!DOCTYPE", "]]>", "<![CDATA[", "&#x", "/>", "\u0000"].map(utf8Encode);
  let refused = 0;
  for (let i = 0; i < 500; i++) {
    const bytes = Array.from(base);
    for (let r = 0; r < 3; r++) {
      const at = random.below(bytes.length);
      if (random.below(2) === 0) bytes[at] = random.below(256);
      else bytes.splice(at, 0, ...Array.from(splices[random.below(splices.length)]));
    }
    const whole = tokens([Uint8Array.from(bytes)]);
    if (whole.indexOf("error") >= 0) refused++;
    t.is(tokens(bytes.map((b) => Uint8Array.of(b))), whole);
  }
  t.true(refused > 100);
});

// ---- The client over an in-memory TCP ----

class Peer implements TcpConnection {
  readonly remoteAddress = "127.0.0.1";
  readonly remotePort = 5222;
  events: TcpConnectionEvents | undefined;
  closed = false;
  script!: ScriptedXmpp;
  setEvents(events: TcpConnectionEvents): void { this.events = events; }
  write(bytes: Uint8Array): boolean {
    if (this.closed) throw new Error("write after close");
    this.script.input(latin1(bytes));
    return true;
  }
  pause(): void {}
  resume(): void {}
  end(): void { this.closed = true; }
  destroy(): void { this.closed = true; }
  // The server's answers arrive on a later turn, as from a socket.
  send(text: string): void {
    Promise.resolve().then(() => { if (!this.closed) this.events!.data(utf8Encode(text)); });
  }
}

const clock = new FakeClock();
const peers: Peer[] = [];
let scriptOptions: Partial<ScriptOptions> = {};
const tcp: Tcp = {
  listen: () => Promise.reject(new Error("no listening here")),
  connect: () => {
    const peer = new Peer();
    peer.script = new ScriptedXmpp({
      send: (text) => peer.send(text),
      upgrade: () => { throw new Error("no TLS here"); },
      close: () => Promise.resolve().then(() => { if (!peer.closed) { peer.closed = true; peer.events!.close(false); } }),
    }, { ...scriptOptions });
    peers.push(peer);
    return Promise.resolve(peer);
  },
};

const results: Record<string, unknown> = {};

async function turns(n = 50): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

async function advance(ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 1000) { clock.advance(1000); await turns(); }
}

async function session(): Promise<void> {
  const states: XmppConnectionState[] = [];
  const pushes: XmppPush[] = [];
  const errors: string[] = [];
  let refreshed = 0;
  scriptOptions = { tokens: ["fresh"] };
  const client = new XmppClient({
    tcp, clock, random: new SeededRandom(5), log: () => {},
    resolver: { resolve: (name: string) => Promise.resolve([name]) },
  }, {
    host: "127.0.0.1", transport: "plain", allowPlainText: true,
    jid: "robot@cloudprint.googleusercontent.com", accessToken: "stale", printerId: "p-1",
  }, {
    state: (s) => states.push(s),
    push: (p) => pushes.push(p),
    error: (e) => errors.push(`${e.kind}: ${e.message}`),
    refreshAccessToken: () => { refreshed++; return Promise.resolve("fresh"); },
  });
  client.start();
  await turns(200);
  results.online = [client.state, client.fullJid, refreshed, peers.length];
  const script = peers[1].script;
  results.sequence = script.received.map((s) => s.slice(0, 30));

  script.push("p-1");
  script.push("p-1/update_settings", true);
  script.push("p-1/delete");
  await turns();
  results.pushes = pushes.map((p) => p.kind);

  await advance(361_000);
  results.answered = [script.pings, client.state];
  script.options.answerPings = false;
  for (let waited = 0; waited < 500_000 && client.state === "online"; waited += 1000) await advance(1000);
  results.dead = [script.pings, client.state, errors[errors.length - 1]];
  scriptOptions = { tokens: ["fresh"] };
  await advance(5_000);
  results.back = [client.state, peers.length];
  client.stop();
  await turns();
  results.stopped = [client.state, peers[peers.length - 1].script.received[peers[peers.length - 1].script.received.length - 1], states];
}

test("the XMPP client on XS: a refused token refreshed, online, three pushes", (t) => {
  t.deepEqual(results.online, ["online", "robot@cloudprint.googleusercontent.com/cloud_printA1B2", 1, 2]);
  t.deepEqual(results.sequence, ["<stream:stream to=\"cloudprint.", "<auth xmlns=\"urn:ietf:params:x", "<stream:stream to=\"cloudprint.", "<iq type=\"set\" id=\"0\"><bind xm", "<iq type=\"set\" id=\"1\"><session", "<iq type=\"set\" id=\"2\" to=\"robo"]);
  t.deepEqual(results.pushes, ["jobs", "update_settings", "delete"]);
});

test("the XMPP client on XS: pings answered, unanswered pings end the connection, it comes back; stop closes the stream", (t) => {
  t.deepEqual(results.answered, [1, "online"]);
  t.deepEqual(results.dead, [3, "offline", "timeout: 2 pings in a row went unanswered"]);
  t.deepEqual(results.back, ["online", 3]);
  t.deepEqual(results.stopped, ["offline", "</stream:stream>", ["connecting", "online", "offline", "connecting", "online", "offline"]]);
});

async function stuckAfter(count: number): Promise<never> {
  await turns(count);
  throw new Error(`still pending after ${count} promise turns`);
}

export function runAll(): void {
  Promise.race([session(), stuckAfter(500_000)]).catch((error) => { results.failed = String(error); }).then(() => {
    test("the scenario ran to its end", (t) => t.is(results.failed, undefined));
    runRegistered();
  });
}
