import { base64Decode, base64Encode } from "../../modules/crypto/base64.js";
import { utf8Decode, utf8Encode } from "../../modules/text/utf8.js";

// A scripted XMPP server for the client's tests: the stanzas of
// cloud-print-service.md §3.2, read from the client's text with patterns
// (the client's output is exact, so exact patterns are the check), with
// knobs for what a test wants to go wrong. It speaks text only; the socket
// (real, TLS or the in-memory fake) is the caller's. Plain ECMAScript, so
// the XS tests use it too.

export interface ScriptOptions {
  starttls: "none" | "offered" | "required";
  // Tokens the server accepts in the X-OAUTH2 payload.
  tokens: string[];
  jid: string;
  resource: string;
  answerPings: boolean;
  mechanisms: string[];
  // Sent instead of the first features, to test a hostile server.
  garbage?: string;
  // Answer <starttls/> with the TLS namespace's <failure/> (RFC 6120 5.4.2.2).
  refuseStartTls?: boolean;
}

export interface ScriptEvents {
  send(text: string): void;
  // After <proceed/>: the socket must become TLS before the next byte.
  upgrade(): void;
  close(): void;
}

const SERVER_HEADER = `<?xml version='1.0'?><stream:stream from="gmail.com" id="S1" version="1.0" xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:client">`;

export class ScriptedXmpp {
  readonly options: ScriptOptions;
  // What the client sent, one entry per recognised element, in order.
  readonly received: string[] = [];
  pings = 0;
  private buffer = "";
  private tls = false;
  private authenticated = false;
  fullJid: string;

  constructor(private readonly events: ScriptEvents, options: Partial<ScriptOptions> = {}) {
    this.options = {
      starttls: "none", tokens: ["good-token"], jid: "robot@cloudprint.googleusercontent.com", resource: "cloud_print",
      answerPings: true, mechanisms: ["PLAIN", "X-GOOGLE-TOKEN", "X-OAUTH2"], ...options,
    };
    this.fullJid = `${this.options.jid}/${this.options.resource}A1B2`;
  }

  get secure(): boolean {
    return this.tls;
  }

  input(text: string): void {
    this.buffer += text;
    for (let guard = 0; guard < 100 && this.step(); guard++);
  }

  private take(pattern: RegExp): RegExpExecArray | undefined {
    const match = pattern.exec(this.buffer);
    if (!match || match.index !== 0) return undefined;
    this.buffer = this.buffer.slice(match[0].length);
    this.received.push(match[0]);
    return match;
  }

  private step(): boolean {
    const o = this.options;
    if (this.take(/^<stream:stream [^>]*>/)) {
      if (o.garbage !== undefined) { this.events.send(o.garbage); return true; }
      let features = "";
      if (this.authenticated) {
        features = `<bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/><session xmlns="urn:ietf:params:xml:ns:xmpp-session"/>`;
      } else {
        if (!this.tls && o.starttls !== "none") {
          features += `<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls">${o.starttls === "required" ? "<required/>" : ""}</starttls>`;
        }
        features += `<mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl">${o.mechanisms.map((m) => `<mechanism>${m}</mechanism>`).join("")}</mechanisms>`;
      }
      this.events.send(`${SERVER_HEADER}<stream:features>${features}</stream:features>`);
      return true;
    }
    if (this.take(/^<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"\/>/)) {
      if (o.refuseStartTls) {
        this.events.send(`<failure xmlns="urn:ietf:params:xml:ns:xmpp-tls"/></stream:stream>`);
        this.events.close();
        return true;
      }
      this.events.send(`<proceed xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>`);
      this.tls = true;
      this.events.upgrade();
      return true;
    }
    const auth = this.take(/^<auth [^>]*>([^<]*)<\/auth>/);
    if (auth) {
      const [, authcid, token] = utf8Decode(base64Decode(auth[1]) ?? new Uint8Array(0)).split("\u0000");
      if (authcid === o.jid && o.tokens.includes(token)) {
        this.authenticated = true;
        this.events.send(`<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>`);
      } else {
        this.events.send(`<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><not-authorized/></failure></stream:stream>`);
        this.events.close();
      }
      return true;
    }
    const bind = this.take(/^<iq type="set" id="([^"]+)"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>([^<]*)<\/resource><\/bind><\/iq>/);
    if (bind) {
      this.events.send(`<iq id="${bind[1]}" type="result"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><jid>${this.fullJid}</jid></bind></iq>`);
      return true;
    }
    const session = this.take(/^<iq type="set" id="([^"]+)"><session xmlns="urn:ietf:params:xml:ns:xmpp-session"\/><\/iq>/);
    if (session) {
      this.events.send(`<iq type="result" id="${session[1]}"/>`);
      return true;
    }
    const subscribe = this.take(/^<iq type="set" id="([^"]+)" to="([^"]+)"><subscribe xmlns="google:push"><item channel="cloudprint.google.com" from="cloudprint.google.com"\/><\/subscribe><\/iq>/);
    if (subscribe) {
      this.events.send(`<iq to="${this.fullJid}" from="${subscribe[2]}" id="${subscribe[1]}" type="result"/>`);
      return true;
    }
    const ping = this.take(/^<iq type="get" id="([^"]+)"><ping xmlns="urn:xmpp:ping"\/><\/iq>/);
    if (ping) {
      this.pings++;
      if (o.answerPings) this.events.send(`<iq type="result" id="${ping[1]}" from="gmail.com"/>`);
      return true;
    }
    if (this.take(/^<iq type="(result|error)" id="[^"]*"( to="[^"]*")?(\/>|>.*?<\/iq>)/)) return true;
    if (this.take(/^<\/stream:stream>/)) return true;
    return false;
  }

  // A push as the service sent it: the payload base64 in <data>.
  push(payload: string, prefixed = false): void {
    const p = prefixed ? "push:" : "";
    this.events.send(`<message from="cloudprint.google.com" to="${this.fullJid}"><${p}push xmlns${prefixed ? ":push" : ""}="google:push" channel="cloudprint.google.com">`
      + `<${p}recipient to="${this.options.jid}">x</${p}recipient><${p}data>${base64Encode(utf8Encode(payload))}</${p}data></${p}push></message>`);
  }
}
