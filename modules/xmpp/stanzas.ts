import { base64Decode, base64Encode } from "../crypto/base64.js";
import type { XmlHandler } from "../text/xml.js";
import { utf8Decode, utf8Encode } from "../text/utf8.js";

// The XMPP codec for the Cloud Print channel: the exact stanzas a device
// sends (cloud-print-service.md §3.2) and a reader that turns the
// tokenizer's events into one small element tree per stanza, bounded in
// elements and bytes, plus the functions that recognise what arrived.
// Elements are matched by local name, with the xmlns checked only where two
// namespaces share a name (a TLS and a SASL <failure/>): servers prefix
// freely (stream:features, push:push), and the reference clients did the same.

export const NS_STREAMS = "http://etherx.jabber.org/streams";
export const NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls";
export const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
export const NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind";
export const NS_SESSION = "urn:ietf:params:xml:ns:xmpp-session";
export const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
export const NS_PING = "urn:xmpp:ping";
export const NS_PUSH = "google:push";
export const NS_GOOGLE_AUTH = "http://www.google.com/talk/protocol/auth";
export const PUSH_CHANNEL = "cloudprint.google.com";

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === "&" ? "&amp;" : c === "\"" ? "&quot;" : "&apos;");
}

// ---- Out ----

export function streamHeader(domain: string): string {
  return `<stream:stream to="${escapeXml(domain)}" xml:lang="en" version="1.0" xmlns:stream="${NS_STREAMS}" xmlns="jabber:client">`;
}

export const STREAM_END = "</stream:stream>";
export const STARTTLS = `<starttls xmlns="${NS_TLS}"/>`;

// X-OAUTH2 as Chrome sends it: the bare JID as authcid, the access token as
// the password. service is "oauth2" in newer Chrome, "chromiumsync" in the
// Go connector and bnet; undefined sends no auth:* attributes at all, as the
// cloudprint package did.
export function authXOAuth2(authcid: string, accessToken: string, service: string | undefined): string {
  const google = service === undefined ? ""
    : ` auth:service="${escapeXml(service)}" auth:allow-generated-jid="true" auth:client-uses-full-bind-result="true" xmlns:auth="${NS_GOOGLE_AUTH}"`;
  return `<auth xmlns="${NS_SASL}" mechanism="X-OAUTH2"${google}>${saslPlainPayload(authcid, accessToken)}</auth>`;
}

// Test only: SASL PLAIN, the same payload, for a stock XMPP server that has no X-OAUTH2.
export function authPlain(authcid: string, password: string): string {
  return `<auth xmlns="${NS_SASL}" mechanism="PLAIN">${saslPlainPayload(authcid, password)}</auth>`;
}

// base64("\0" + authcid + "\0" + secret), RFC 4616's message without an authzid.
export function saslPlainPayload(authcid: string, secret: string): string {
  return base64Encode(utf8Encode(`\u0000${authcid}\u0000${secret}`));
}

export function bindIq(id: string, resource: string): string {
  return `<iq type="set" id="${escapeXml(id)}"><bind xmlns="${NS_BIND}"><resource>${escapeXml(resource)}</resource></bind></iq>`;
}

export function sessionIq(id: string): string {
  return `<iq type="set" id="${escapeXml(id)}"><session xmlns="${NS_SESSION}"/></iq>`;
}

export function subscribeIq(id: string, bareJid: string): string {
  return `<iq type="set" id="${escapeXml(id)}" to="${escapeXml(bareJid)}"><subscribe xmlns="${NS_PUSH}">`
    + `<item channel="${PUSH_CHANNEL}" from="${PUSH_CHANNEL}"/></subscribe></iq>`;
}

// Without "to" (as Chrome's jingle) the server answers for the account; a
// "to" is for servers that want the ping addressed (the Go connector's form).
export function pingIq(id: string, to: string | undefined): string {
  return `<iq type="get" id="${escapeXml(id)}"${to === undefined ? "" : ` to="${escapeXml(to)}"`}><ping xmlns="${NS_PING}"/></iq>`;
}

export function iqResult(id: string, to: string | undefined): string {
  return `<iq type="result" id="${escapeXml(id)}"${to === undefined ? "" : ` to="${escapeXml(to)}"`}/>`;
}

// RFC 6120 8.2.3: an iq get or set nobody here handles must still be answered.
export function iqUnsupported(id: string, to: string | undefined): string {
  return `<iq type="error" id="${escapeXml(id)}"${to === undefined ? "" : ` to="${escapeXml(to)}"`}>`
    + `<error type="cancel"><service-unavailable xmlns="${NS_STANZAS}"/></error></iq>`;
}

// ---- In ----

export interface XmlElement {
  readonly name: string;
  readonly attributes: Record<string, string>;
  readonly children: XmlElement[];
  text: string;
}

export function localName(name: string): string {
  const colon = name.indexOf(":");
  return colon < 0 ? name : name.slice(colon + 1);
}

export function child(element: XmlElement, local: string): XmlElement | undefined {
  for (const c of element.children) if (localName(c.name) === local) return c;
  return undefined;
}

// The element's own xmlns, or the one its prefix declares on itself; enough
// for the stanzas here, whose namespaces are always declared on the element.
export function namespaceOf(element: XmlElement): string | undefined {
  const colon = element.name.indexOf(":");
  return colon < 0 ? element.attributes.xmlns : element.attributes[`xmlns:${element.name.slice(0, colon)}`];
}

export interface StanzaReaderEvents {
  streamStart(attributes: Record<string, string>, name: string): void;
  stanza(element: XmlElement): void;
  streamEnd(): void;
}

export class StanzaLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StanzaLimitError";
  }
}

// Builds each child of the stream root into a tree; throws a
// StanzaLimitError (out of the tokenizer's write) when a stanza grows past
// the limits, so one stanza never holds more than maxBytes of names,
// values and text.
export class StanzaReader implements XmlHandler {
  private readonly open: XmlElement[] = [];
  private bytes = 0;
  private elements = 0;

  constructor(private readonly events: StanzaReaderEvents, private readonly maxBytes: number, private readonly maxElements: number) {}

  reset(): void {
    this.open.length = 0;
    this.bytes = 0;
    this.elements = 0;
  }

  private count(size: number): void {
    this.bytes += size;
    if (this.bytes > this.maxBytes) throw new StanzaLimitError(`a stanza is larger than ${this.maxBytes} bytes`);
  }

  startElement(name: string, attributes: Record<string, string>, _selfClosing: boolean, depth: number): void {
    if (depth === 1) { this.events.streamStart(attributes, name); return; }
    if (depth === 2) { this.bytes = 0; this.elements = 0; this.open.length = 0; }
    if (++this.elements > this.maxElements) throw new StanzaLimitError(`a stanza has more than ${this.maxElements} elements`);
    let size = name.length;
    for (const key in attributes) size += key.length + attributes[key].length;
    this.count(size);
    const element: XmlElement = { name, attributes, children: [], text: "" };
    const parent = this.open[this.open.length - 1];
    if (parent) parent.children.push(element);
    this.open.push(element);
  }

  endElement(_name: string, depth: number): void {
    if (depth === 1) { this.events.streamEnd(); return; }
    const element = this.open.pop();
    if (depth === 2 && element) {
      this.open.length = 0;
      this.events.stanza(element);
    }
  }

  text(text: string, depth: number): void {
    // Between stanzas: whitespace keepalives, or text a server should not send; neither matters.
    if (depth < 2) return;
    const element = this.open[this.open.length - 1];
    if (!element) return;
    this.count(text.length);
    element.text += text;
  }
}

export interface StreamFeatures {
  starttls: boolean;
  starttlsRequired: boolean;
  mechanisms: string[];
  bind: boolean;
  session: boolean;
}

export function readFeatures(features: XmlElement): StreamFeatures {
  const tls = child(features, "starttls");
  const mechanisms = child(features, "mechanisms");
  return {
    starttls: tls !== undefined,
    starttlsRequired: tls !== undefined && child(tls, "required") !== undefined,
    mechanisms: mechanisms ? mechanisms.children.filter((c) => localName(c.name) === "mechanism").map((c) => c.text.trim()) : [],
    bind: child(features, "bind") !== undefined,
    session: child(features, "session") !== undefined,
  };
}

export type Incoming =
  | { kind: "features"; features: StreamFeatures }
  | { kind: "proceed" }
  | { kind: "tls-failure" }
  | { kind: "sasl-success" }
  | { kind: "sasl-failure"; condition: string; text: string }
  | { kind: "iq"; type: string; id: string; from?: string; to?: string; element: XmlElement }
  | { kind: "message"; element: XmlElement }
  | { kind: "stream-error"; condition: string; text: string }
  | { kind: "other"; name: string };

export function recognise(element: XmlElement): Incoming {
  const local = localName(element.name);
  const ns = namespaceOf(element);
  switch (local) {
    case "features": return { kind: "features", features: readFeatures(element) };
    case "proceed": return { kind: "proceed" };
    case "success": return { kind: "sasl-success" };
    case "failure":
      if (ns === NS_TLS) return { kind: "tls-failure" };
      return { kind: "sasl-failure", ...condition(element) };
    case "error":
      // Only the stream's own <stream:error> arrives at this depth.
      return { kind: "stream-error", ...condition(element) };
    case "iq": {
      const a = element.attributes;
      return { kind: "iq", type: a.type ?? "", id: a.id ?? "", from: a.from, to: a.to, element };
    }
    case "message": return { kind: "message", element };
  }
  return { kind: "other", name: element.name };
}

// The defined-condition element and the optional <text> of an error or failure.
function condition(element: XmlElement): { condition: string; text: string } {
  let name = "", text = "";
  for (const c of element.children) {
    const l = localName(c.name);
    if (l === "text") text = c.text;
    else if (!name) name = l;
  }
  return { condition: name || "undefined-condition", text };
}

// The full JID from a bind result, if it carries one.
export function boundJid(iq: XmlElement): string | undefined {
  const bind = child(iq, "bind");
  const jid = bind && child(bind, "jid");
  const text = jid?.text.trim();
  return text ? text : undefined;
}

export function isPing(iq: XmlElement): boolean {
  return iq.children.length === 1 && localName(iq.children[0].name) === "ping";
}

export function bareJid(jid: string): string {
  const slash = jid.indexOf("/");
  return slash < 0 ? jid : jid.slice(0, slash);
}

export function jidDomain(jid: string): string {
  const bare = bareJid(jid);
  return bare.slice(bare.indexOf("@") + 1);
}

// Each <push><data> of a message, base64-decoded as UTF-8 text; undefined
// for data that is not base64 (bnet's bug of sending it raw, for one).
export function pushPayloads(message: XmlElement, maxBytes: number): Array<string | undefined> {
  const out: Array<string | undefined> = [];
  for (const c of message.children) {
    if (localName(c.name) !== "push") continue;
    for (const d of c.children) {
      if (localName(d.name) !== "data") continue;
      const bytes = base64Decode(d.text.replace(/[\s]+/g, ""), maxBytes);
      out.push(bytes === undefined ? undefined : utf8Decode(bytes));
    }
  }
  return out;
}

export type PushKind = "jobs" | "update_settings" | "delete";

// "<printerid>" (or "<printerid>/", as gcp20 read it) means new jobs;
// "/update_settings" and "/delete" name the other two. A payload for another
// printer is not ours.
export function classifyPush(payload: string, printerId: string): PushKind | undefined {
  if (!printerId || !payload.startsWith(printerId)) return undefined;
  const rest = payload.slice(printerId.length);
  if (rest === "" || rest === "/") return "jobs";
  if (rest === "/update_settings") return "update_settings";
  if (rest === "/delete") return "delete";
  return undefined;
}
