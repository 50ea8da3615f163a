import type { Clock, TimerId } from "../hal/clock.js";
import type { Log } from "../hal/log.js";
import type { Tcp, TcpConnection, TcpListener } from "../hal/tcp.js";
import { utf8Encode } from "../text/utf8.js";
import { HeadReader, type HeadError, type RequestHead } from "./head.js";

export interface HttpServerOptions {
  port: number;
  host: string;
  // Fixed memory: each connection owns one head buffer of maxHeaderBytes.
  maxConnections: number;
  maxHeaderBytes: number;
  maxHeaders: number;
  // A connection that sends nothing for this long while we wait on it is closed.
  idleTimeoutMs: number;
  // Unread body bytes up to this many are read and dropped after an early
  // response so the connection can be kept; more than this and it is closed.
  discardLimit: number;
}

export const defaultHttpServerOptions: HttpServerOptions = {
  port: 8631,
  host: "127.0.0.1",
  maxConnections: 8,
  maxHeaderBytes: 8192,
  maxHeaders: 48,
  idleTimeoutMs: 30_000,
  discardLimit: 65_536,
};

export interface BodyConsumer {
  data(chunk: Uint8Array): void;
  end(): void;
  // The body will not arrive whole: the peer went away or stalled.
  abort(reason: string): void;
}

export interface ResponseOptions {
  contentType?: string;
  reason?: string;
  headers?: Array<[string, string]>;
}

export type HttpHandler = (request: HttpRequest, response: HttpResponse) => void;

const REASONS: Record<number, string> = {
  200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout",
  411: "Length Required", 413: "Content Too Large", 414: "URI Too Long", 431: "Request Header Fields Too Large",
  500: "Internal Server Error", 503: "Service Unavailable", 505: "HTTP Version Not Supported",
};

const enum State { Head, Body, AwaitResponse, Discard, Closed }

export class HttpServer {
  private listener: TcpListener | undefined;
  private readonly connections = new Set<Connection>();
  readonly options: HttpServerOptions;

  constructor(
    private readonly tcp: Tcp,
    readonly clock: Clock,
    readonly log: Log,
    options: Partial<HttpServerOptions>,
    readonly handler: HttpHandler,
  ) {
    this.options = { ...defaultHttpServerOptions, ...options };
  }

  get port(): number {
    return this.listener ? this.listener.port : this.options.port;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async start(): Promise<number> {
    this.listener = await this.tcp.listen({ port: this.options.port, host: this.options.host }, (socket) => this.accept(socket));
    return this.listener.port;
  }

  stop(): void {
    this.listener?.close();
    this.listener = undefined;
    for (const connection of [...this.connections]) connection.close();
  }

  private accept(socket: TcpConnection): void {
    if (this.connections.size >= this.options.maxConnections) {
      // Say why before closing, so a client can tell overload from a crash.
      socket.setEvents({ data() {}, drain() {}, close() {} });
      socket.write(encodeResponse(503, "Service Unavailable", "text/plain", utf8Encode("too many connections\n"), [["Retry-After", "1"]], false));
      socket.end();
      return;
    }
    const connection = new Connection(this, socket);
    this.connections.add(connection);
  }

  forget(connection: Connection): void {
    this.connections.delete(connection);
  }
}

export class HttpRequest {
  readonly method: string;
  readonly target: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly version: "1.0" | "1.1";
  readonly headers: Record<string, string>;
  readonly contentLength: number;
  readonly remoteAddress: string;
  consumer: BodyConsumer | undefined;
  paused = false;
  private readonly closeListeners: Array<() => void> = [];

  constructor(head: RequestHead, contentLength: number, remoteAddress: string, private readonly connection: Connection) {
    this.method = head.method;
    this.target = head.target;
    this.path = head.path;
    this.query = head.query;
    this.version = head.version;
    this.headers = head.headers;
    this.contentLength = contentLength;
    this.remoteAddress = remoteAddress;
  }

  // What a DocumentSource announces: the Content-Length, when there was one.
  get declaredLength(): number | undefined {
    return this.headers["content-length"] === undefined ? undefined : this.contentLength;
  }

  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()];
  }

  // Starts the body flowing into consumer; until then it waits in the TCP window.
  readBody(consumer: BodyConsumer): void {
    if (this.consumer) throw new Error("http: body is already being read");
    this.consumer = consumer;
    this.connection.startBody(this);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.connection.pump();
  }

  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  notifyClose(): void {
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}

export class HttpResponse {
  private done = false;

  constructor(private readonly connection: Connection, private readonly request: HttpRequest) {}

  get sent(): boolean {
    return this.done;
  }

  send(status: number, body: string | Uint8Array = "", options: ResponseOptions = {}): void {
    if (this.done) throw new Error("http: response already sent");
    this.done = true;
    const bytes = typeof body === "string" ? utf8Encode(body) : body;
    this.connection.respond(this.request, status, options.reason ?? REASONS[status] ?? "Unknown",
      options.contentType ?? "text/plain; charset=utf-8", bytes, options.headers ?? []);
  }

  json(value: unknown, status = 200): void {
    this.send(status, JSON.stringify(value), { contentType: "application/json" });
  }
}

export function encodeResponse(status: number, reason: string, contentType: string, body: Uint8Array,
  headers: Array<[string, string]>, keepAlive: boolean, http10 = false): Uint8Array {
  let head = `HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n`;
  // An HTTP/1.0 client closes unless told the connection stays.
  if (!keepAlive) head += "Connection: close\r\n";
  else if (http10) head += "Connection: keep-alive\r\n";
  head += "Cache-Control: no-cache\r\n";
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
  head += "\r\n";
  const headBytes = utf8Encode(head);
  const out = new Uint8Array(headBytes.length + body.length);
  out.set(headBytes, 0);
  out.set(body, headBytes.length);
  return out;
}

const CONTINUE = utf8Encode("HTTP/1.1 100 Continue\r\n\r\n");
const MAX_HELD_BYTES = 256 * 1024;

class Connection {
  private state = State.Head;
  private readonly head: HeadReader;
  private request: HttpRequest | undefined;
  private bodyRemaining = 0;
  private keepAlive = true;
  private expectContinue = false;
  // Bytes received but not yet processed, held while the request above them
  // is being answered or the body consumer asked us to wait.
  private held: Uint8Array | undefined;
  private pumping = false;
  private socketPaused = false;
  private idleTimer: TimerId | undefined;
  private lastActivity = 0;

  constructor(private readonly server: HttpServer, private readonly socket: TcpConnection) {
    this.head = new HeadReader(server.options.maxHeaderBytes);
    socket.setEvents({
      data: (chunk) => this.receive(chunk),
      drain: () => {},
      close: () => this.closed(),
    });
    this.armIdle();
  }

  private receive(chunk: Uint8Array): void {
    if (this.state === State.Closed) return;
    this.lastActivity = this.server.clock.monotonic();
    if (this.held) {
      // A host may hand over what it had buffered before the pause took effect.
      if (this.held.length + chunk.length > MAX_HELD_BYTES) return this.close();
      this.held = concat(this.held, chunk);
    } else {
      this.held = chunk;
    }
    this.pump();
  }

  private mustHold(): boolean {
    if (this.state === State.AwaitResponse) return true;
    if (this.state !== State.Body) return false;
    const request = this.request!;
    return request.consumer === undefined || request.paused;
  }

  // Processes held bytes until they run out or the current request must wait.
  // Re-entrant calls (a handler answering from inside a data callback) fall
  // through to the loop already running.
  pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.held && this.state !== State.Closed && !this.mustHold()) {
        const chunk = this.held;
        this.held = undefined;
        const used = this.step(chunk);
        // step() may have closed the connection; TypeScript cannot see that.
        if (used < chunk.length && (this.state as State) !== State.Closed) {
          this.held = this.held ? concat(chunk.subarray(used), this.held) : chunk.subarray(used);
        }
      }
    } finally {
      this.pumping = false;
    }
    if (this.state === State.Closed) return;
    const hold = this.held !== undefined || this.mustHold();
    if (hold !== this.socketPaused) {
      this.socketPaused = hold;
      if (hold) this.socket.pause();
      else this.socket.resume();
    }
    this.armIdle();
  }

  private step(chunk: Uint8Array): number {
    switch (this.state) {
      case State.Head: {
        const used = this.head.feed(chunk, 0);
        if (this.head.error) {
          this.fail(this.head.error);
          return chunk.length;
        }
        if (this.head.complete) this.dispatch();
        return used;
      }
      case State.Body: {
        const request = this.request!;
        const n = Math.min(this.bodyRemaining, chunk.length);
        this.bodyRemaining -= n;
        if (this.bodyRemaining === 0) this.state = State.AwaitResponse;
        request.consumer!.data(n === chunk.length ? chunk : chunk.subarray(0, n));
        // The handler may have answered from inside data(); then it wants no end().
        if (this.bodyRemaining === 0 && request.consumer) request.consumer.end();
        return n;
      }
      case State.Discard: {
        const n = Math.min(this.bodyRemaining, chunk.length);
        this.bodyRemaining -= n;
        if (this.bodyRemaining === 0) this.nextRequest();
        return n;
      }
      default:
        return 0;
    }
  }

  private dispatch(): void {
    const parsed = this.head.parse(this.server.options.maxHeaders);
    if ("status" in parsed) return this.fail(parsed);
    const headers = parsed.headers;
    if (headers["transfer-encoding"] !== undefined) {
      return this.fail({ status: 411, reason: "Length Required", detail: "chunked request bodies are not accepted; send Content-Length" });
    }
    let contentLength = 0;
    const lengthText = headers["content-length"];
    if (lengthText !== undefined) {
      // Repeated identical values are allowed (RFC 9110 8.6); anything else is ambiguous.
      const values = lengthText.split(",").map((v) => v.trim());
      if (!values.every((v) => v === values[0]) || !/^\d{1,15}$/.test(values[0])) {
        return this.fail({ status: 400, reason: "Bad Request", detail: "malformed Content-Length" });
      }
      contentLength = Number(values[0]);
    }
    const connectionHeader = (headers["connection"] ?? "").toLowerCase();
    this.keepAlive = parsed.version === "1.1" ? !/\bclose\b/.test(connectionHeader) : /\bkeep-alive\b/.test(connectionHeader);
    this.expectContinue = parsed.version === "1.1" && (headers["expect"] ?? "").toLowerCase() === "100-continue";
    this.bodyRemaining = contentLength;
    this.state = contentLength > 0 ? State.Body : State.AwaitResponse;
    const request = new HttpRequest(parsed, contentLength, this.socket.remoteAddress, this);
    this.request = request;
    const response = new HttpResponse(this, request);
    try {
      this.server.handler(request, response);
    } catch (error) {
      this.server.log("error", `http: handler failed for ${parsed.method} ${parsed.path}: ${String(error)}`);
      if (!response.sent) response.send(500, "internal error\n");
    }
  }

  startBody(request: HttpRequest): void {
    if (request !== this.request || this.state === State.Closed) return;
    if (this.expectContinue && this.bodyRemaining > 0) {
      this.expectContinue = false;
      this.socket.write(CONTINUE);
    }
    if (this.bodyRemaining === 0) {
      request.consumer!.end();
      return;
    }
    this.pump();
  }

  respond(request: HttpRequest, status: number, reason: string, contentType: string, body: Uint8Array, headers: Array<[string, string]>): void {
    if (request !== this.request || this.state === State.Closed) return;
    let keepAlive = this.keepAlive;
    const bodyUnread = this.state === State.Body && this.bodyRemaining > 0;
    request.consumer = undefined;
    if (bodyUnread) {
      // The handler answered before the body was all read (an error, usually).
      // A large rest is not worth reading, and a client still waiting for
      // 100 Continue will not send it at all.
      if (this.bodyRemaining > this.server.options.discardLimit || this.expectContinue) keepAlive = false;
    }
    this.socket.write(encodeResponse(status, reason, contentType, body, headers, keepAlive, request.version === "1.0"));
    if (!keepAlive) {
      this.state = State.Closed;
      this.socket.end();
      this.cleanup();
      return;
    }
    if (bodyUnread) this.state = State.Discard;
    else this.nextRequest();
    this.pump();
  }

  private nextRequest(): void {
    this.request = undefined;
    this.head.reset();
    this.state = State.Head;
  }

  private fail(error: HeadError): void {
    this.server.log("debug", `http: ${error.status} ${error.detail} from ${this.socket.remoteAddress}`);
    this.socket.write(encodeResponse(error.status, error.reason, "text/plain; charset=utf-8", utf8Encode(error.detail + "\n"), [], false));
    this.state = State.Closed;
    this.socket.end();
    this.cleanup();
  }

  // One timer per connection, re-armed only when it fires early, so a fast
  // stream of chunks does not set and clear a timer for each one.
  private armIdle(): void {
    // Only time the peer while we are waiting on the peer.
    const waitingOnPeer = !this.held && (this.state === State.Head || this.state === State.Discard || (this.state === State.Body && !this.mustHold()));
    if (!waitingOnPeer) {
      if (this.idleTimer !== undefined) this.server.clock.clearTimer(this.idleTimer);
      this.idleTimer = undefined;
      return;
    }
    if (this.idleTimer !== undefined) return;
    this.lastActivity = this.server.clock.monotonic();
    this.idleTimer = this.server.clock.setTimer(() => this.idle(), this.server.options.idleTimeoutMs);
  }

  private idle(): void {
    this.idleTimer = undefined;
    const quiet = this.server.clock.monotonic() - this.lastActivity;
    const timeout = this.server.options.idleTimeoutMs;
    if (quiet < timeout) {
      this.idleTimer = this.server.clock.setTimer(() => this.idle(), timeout - quiet);
      return;
    }
    if (this.state === State.Head && this.head.started) {
      return this.fail({ status: 408, reason: "Request Timeout", detail: "the request did not arrive in time" });
    }
    const consumer = this.request?.consumer;
    if (this.request) this.request.consumer = undefined;
    consumer?.abort("the client stopped sending the body");
    this.close();
  }

  close(): void {
    if (this.state === State.Closed) return;
    this.state = State.Closed;
    this.socket.destroy();
    this.closed();
  }

  private closed(): void {
    const request = this.request;
    const wasReadingBody = this.bodyRemaining > 0 && request?.consumer !== undefined;
    this.state = State.Closed;
    this.cleanup();
    if (request) {
      if (wasReadingBody) request.consumer!.abort("the connection closed before the body was complete");
      request.consumer = undefined;
      request.notifyClose();
    }
  }

  private cleanup(): void {
    if (this.idleTimer !== undefined) this.server.clock.clearTimer(this.idleTimer);
    this.idleTimer = undefined;
    this.held = undefined;
    this.bodyRemaining = 0;
    this.server.forget(this);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

// Collects a small body (a ticket, a form) into one buffer of exactly its
// length, refusing anything larger than limit before reading a byte of it.
export function readSmallBody(request: HttpRequest, limit: number, done: (body: Uint8Array | undefined) => void): void {
  if (request.contentLength > limit) return done(undefined);
  const body = new Uint8Array(request.contentLength);
  let filled = 0;
  request.readBody({
    data: (chunk) => {
      body.set(chunk, filled);
      filled += chunk.length;
    },
    end: () => done(body),
    abort: () => {},
  });
}
