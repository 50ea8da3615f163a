import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import * as tls from "node:tls";
import { child, escapeXml, XmlError, XmppXmlReader, type XmlElement, type XmlLimits } from "./xmpp-xml.js";

// One client connection of the emulator's XMPP side, walking the stanza sequence of the
// reference (section 3.2): stream header and features, STARTTLS where the listener offers
// it, SASL, stream restart, bind, session, the google:push subscription, pings; then pushes
// on the Cloud Print channel. A fault in what the client sends ends this session with a
// stream error and never touches any other.

export const NS = {
  streams: "http://etherx.jabber.org/streams",
  client: "jabber:client",
  tls: "urn:ietf:params:xml:ns:xmpp-tls",
  sasl: "urn:ietf:params:xml:ns:xmpp-sasl",
  bind: "urn:ietf:params:xml:ns:xmpp-bind",
  session: "urn:ietf:params:xml:ns:xmpp-session",
  streamErrors: "urn:ietf:params:xml:ns:xmpp-streams",
  stanzaErrors: "urn:ietf:params:xml:ns:xmpp-stanzas",
  push: "google:push",
  ping: "urn:xmpp:ping",
} as const;

export const CLOUD_PRINT_CHANNEL = "cloudprint.google.com";
// The two the reference lists beside PLAIN; both carry "\0" authcid "\0" token, checked as an OAuth access token.
export const MECHANISMS = ["X-OAUTH2", "X-GOOGLE-TOKEN"];

// Who a token belongs to, as the emulator's token store says.
export interface XmppIdentity {
  bareJid: string;
  // The printer whose robot this is; undefined for a user's token.
  printerId?: string;
  email?: string;
}

export type TransportMode = "plain" | "starttls" | "tls";

export interface SessionHost {
  domain: string;
  mode: TransportMode;
  secureContext?: tls.SecureContext;
  limits: XmlLimits;
  // Seconds a connection may take to get through authentication, and may then stay silent.
  authTimeoutSeconds: number;
  idleTimeoutSeconds: number;
  // Bytes waiting to go out before a client that does not read is dropped.
  maxQueuedBytes: number;
  prefixedPush: boolean;
  authenticate(authcid: string, token: string): XmppIdentity | undefined;
  bound(session: XmppSession): void;
  activity(session: XmppSession): void;
  closed(session: XmppSession): void;
  onError(error: unknown): void;
  // A line about this session for a person debugging a device (npm run cloud -- --verbose); never a secret.
  log(session: XmppSession, message: string): void;
}

type Phase = "tls" | "auth" | "bind" | "bound";

const MAX_AUTH_ATTEMPTS = 3;

export class XmppSession {
  identity: XmppIdentity | undefined;
  fullJid = "";
  subscribed = false;
  private socket: Socket;
  private readonly reader: XmppXmlReader;
  private phase: Phase;
  private secure: boolean;
  private streamOpen = false;
  // Per connection, not per stream: see streamHeader.
  private declared = false;
  private headerSent = false;
  private authAttempts = 0;
  private ending = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(socket: Socket, private readonly host: SessionHost) {
    this.socket = socket;
    this.secure = host.mode === "tls";
    this.phase = host.mode === "starttls" ? "tls" : "auth";
    this.reader = new XmppXmlReader({
      streamOpen: (root) => this.onStreamOpen(root),
      stanza: (element) => this.onStanza(element),
      streamClose: () => this.end(),
    }, host.limits);
    this.attach(socket);
    this.arm(host.authTimeoutSeconds);
    host.log(this, `connected (${host.mode}) from ${socket.remoteAddress}:${socket.remotePort}`);
  }

  get printerId(): string | undefined {
    return this.identity?.printerId;
  }

  private attach(socket: Socket): void {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => socket.destroy());
    socket.on("close", () => this.closedNow());
  }

  private onData(chunk: Buffer): void {
    if (this.ending) return;
    try {
      this.reader.write(chunk);
    } catch (error) {
      if (error instanceof XmlError) return this.streamError(error.condition, error.message);
      // A bug of ours ends this session only: thrown from a socket handler it would end the whole emulator.
      this.streamError("internal-server-error", "");
      this.host.onError(error);
    }
  }

  // The auth phase has a deadline of its own; after that, silence longer than the idle time ends it.
  private arm(seconds: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.streamError("connection-timeout", ""), seconds * 1000);
    this.timer.unref();
  }

  private send(xml: string): void {
    if (this.ending || this.socket.destroyed) return;
    this.socket.write(xml);
    // A client that never reads would make us hold its pushes forever.
    if (this.socket.writableLength > this.host.maxQueuedBytes) this.socket.destroy();
  }

  private onStreamOpen(root: XmlElement): void {
    this.streamOpen = true;
    // Clients name gmail.com or the robot's domain; answer as whichever they named.
    const to = root.attrs.to;
    const from = to !== undefined && /^[A-Za-z0-9.-]{1,253}$/.test(to) ? to : this.host.domain;
    const header = this.streamHeader(from);
    if (root.attrs.version === undefined || !/^1\.\d+$/.test(root.attrs.version)) {
      // Stream features need version 1.0 (RFC 6120 4.7.5); a pre-1.0 stream gets nothing to work with.
      this.socket.write(header);
      return this.streamError("unsupported-version", "");
    }
    this.send(header + this.features());
  }

  // The XML declaration may only open a document (XML 1.0 section 2.8), and a client that
  // feeds the whole connection to one parser, as an expat-based one does, fails on a
  // second one. So it goes before the first header only, and each restart (after SASL
  // success, and after STARTTLS too) opens its stream without it. Our reading is that
  // the TLS layer carries the same connection on, so the first header inside it is a
  // restart like the SASL one; reference 3.2 only says a server may send the declaration
  // first. Prosody repeats it on every header; RFC 6120 11.5 makes it a SHOULD either way.
  private streamHeader(from: string): string {
    const declaration = this.declared ? "" : "<?xml version='1.0'?>";
    this.declared = true;
    this.headerSent = true;
    const id = randomBytes(8).toString("hex").toUpperCase();
    return `${declaration}<stream:stream from="${escapeXml(from)}" id="${id}" version="1.0" xmlns:stream="${NS.streams}" xmlns="${NS.client}">`;
  }

  private features(): string {
    const mechanisms = `<mechanisms xmlns="${NS.sasl}">${MECHANISMS.map((m) => `<mechanism>${m}</mechanism>`).join("")}</mechanisms>`;
    switch (this.phase) {
      // Required, as the official raw-XMPP page showed: credentials never cross in plain text here.
      case "tls": return `<stream:features><starttls xmlns="${NS.tls}"><required/></starttls></stream:features>`;
      case "auth": return `<stream:features>${mechanisms}</stream:features>`;
      default: return `<stream:features><bind xmlns="${NS.bind}"/><session xmlns="${NS.session}"/></stream:features>`;
    }
  }

  private onStanza(element: XmlElement): void {
    if (this.ending) return;
    if (this.identity) this.arm(this.host.idleTimeoutSeconds);
    if (this.phase === "tls") return this.onBeforeTls(element);
    if (this.phase === "auth") return this.onBeforeAuth(element);
    switch (element.local) {
      case "iq": return this.onIq(element);
      // Presence and messages from a device mean nothing to the Cloud Print service.
      case "presence": case "message": return this.host.activity(this);
      default: return this.streamError("unsupported-stanza-type", "");
    }
  }

  private onBeforeTls(element: XmlElement): void {
    if (element.local !== "starttls" || element.ns !== NS.tls) return this.streamError("policy-violation", "STARTTLS is required first");
    this.send(`<proceed xmlns="${NS.tls}"/>`);
    const plain = this.socket;
    plain.removeAllListeners("data");
    plain.removeAllListeners("close");
    plain.removeAllListeners("error");
    plain.on("error", () => plain.destroy());
    const secured = new tls.TLSSocket(plain, { isServer: true, secureContext: this.host.secureContext });
    this.socket = secured;
    this.attach(secured);
    // Nothing readable arrives before the handshake is done, so the next stanza is already encrypted.
    this.secure = true;
    this.phase = "auth";
    this.host.log(this, "STARTTLS: proceeding to the TLS handshake");
    this.restart();
  }

  private restart(): void {
    this.streamOpen = false;
    this.reader.reset();
  }

  private onBeforeAuth(element: XmlElement): void {
    if (element.local === "starttls" && element.ns === NS.tls) {
      // Not offered here (no certificate, or already encrypted): RFC 6120 5.4.2.2's failure, then the end.
      this.send(`<failure xmlns="${NS.tls}"/>`);
      return this.end();
    }
    if (element.local !== "auth" || element.ns !== NS.sasl) return this.streamError("not-authorized", "authenticate first");
    const mechanism = element.attrs.mechanism ?? "";
    const failure = (condition: string) => {
      this.host.log(this, `SASL ${mechanism || "(no mechanism)"} refused: ${condition}`);
      this.send(`<failure xmlns="${NS.sasl}"><${condition}/></failure>`);
      if (++this.authAttempts >= MAX_AUTH_ATTEMPTS) this.streamError("policy-violation", "too many failed authentication attempts");
    };
    if (!MECHANISMS.includes(mechanism)) return failure("invalid-mechanism");
    const text = element.text.trim();
    if (text === "" || text === "=") return failure("malformed-request");
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) return failure("incorrect-encoding");
    // authzid \0 authcid \0 token; authzid is empty in every client the reference names.
    const parts = Buffer.from(text, "base64").toString("utf8").split("\0");
    if (parts.length !== 3) return failure("malformed-request");
    const identity = this.host.authenticate(parts[1], parts[2]);
    if (!identity) return failure("not-authorized");
    this.identity = identity;
    this.phase = "bind";
    this.send(`<success xmlns="${NS.sasl}"/>`);
    this.host.log(this, `SASL ${mechanism} accepted for ${identity.bareJid}`);
    this.arm(this.host.idleTimeoutSeconds);
    this.host.activity(this);
    this.restart();
  }

  private onIq(iq: XmlElement): void {
    const id = iq.attrs.id ?? "";
    const type = iq.attrs.type ?? "";
    const payload = iq.children[0];
    if (type === "result" || type === "error") return;
    const idAttr = `id="${escapeXml(id)}"`;
    if ((type !== "get" && type !== "set") || !payload || iq.children.length !== 1) return this.iqError(iq, "bad-request", "modify");
    if (payload.local === "bind" && payload.ns === NS.bind && type === "set") {
      if (this.phase !== "bind") return this.iqError(iq, "not-allowed", "cancel");
      // Like Google, the server makes the resource unique; clients must use the bind result (auth:client-uses-full-bind-result).
      const asked = (child(payload, "resource")?.text ?? "").replace(/[^\x21-\x7e]/g, "").slice(0, 64) || "emulator";
      this.fullJid = `${this.identity!.bareJid}/${asked}${randomBytes(4).toString("hex").toUpperCase()}`;
      this.phase = "bound";
      this.send(`<iq ${idAttr} type="result"><bind xmlns="${NS.bind}"><jid>${escapeXml(this.fullJid)}</jid></bind></iq>`);
      this.host.bound(this);
      this.host.log(this, `bound ${this.fullJid}`);
      return;
    }
    if (this.phase !== "bound") return this.iqError(iq, "not-authorized", "auth");
    this.host.activity(this);
    if (payload.local === "session" && payload.ns === NS.session) return this.send(`<iq type="result" ${idAttr}/>`);
    if (payload.local === "ping" && payload.ns === NS.ping) {
      // Chrome matches a result from the server or with no from; the Go connector pings cloudprint.google.com and wants it back.
      const from = iq.attrs.to ?? this.host.domain;
      return this.send(`<iq type="result" ${idAttr} from="${escapeXml(from)}" to="${escapeXml(this.fullJid)}"/>`);
    }
    if (payload.local === "subscribe" && payload.ns === NS.push && type === "set") {
      const channels = payload.children.filter((c) => c.local === "item").map((c) => c.attrs.channel);
      if (!channels.includes(CLOUD_PRINT_CHANNEL)) return this.iqError(iq, "item-not-found", "cancel");
      this.subscribed = true;
      this.host.log(this, `subscribed to ${CLOUD_PRINT_CHANNEL}`);
      // The Go connector checks both: to is the full JID, from the bare one.
      return this.send(`<iq to="${escapeXml(this.fullJid)}" from="${escapeXml(this.identity!.bareJid)}" ${idAttr} type="result"/>`);
    }
    this.iqError(iq, "service-unavailable", "cancel");
  }

  private iqError(iq: XmlElement, condition: string, type: string): void {
    const id = iq.attrs.id ?? "";
    this.send(`<iq type="error" id="${escapeXml(id)}"><error type="${type}"><${condition} xmlns="${NS.stanzaErrors}"/></error></iq>`);
  }

  // The push of reference 3.2 step 8, to this session if it subscribed.
  push(payload: string): boolean {
    if (!this.subscribed || this.ending || !this.identity) return false;
    const data = Buffer.from(payload, "utf8").toString("base64");
    this.host.log(this, `push ${payload}`);
    const to = escapeXml(this.fullJid);
    const bare = escapeXml(this.identity.bareJid);
    // The prefixed form is the one in a real capture; parsers must match by namespace, not by spelling.
    this.send(this.host.prefixedPush
      ? `<message from="${CLOUD_PRINT_CHANNEL}" to="${to}"><push:push channel="${CLOUD_PRINT_CHANNEL}" xmlns:push="${NS.push}"><push:recipient to="${bare}"></push:recipient><push:data>${data}</push:data></push:push></message>`
      : `<message from="${CLOUD_PRINT_CHANNEL}" to="${to}"><push xmlns="${NS.push}" channel="${CLOUD_PRINT_CHANNEL}"><recipient to="${bare}"></recipient><data>${data}</data></push></message>`);
    return true;
  }

  get encrypted(): boolean {
    return this.secure;
  }

  streamError(condition: string, text: string): void {
    if (this.ending) return;
    // A stream error needs a stream to live in (RFC 6120 4.9.1.1): open one first if the client never did.
    const opening = this.streamOpen ? "" : this.streamHeader(this.host.domain);
    const detail = text ? `<text xmlns="${NS.streamErrors}">${escapeXml(text.slice(0, 200))}</text>` : "";
    this.host.log(this, `stream error ${condition}${text ? `: ${text.slice(0, 200)}` : ""}`);
    this.send(`${opening}<stream:error><${condition} xmlns="${NS.streamErrors}"/>${detail}</stream:error>`);
    this.end();
  }

  // Closes our side of the stream and the connection; the client may have closed its own already.
  end(): void {
    if (this.ending) return;
    // A close tag with no header before it would be the first thing wrong in what we sent.
    if (!this.socket.destroyed && this.headerSent) this.socket.write("</stream:stream>");
    this.ending = true;
    clearTimeout(this.timer);
    this.socket.end();
    // A client that never closes its half must not hold the socket.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  // The service ends the stream itself: the emulator stops, or the printer was deleted.
  // The client reads the end of the stream before the connection goes.
  shutdown(reason: string): void {
    if (this.ending) return;
    this.host.log(this, `closing the stream: ${reason}`);
    this.end();
  }

  close(): void {
    this.ending = true;
    clearTimeout(this.timer);
    this.socket.destroy();
  }

  private closedNow(): void {
    clearTimeout(this.timer);
    this.ending = true;
    this.host.log(this, "closed");
    this.host.closed(this);
  }
}
