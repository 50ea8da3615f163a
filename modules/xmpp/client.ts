import type { Clock, TimerId } from "../hal/clock.js";
import type { Log } from "../hal/log.js";
import type { Random } from "../hal/random.js";
import type { Resolver } from "../hal/resolver.js";
import type { Tcp, TcpConnection, TcpConnectionEvents } from "../hal/tcp.js";
import type { Tls } from "../hal/tls.js";
import { XmlError, XmlTokenizer } from "../text/xml.js";
import { utf8Encode } from "../text/utf8.js";
import {
  STARTTLS, STREAM_END, StanzaLimitError, StanzaReader, authPlain, authXOAuth2, bareJid, bindIq, boundJid, classifyPush,
  iqResult, iqUnsupported, isPing, jidDomain, pingIq, pushPayloads, recognise, sessionIq, streamHeader, subscribeIq,
  type PushKind, type StanzaReaderEvents, type StreamFeatures, type XmlElement,
} from "./stanzas.js";

// The Cloud Print notification channel (cloud-print-service.md §3): one
// XMPP connection kept open for as long as the printer is registered,
// through which the service says "jobs waiting", "settings changed" or
// "you were deleted". The owner (the cloud module) starts it with the
// robot account's JID and OAuth access token and listens for three things:
// the connection state (for /privet/info's connection_state and TXT cs),
// pushes, and a request for a fresher access token when the server refuses
// the one it has.
//
// The client never gives up on its own: a failed attempt, a dead connection
// (pings unanswered) or a server hang-up lead to a reconnect after a
// jittered, bounded exponential backoff, until stop(). Every failure is an
// XmppError handed to the listener; nothing is thrown into a socket
// callback. Memory is fixed per client: one tokenizer buffer, one stanza
// tree at a time, and a cap on bytes written but not yet drained.

export type XmppConnectionState = "connecting" | "online" | "offline";

export type XmppTransport =
  // TCP, then STARTTLS when the server offers it (Google's raw-XMPP page;
  // without the offer only where allowPlainText says so).
  | "starttls"
  // TLS from the first byte (Google's Go connector on :443, cloudprint on :5223).
  | "direct-tls"
  // Never TLS: the loopback emulator in tests. Needs allowPlainText.
  | "plain";

export type XmppErrorKind =
  | "config" | "policy" | "resolve" | "connect" | "tls" | "timeout" | "closed"
  | "xml" | "limit" | "protocol" | "stream-error" | "auth" | "token";

export class XmppError extends Error {
  constructor(readonly kind: XmppErrorKind, message: string) {
    super(message);
    this.name = "XmppError";
  }
}

export interface XmppPush {
  kind: PushKind;
  printerId: string;
}

export interface XmppClientHal {
  tcp: Tcp;
  resolver: Resolver;
  tls?: Tls;
  clock: Clock;
  random: Random;
  log: Log;
}

export interface XmppClientOptions {
  host: string;
  port: number;
  transport: XmppTransport;
  // Plain text to the server: a loopback emulator only. Without it the
  // client refuses to authenticate on a connection that is not encrypted.
  allowPlainText: boolean;
  // The name the certificate must carry; host when absent.
  serverName?: string;
  // The stream's "to"; the JID's domain when absent.
  domain?: string;
  // The robot account (xmpp_jid from registration), bare.
  jid: string;
  // The OAuth access token, the XMPP password.
  accessToken: string;
  printerId: string;
  resource: string;
  // auth:service of the X-OAUTH2 element; undefined sends no auth:* attributes.
  authService: string | undefined;
  // Test only: "PLAIN" for a stock XMPP server without X-OAUTH2.
  saslMechanism: "X-OAUTH2" | "PLAIN";
  // Test only: false skips the google:push subscription on a server that has none.
  subscribe: boolean;
  // local_settings.xmpp_timeout_value: seconds between pings, plus up to
  // pingJitter of it (gcp20: 0-20 %), so a fleet does not ping in step.
  pingIntervalSeconds: number;
  minPingIntervalSeconds: number;
  pingJitter: number;
  pingTo: string | undefined;
  // No answer within this long is a missed pong; after missedPongsAllowed + 1
  // in a row the connection is taken for dead.
  pongTimeoutMs: number;
  missedPongsAllowed: number;
  // Reconnect delays: initial, doubled per consecutive failure up to max,
  // then a random point in its upper half.
  backoffInitialMs: number;
  backoffMaxMs: number;
  resolveTimeoutMs: number;
  connectTimeoutMs: number;
  tlsTimeoutMs: number;
  // From the start of an attempt to the subscription's result.
  handshakeTimeoutMs: number;
  maxStanzaBytes: number;
  maxStanzaElements: number;
  maxTokenBytes: number;
  maxDepth: number;
  // Bytes written while the host's send buffer is full; a server that stops
  // reading (while it keeps pinging) is dropped at this point.
  maxUnsentBytes: number;
  trustAnchors?: string[];
  // Test only: also trust this one self-signed PEM certificate.
  trustSelfSigned?: string;
}

export const defaultXmppClientOptions: Omit<XmppClientOptions, "host" | "jid" | "accessToken" | "printerId"> = {
  port: 5222,
  transport: "starttls",
  allowPlainText: false,
  resource: "cloud_print",
  authService: "oauth2",
  saslMechanism: "X-OAUTH2",
  subscribe: true,
  pingIntervalSeconds: 300,
  minPingIntervalSeconds: 60,
  pingJitter: 0.2,
  pingTo: undefined,
  pongTimeoutMs: 30_000,
  missedPongsAllowed: 1,
  backoffInitialMs: 5_000,
  backoffMaxMs: 300_000,
  resolveTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
  tlsTimeoutMs: 15_000,
  handshakeTimeoutMs: 30_000,
  maxStanzaBytes: 8192,
  maxStanzaElements: 64,
  maxTokenBytes: 4096,
  maxDepth: 12,
  maxUnsentBytes: 16_384,
};

export interface XmppClientListener {
  // connecting while an attempt runs, online once subscribed, offline when
  // stopped or waiting to retry (error says why, when there was one).
  state?(state: XmppConnectionState, error?: XmppError): void;
  // Something to log or show; the client carries on by itself.
  error?(error: XmppError): void;
  push?(push: XmppPush): void;
  // Asked once after the server refuses the access token: resolve with a
  // fresh one (from the refresh token), reject when none can be had (then
  // the client backs off and asks again after the next refusal).
  refreshAccessToken?(): Promise<string>;
}

const enum Phase {
  Connecting, Features, StartTls, TlsHandshake, Auth, Bind, Session, Subscribe, Online, Closed,
}

export class XmppClient {
  readonly options: XmppClientOptions;
  private currentState: XmppConnectionState = "offline";
  private running = false;
  // Read by ReaderEvents; only this class changes it.
  attempt: Attempt | undefined;
  private failures = 0;
  private backoffTimer: TimerId | undefined;
  private refreshedSinceBackoff = false;
  private token: string;
  private bound: string | undefined;
  // Made once and reset per stream: the client's memory does not grow with reconnects.
  readonly tokenizer: XmlTokenizer;
  readonly reader: StanzaReader;
  private readonly randomBytes = new Uint8Array(4);

  constructor(readonly hal: XmppClientHal, options: Partial<XmppClientOptions> & Pick<XmppClientOptions, "host" | "jid" | "accessToken" | "printerId">, private readonly listener: XmppClientListener = {}) {
    this.options = { ...defaultXmppClientOptions, ...options };
    this.token = this.options.accessToken;
    this.reader = new StanzaReader(new ReaderEvents(this), this.options.maxStanzaBytes, this.options.maxStanzaElements);
    this.tokenizer = new XmlTokenizer(this.reader, {
      maxTokenBytes: this.options.maxTokenBytes,
      maxDepth: this.options.maxDepth,
      skipWhitespaceText: true,
    });
  }

  get state(): XmppConnectionState {
    return this.currentState;
  }

  // The full JID the server bound, while online.
  get fullJid(): string | undefined {
    return this.currentState === "online" ? this.bound : undefined;
  }

  start(): void {
    if (this.running) return;
    const problem = this.configProblem();
    if (problem) {
      this.report(new XmppError("config", problem));
      return;
    }
    this.running = true;
    this.failures = 0;
    this.refreshedSinceBackoff = false;
    this.connect();
  }

  // Closes the stream politely and stays offline until start().
  stop(): void {
    this.running = false;
    if (this.backoffTimer !== undefined) this.hal.clock.clearTimer(this.backoffTimer);
    this.backoffTimer = undefined;
    const attempt = this.attempt;
    this.attempt = undefined;
    attempt?.close(undefined, true);
    this.setState("offline");
  }

  // The owner refreshed the token on its own schedule: used from the next connection on.
  setAccessToken(token: string): void {
    this.token = token;
  }

  // local_settings changed xmpp_timeout_value: the next ping follows the new interval.
  setPingInterval(seconds: number): void {
    if (!(seconds > 0)) return;
    this.options.pingIntervalSeconds = seconds;
    this.attempt?.schedulePing();
  }

  private configProblem(): string | undefined {
    const o = this.options;
    if (!/^[^@/\s]+@[^@/\s]+$/.test(o.jid)) return `the JID ${JSON.stringify(o.jid)} is not a bare user@domain`;
    if (!o.host) return "no XMPP host";
    if (!(Number.isInteger(o.port) && o.port > 0 && o.port < 65536)) return `port ${o.port} is not a TCP port`;
    if (!o.printerId) return "no printer id";
    if (o.transport === "plain" && !o.allowPlainText) return "plain-text XMPP needs allowPlainText (a loopback emulator only)";
    if (o.transport === "direct-tls" && !this.hal.tls) return "direct TLS on a host without TLS";
    return undefined;
  }

  private connect(): void {
    this.backoffTimer = undefined;
    this.setState("connecting");
    this.attempt = new Attempt(this, this.token);
    this.attempt.run();
  }

  // Called by an attempt that ended (not by stop()).
  ended(attempt: Attempt, error: XmppError): void {
    if (attempt !== this.attempt) return;
    this.attempt = undefined;
    this.report(error);
    if (!this.running) return;
    if (error.kind === "auth" && !this.refreshedSinceBackoff && this.listener.refreshAccessToken) {
      this.refreshedSinceBackoff = true;
      this.refreshToken();
      return;
    }
    this.backOff(error);
  }

  private refreshToken(): void {
    let fresh: Promise<string>;
    try {
      fresh = this.listener.refreshAccessToken!();
    } catch (error) {
      fresh = Promise.reject(error);
    }
    fresh.then((token) => {
      if (!this.running || this.attempt || this.backoffTimer !== undefined) return;
      if (typeof token !== "string" || token === "") throw new Error("the refresh gave no token");
      this.token = token;
      this.hal.log("info", "xmpp: retrying with a fresh access token");
      this.connect();
    }).catch((error: unknown) => {
      if (!this.running || this.attempt || this.backoffTimer !== undefined) return;
      const failure = new XmppError("token", `no fresh access token: ${error instanceof Error ? error.message : String(error)}`);
      this.report(failure);
      this.backOff(failure);
    });
  }

  private backOff(error: XmppError): void {
    const base = Math.min(this.options.backoffMaxMs, this.options.backoffInitialMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    const delay = Math.round(base / 2 + (base / 2) * this.fraction());
    this.hal.log("info", `xmpp: reconnecting in ${delay} ms`);
    this.setState("offline", error);
    this.backoffTimer = this.hal.clock.setTimer(() => {
      this.refreshedSinceBackoff = false;
      if (this.running) this.connect();
    }, delay);
  }

  online(attempt: Attempt, fullJid: string): void {
    if (attempt !== this.attempt) return;
    this.failures = 0;
    this.refreshedSinceBackoff = false;
    this.bound = fullJid;
    this.hal.log("info", `xmpp: online as ${fullJid}`);
    this.setState("online");
  }

  deliver(attempt: Attempt, kind: PushKind): void {
    if (attempt !== this.attempt) return;
    const push = this.listener.push;
    if (push) this.guard("push", () => push({ kind, printerId: this.options.printerId }));
  }

  report(error: XmppError): void {
    this.hal.log(error.kind === "closed" ? "info" : "warn", `xmpp: ${error.message}`);
    const listener = this.listener.error;
    if (listener) this.guard("error", () => listener(error));
  }

  // The owner's callbacks run inside socket and timer callbacks: a bug of
  // theirs is logged here rather than thrown into the host's event loop.
  private guard(what: string, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.hal.log("error", `xmpp: the ${what} listener threw: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  // Uniform in [0, 1), from the platform's random source.
  fraction(): number {
    this.hal.random.fill(this.randomBytes);
    const b = this.randomBytes;
    return ((b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]) >>> 0) / 0x1_0000_0000;
  }

  private setState(state: XmppConnectionState, error?: XmppError): void {
    if (state === this.currentState) return;
    this.currentState = state;
    const listener = this.listener.state;
    if (listener) this.guard("state", () => listener(state, error));
  }
}

// One connection from resolve to close. Its callbacks check that it is
// still current, so a late event from an abandoned socket changes nothing.
// The reader's and the connection's events as methods of small objects:
// arrow functions made at run time each take a copy of their byte code in
// the heap (720 bytes for these six), methods stay in flash.
class ReaderEvents implements StanzaReaderEvents {
  constructor(private readonly client: XmppClient) {}
  streamStart(attributes: Record<string, string>, name: string): void { this.client.attempt?.streamStart(attributes, name); }
  stanza(element: XmlElement): void { this.client.attempt?.stanza(element); }
  streamEnd(): void { this.client.attempt?.streamEnd(); }
}

class ConnectionEvents implements TcpConnectionEvents {
  constructor(private readonly attempt: Attempt, private readonly connection: TcpConnection) {}
  data(chunk: Uint8Array): void { this.attempt.data(this.connection, chunk); }
  drain(): void { this.attempt.drained(this.connection); }
  close(hadError: boolean): void { this.attempt.closedUnder(this.connection, hadError); }
}

class Attempt {
  private phase = Phase.Connecting;
  private connection: TcpConnection | undefined;
  private encrypted = false;
  private authenticated = false;
  private sessionOffered = false;
  private streamOpen = false;
  private nextId = 0;
  private pendingId = "";
  // The id of the first ping not yet answered, while pings go unanswered.
  private firstUnanswered = 0;
  private fullJid = "";
  private handshakeTimer: TimerId | undefined;
  private pingTimer: TimerId | undefined;
  private pongTimer: TimerId | undefined;
  private missedPongs = 0;
  private writeBlocked = false;
  private unsent = 0;
  private readonly options: XmppClientOptions;
  private readonly clock: Clock;

  constructor(private readonly client: XmppClient, private readonly token: string) {
    this.options = client.options;
    this.clock = client.hal.clock;
  }

  private get closed(): boolean {
    return this.phase === Phase.Closed;
  }

  async run(): Promise<void> {
    const o = this.options, hal = this.client.hal;
    this.handshakeTimer = this.clock.setTimer(() => {
      this.close(new XmppError("timeout", `no session with ${o.host}:${o.port} within ${o.handshakeTimeoutMs} ms`));
    }, o.handshakeTimeoutMs);
    let addresses: string[];
    try {
      addresses = await hal.resolver.resolve(o.host, o.resolveTimeoutMs);
    } catch (error) {
      this.close(new XmppError("resolve", describe(error)));
      return;
    }
    if (this.closed) return;
    if (addresses.length === 0) { this.close(new XmppError("resolve", `${o.host} has no address`)); return; }
    let connection: TcpConnection | undefined;
    let lastError = "";
    for (const address of addresses) {
      try {
        connection = await hal.tcp.connect({ address, port: o.port, timeoutMs: o.connectTimeoutMs });
        break;
      } catch (error) {
        lastError = describe(error);
      }
      if (this.closed) return;
    }
    if (this.closed) { connection?.destroy(); return; }
    if (!connection) { this.close(new XmppError("connect", lastError)); return; }
    if (o.transport === "direct-tls") {
      this.phase = Phase.TlsHandshake;
      this.secure(connection);
      return;
    }
    this.begin(connection);
  }

  // A connection (plain or freshly encrypted) on which a new stream starts.
  private begin(connection: TcpConnection): void {
    this.connection = connection;
    this.client.tokenizer.reset();
    this.client.reader.reset();
    this.streamOpen = false;
    this.phase = Phase.Features;
    connection.setEvents(new ConnectionEvents(this, connection));
    this.send(streamHeader(this.options.domain ?? jidDomain(this.options.jid)));
  }

  private secure(connection: TcpConnection): void {
    const o = this.options, tls = this.client.hal.tls!;
    this.connection = undefined;
    tls.wrap(connection, {
      serverName: o.serverName ?? o.host,
      trustAnchors: o.trustAnchors,
      trustSelfSigned: o.trustSelfSigned,
      timeoutMs: o.tlsTimeoutMs,
      // Connected for hours: its session would only push out the cloud calls'.
      resume: false,
    }).then((encrypted) => {
      if (this.closed) { encrypted.destroy(); return; }
      this.encrypted = true;
      this.begin(encrypted);
    }, (error: unknown) => {
      this.close(new XmppError("tls", describe(error)));
    });
  }

  drained(connection: TcpConnection): void {
    if (connection !== this.connection) return;
    this.writeBlocked = false;
    this.unsent = 0;
  }

  closedUnder(connection: TcpConnection, hadError: boolean): void {
    if (connection !== this.connection || this.closed) return;
    this.connection = undefined;
    const where = this.phase === Phase.Online ? "" : ` during ${PHASE_NAMES[this.phase]}`;
    this.close(new XmppError("closed", `the server closed the connection${hadError ? " with an error" : ""}${where}`));
  }

  data(connection: TcpConnection, chunk: Uint8Array): void {
    if (connection !== this.connection || this.closed || this.phase === Phase.TlsHandshake) return;
    try {
      this.client.tokenizer.write(chunk);
    } catch (error) {
      // Bytes after <proceed/> in the same chunk have no meaning; TLS starts afresh.
      if ((this.phase as Phase) === Phase.TlsHandshake) return;
      if (error instanceof XmlError) this.close(new XmppError("xml", `the server sent malformed XML: ${error.message}`));
      else if (error instanceof StanzaLimitError) this.close(new XmppError("limit", error.message));
      else this.close(new XmppError("protocol", `while reading the stream: ${describe(error)}`));
    }
  }

  private send(text: string): void {
    const connection = this.connection;
    if (!connection || this.closed) return;
    const bytes = utf8Encode(text);
    if (this.writeBlocked) {
      this.unsent += bytes.length;
      if (this.unsent > this.options.maxUnsentBytes) {
        this.close(new XmppError("limit", `the server has not read ${this.unsent} bytes`));
        return;
      }
    }
    if (!connection.write(bytes)) this.writeBlocked = true;
  }

  private id(): string {
    return String(this.nextId++);
  }

  // ---- The stream, from the tokenizer ----

  streamStart(_attributes: Record<string, string>, name: string): void {
    if (this.closed) return;
    if (name !== "stream:stream" && !name.endsWith(":stream") && name !== "stream") {
      this.close(new XmppError("protocol", `the server opened <${name}> instead of a stream`));
      return;
    }
    this.streamOpen = true;
  }

  streamEnd(): void {
    if (this.closed) return;
    this.close(new XmppError("closed", "the server ended the stream"), true);
  }

  stanza(element: XmlElement): void {
    if (this.closed) return;
    if (!this.streamOpen) { this.close(new XmppError("protocol", "a stanza before the stream header")); return; }
    const incoming = recognise(element);
    if (incoming.kind === "stream-error") {
      this.close(new XmppError("stream-error", `the server ended the stream: ${incoming.condition}${incoming.text ? ` (${incoming.text})` : ""}`));
      return;
    }
    switch (this.phase) {
      case Phase.Features:
        if (incoming.kind !== "features") return this.unexpected(element);
        return this.features(incoming.features);
      case Phase.StartTls:
        if (incoming.kind === "proceed") {
          const connection = this.connection!;
          this.phase = Phase.TlsHandshake;
          this.secure(connection);
          return;
        }
        if (incoming.kind === "tls-failure") return this.close(new XmppError("tls", "the server refused STARTTLS"));
        return this.unexpected(element);
      case Phase.Auth:
        if (incoming.kind === "sasl-success") {
          // The stream restarts on the same connection (RFC 6120 6.4.6), the
          // rest of this chunk being the new stream's first bytes.
          this.client.tokenizer.reset();
          this.client.reader.reset();
          this.streamOpen = false;
          this.phase = Phase.Features;
          this.authenticated = true;
          this.send(streamHeader(this.options.domain ?? jidDomain(this.options.jid)));
          return;
        }
        if (incoming.kind === "sasl-failure") {
          return this.close(new XmppError("auth", `the server refused the access token: ${incoming.condition}${incoming.text ? ` (${incoming.text})` : ""}`));
        }
        return this.unexpected(element);
      case Phase.Bind:
      case Phase.Session:
      case Phase.Subscribe:
      case Phase.Online:
        if (incoming.kind === "iq") return this.iq(incoming.type, incoming.id, incoming.from, incoming.element);
        if (incoming.kind === "message") return this.message(incoming.element);
        // Presence and anything else a server may route here: not ours.
        return;
    }
  }

  private unexpected(element: XmlElement): void {
    this.close(new XmppError("protocol", `unexpected <${element.name}> during ${PHASE_NAMES[this.phase]}`));
  }

  private features(features: StreamFeatures): void {
    const o = this.options;
    if (this.authenticated) {
      if (!features.bind) return this.close(new XmppError("protocol", "the server offers no resource binding"));
      this.sessionOffered = features.session;
      this.phase = Phase.Bind;
      this.pendingId = this.id();
      this.send(bindIq(this.pendingId, o.resource));
      return;
    }
    if (!this.encrypted) {
      const canTls = o.transport === "starttls" && this.client.hal.tls !== undefined;
      if (features.starttls && canTls) {
        this.phase = Phase.StartTls;
        this.send(STARTTLS);
        return;
      }
      if (features.starttlsRequired) return this.close(new XmppError("policy", "the server requires STARTTLS, which this configuration cannot do"));
      if (!o.allowPlainText) {
        return this.close(new XmppError("policy", features.starttls
          ? "the server offers STARTTLS but this host has no TLS, and plain text is not allowed"
          : "the server does not offer STARTTLS, and plain text is not allowed"));
      }
    }
    const mechanism = o.saslMechanism;
    if (features.mechanisms.indexOf(mechanism) < 0) {
      return this.close(new XmppError("protocol", `the server does not offer SASL ${mechanism} (it offers ${features.mechanisms.join(", ") || "nothing"})`));
    }
    this.phase = Phase.Auth;
    this.send(mechanism === "PLAIN" ? authPlain(jidLocalForPlain(o.jid), this.token) : authXOAuth2(o.jid, this.token, o.authService));
  }

  private iq(type: string, id: string, from: string | undefined, element: XmlElement): void {
    if (type === "get" || type === "set") {
      if (type === "get" && isPing(element)) this.send(iqResult(id, from));
      else this.send(iqUnsupported(id, from));
      return;
    }
    if (type !== "result" && type !== "error") return;
    if (this.phase === Phase.Online) {
      // The answer to any ping of the unanswered run counts: a late pong still shows the server alive.
      const n = Number(id);
      if (this.pongTimer !== undefined && id !== "" && n >= this.firstUnanswered && n <= Number(this.pendingId)) this.pong();
      return;
    }
    if (id !== this.pendingId) return;
    const o = this.options;
    if (this.phase === Phase.Bind) {
      if (type === "error") return this.close(new XmppError("protocol", "the server refused to bind a resource"));
      const jid = boundJid(element);
      if (!jid) return this.close(new XmppError("protocol", "the bind result carries no JID"));
      this.fullJid = jid;
      if (this.sessionOffered) {
        this.phase = Phase.Session;
        this.pendingId = this.id();
        this.send(sessionIq(this.pendingId));
        return;
      }
      return this.subscribe();
    }
    if (this.phase === Phase.Session) {
      if (type === "error") return this.close(new XmppError("protocol", "the server refused the session"));
      return this.subscribe();
    }
    if (this.phase === Phase.Subscribe) {
      if (type === "error") return this.close(new XmppError("protocol", "the server refused the push subscription"));
      if (o.subscribe) this.goOnline();
    }
  }

  private subscribe(): void {
    if (!this.options.subscribe) {
      this.goOnline();
      return;
    }
    this.phase = Phase.Subscribe;
    this.pendingId = this.id();
    this.send(subscribeIq(this.pendingId, bareJid(this.fullJid)));
  }

  private goOnline(): void {
    this.phase = Phase.Online;
    this.pendingId = "";
    this.clearTimer("handshakeTimer");
    this.client.online(this, this.fullJid);
    this.schedulePing();
  }

  private message(element: XmlElement): void {
    for (const payload of pushPayloads(element, this.options.maxStanzaBytes)) {
      if (payload === undefined) {
        this.client.report(new XmppError("protocol", "a push whose data is not base64"));
        continue;
      }
      const kind = classifyPush(payload, this.options.printerId);
      if (kind) this.client.deliver(this, kind);
      else this.client.hal.log("info", `xmpp: a push not for this printer: ${JSON.stringify(payload.slice(0, 80))}`);
      if (this.closed) return;
    }
  }

  // ---- Keepalive ----

  schedulePing(): void {
    if (this.phase !== Phase.Online || this.pongTimer !== undefined) return;
    this.clearTimer("pingTimer");
    const o = this.options;
    const seconds = Math.max(o.minPingIntervalSeconds, o.pingIntervalSeconds);
    const delay = Math.round(seconds * 1000 * (1 + o.pingJitter * this.client.fraction()));
    this.pingTimer = this.clock.setTimer(() => {
      this.pingTimer = undefined;
      this.ping();
    }, delay);
  }

  private ping(): void {
    if (this.phase !== Phase.Online) return;
    this.pendingId = this.id();
    if (this.missedPongs === 0) this.firstUnanswered = Number(this.pendingId);
    this.send(pingIq(this.pendingId, this.options.pingTo));
    this.pongTimer = this.clock.setTimer(() => {
      this.pongTimer = undefined;
      this.missedPongs++;
      if (this.missedPongs > this.options.missedPongsAllowed) {
        this.close(new XmppError("timeout", `${this.missedPongs} pings in a row went unanswered`));
        return;
      }
      this.client.hal.log("info", "xmpp: a ping went unanswered; pinging again");
      this.ping();
    }, this.options.pongTimeoutMs);
  }

  private pong(): void {
    this.clearTimer("pongTimer");
    this.missedPongs = 0;
    this.pendingId = "";
    this.schedulePing();
  }

  private clearTimer(which: "handshakeTimer" | "pingTimer" | "pongTimer"): void {
    const id = this[which];
    if (id !== undefined) this.clock.clearTimer(id);
    this[which] = undefined;
  }

  // Ends the attempt once: politely (a stream end for the server's stream
  // end, or stop()) or abruptly on an error. Without an error (stop()) the
  // client hears nothing back.
  close(error: XmppError | undefined, polite = false): void {
    if (this.closed) return;
    if (polite && this.streamOpen) this.send(STREAM_END);
    this.phase = Phase.Closed;
    this.clearTimer("handshakeTimer");
    this.clearTimer("pingTimer");
    this.clearTimer("pongTimer");
    const connection = this.connection;
    this.connection = undefined;
    if (connection) {
      if (polite) connection.end();
      else connection.destroy();
    }
    if (error) this.client.ended(this, error);
  }
}

const PHASE_NAMES = ["connecting", "stream negotiation", "STARTTLS", "the TLS handshake", "authentication", "resource binding", "session", "subscription", "online", "closed"];

// SASL PLAIN on a stock server authenticates the local part.
function jidLocalForPlain(jid: string): string {
  return jid.slice(0, jid.indexOf("@"));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
