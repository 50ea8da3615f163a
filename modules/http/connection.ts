import type { TimerId } from "../hal/clock.js";
import type { TcpConnection, TcpConnectionEvents } from "../hal/tcp.js";
import { utf8Encode } from "../text/utf8.js";
import { ChunkedDecoder, ChunkedError, type ChunkSink } from "./chunked.js";
import { requestFraming } from "./framing.js";
import { HeadReader, type HeadError } from "./head.js";
import { HttpRequest, type BodyConsumer } from "./request.js";
import { HttpResponse, encodeResponse, encodeResponseHead } from "./response.js";
import type { HttpServer } from "./server.js";

// One accepted connection, request after request: the head read into a fixed
// buffer, the body streamed to the handler's consumer with pause and resume
// passed back to the socket, the response written, and the timers that
// decide when the peer has taken too long. The body path (receive, pump,
// step, deliver) is the print path: it passes the socket's chunks on as
// views and binds its callbacks once, so keep per-chunk allocation out of it.

const enum State { Head, Body, AwaitResponse, Discard, Closed }
const enum Flag { Chunked = 1, KeepAlive = 2, ExpectContinue = 4, Pumping = 8, SocketPaused = 16, Finished = 32, Waiting = 64, ReceivedAny = 128 }

const CONTINUE = utf8Encode("HTTP/1.1 100 Continue\r\n\r\n");
const IGNORE: ChunkSink = { piece: () => true };
// About a round trip on a busy Wi-Fi network, with room for an event loop
// that is accepting a burst of connections before it reads any of them.
const FRESH_MS = 250;

// The socket's events, and the chunked decoder's pieces, as methods of one
// small object per connection: arrow functions made in the constructor would
// each take a copy of their byte code and share an environment in the heap,
// for every connection.
class SocketEvents implements TcpConnectionEvents, ChunkSink {
  constructor(private readonly connection: Connection) {}
  data(chunk: Uint8Array): void { this.connection.receive(chunk); }
  drain(): void { this.connection.drained(); }
  close(): void { this.connection.finish("the connection closed before the body was complete"); }
  piece(bytes: Uint8Array): boolean { return this.connection.deliver(bytes); }
}

export class Connection {
  readonly remoteAddress: string;
  private state = State.Head;
  private readonly head: HeadReader;
  // Made for a chunked body and dropped after it: most requests (a page, an
  // IPP query, /privet/info) have none, and an idle connection holds none.
  private chunks: ChunkedDecoder | undefined;
  private readonly events: SocketEvents;
  private request: HttpRequest | undefined;
  // The yes-or-no state below (chunked, keepAlive, ...) as bits of one
  // number, read and set through accessors: eight fields would be seven
  // more slots in every connection.
  private flags = Flag.KeepAlive;
  // Content-Length bytes still to come (a chunked body's end is the decoder's).
  private bodyRemaining = 0;
  // Bytes of a chunked body dropped since the early response.
  private discarded = 0;
  // Bytes received but not yet processed, held while the request above them
  // is being answered or the body consumer asked us to wait.
  private held: Uint8Array | undefined;
  private timer: TimerId | undefined;
  private timerAt = 0;
  // Since when the peer last did anything (see waiting).
  private lastActivity: number;
  // When the current head's first byte was read; -1 between requests.
  headStartedAt = -1;
  // When the connection last became free for a new request.
  idleSince: number;

  constructor(private readonly server: HttpServer, private readonly socket: TcpConnection) {
    this.remoteAddress = socket.remoteAddress;
    this.head = new HeadReader(server.options.maxHeaderBytes);
    this.lastActivity = this.idleSince = server.clock.monotonic();
    this.events = new SocketEvents(this);
    socket.setEvents(this.events);
    this.arm();
  }

  private get chunked(): boolean { return (this.flags & Flag.Chunked) !== 0; }
  private set chunked(on: boolean) { this.flag(Flag.Chunked, on); }
  private get keepAlive(): boolean { return (this.flags & Flag.KeepAlive) !== 0; }
  private set keepAlive(on: boolean) { this.flag(Flag.KeepAlive, on); }
  private get expectContinue(): boolean { return (this.flags & Flag.ExpectContinue) !== 0; }
  private set expectContinue(on: boolean) { this.flag(Flag.ExpectContinue, on); }
  private get pumping(): boolean { return (this.flags & Flag.Pumping) !== 0; }
  private set pumping(on: boolean) { this.flag(Flag.Pumping, on); }
  private get socketPaused(): boolean { return (this.flags & Flag.SocketPaused) !== 0; }
  private set socketPaused(on: boolean) { this.flag(Flag.SocketPaused, on); }
  private get finished(): boolean { return (this.flags & Flag.Finished) !== 0; }
  private set finished(on: boolean) { this.flag(Flag.Finished, on); }
  // Whether we are waiting on the peer.
  private get waiting(): boolean { return (this.flags & Flag.Waiting) !== 0; }
  private set waiting(on: boolean) { this.flag(Flag.Waiting, on); }
  private get receivedAny(): boolean { return (this.flags & Flag.ReceivedAny) !== 0; }
  private set receivedAny(on: boolean) { this.flag(Flag.ReceivedAny, on); }

  private flag(bit: Flag, on: boolean): void {
    this.flags = on ? this.flags | bit : this.flags & ~bit;
  }

  // Free for a new request and holding nothing: a slot that can be given away.
  get betweenRequests(): boolean {
    return this.state === State.Head && this.headStartedAt < 0 && this.held === undefined;
  }

  // Accepted so recently that its first bytes may simply not have been read yet.
  isFresh(now: number): boolean {
    return !this.receivedAny && now - this.idleSince < FRESH_MS;
  }

  get readingHead(): boolean {
    return this.state === State.Head && this.headStartedAt >= 0;
  }

  // The socket's events, through SocketEvents (below).
  receive(chunk: Uint8Array): void {
    if (this.state === State.Closed) return;
    this.lastActivity = this.server.clock.monotonic();
    this.receivedAny = true;
    if (this.held) {
      // A host may hand over what it had buffered before the pause took effect.
      if (this.held.length + chunk.length > this.server.options.maxHeldBytes) {
        this.server.log("debug", `http: ${this.remoteAddress} sent more than ${this.server.options.maxHeldBytes} bytes while paused`);
        return this.close("the connection delivered too much while paused");
      }
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
    this.arm();
  }

  private step(chunk: Uint8Array): number {
    switch (this.state) {
      case State.Head: {
        const used = this.head.feed(chunk, 0);
        // Empty lines before a request (an old client's CRLF after a POST
        // body) leave the connection idle rather than starting the deadline.
        if (this.headStartedAt < 0 && this.head.started) this.headStartedAt = this.server.clock.monotonic();
        if (this.head.error) {
          this.fail(this.head.error);
          return chunk.length;
        }
        if (this.head.complete) this.dispatch();
        return used;
      }
      case State.Body: {
        if (this.chunked) return this.decode(chunk);
        const request = this.request!;
        const n = Math.min(this.bodyRemaining, chunk.length);
        this.bodyRemaining -= n;
        if (this.bodyRemaining === 0) this.state = State.AwaitResponse;
        this.deliver(n === chunk.length ? chunk : chunk.subarray(0, n));
        // The handler may have answered from inside data(); then it wants no end().
        if (this.bodyRemaining === 0 && this.state === State.AwaitResponse) this.finishBody(request);
        return n;
      }
      case State.Discard: {
        if (!this.chunked) {
          const n = Math.min(this.bodyRemaining, chunk.length);
          this.bodyRemaining -= n;
          if (this.bodyRemaining === 0) this.nextRequest();
          return n;
        }
        let used: number;
        try {
          used = this.decoder().feed(chunk, 0, IGNORE);
        } catch (error) {
          if (!(error instanceof ChunkedError)) throw error;
          this.server.log("debug", `http: malformed chunked body after the response from ${this.remoteAddress}: ${error.message}`);
          this.shut();
          return chunk.length;
        }
        this.discarded += used;
        if (this.decoder().done) {
          this.nextRequest();
        } else if (this.discarded > this.server.options.discardLimit) {
          // The length was unknown when we answered; now it is too much to read.
          this.server.log("debug", `http: closing after ${this.discarded} unread chunked bytes from ${this.remoteAddress}`);
          this.shut();
        }
        return used;
      }
      default:
        return 0;
    }
  }

  private decoder(): ChunkedDecoder {
    // A trailer is a header section, so the head's bound applies to it.
    return this.chunks ??= new ChunkedDecoder({ maxTrailerBytes: this.server.options.maxHeaderBytes });
  }

  private decode(chunk: Uint8Array): number {
    const request = this.request!;
    let used: number;
    try {
      used = this.decoder().feed(chunk, 0, this.events);
    } catch (error) {
      if (!(error instanceof ChunkedError)) throw error;
      this.badBody(request, error.message);
      return chunk.length;
    }
    if (this.chunks!.done && this.state === State.Body) {
      this.state = State.AwaitResponse;
      this.finishBody(request);
    }
    return used;
  }

  // Hands a piece of body to the consumer; says whether to go on decoding.
  deliver(piece: Uint8Array): boolean {
    const request = this.request!;
    const consumer = request.consumer!;
    try {
      consumer.data(piece);
    } catch (error) {
      this.consumerFailed(request, consumer, error, "data");
      return false;
    }
    return this.state === State.Body && !this.mustHold();
  }

  private finishBody(request: HttpRequest): void {
    const consumer = request.consumer;
    if (!consumer) return;
    try {
      consumer.end();
    } catch (error) {
      this.consumerFailed(request, consumer, error, "end");
    }
  }

  // Consumers belong to other layers (the spooler, a form reader); what they
  // throw must not unwind into the host's socket callback. Their owner learns
  // of it through abort(), the client through a 500 and a closed connection.
  private consumerFailed(request: HttpRequest, consumer: BodyConsumer, error: unknown, where: string): void {
    this.server.log("error", `http: the body consumer of ${request.method} ${request.path} threw in ${where}: ${describe(error)}`);
    if (request.consumer === consumer) request.consumer = undefined;
    if (!this.finished) {
      if (!request.answered) this.writeFinal(request, 500, "Internal Server Error", "internal error");
      this.shut();
    }
    try {
      consumer.abort(`internal error: ${describe(error)}`);
    } catch (again) {
      this.server.log("error", `http: the body consumer of ${request.method} ${request.path} threw in abort: ${describe(again)}`);
    }
  }

  private abortConsumer(request: HttpRequest, reason: string): void {
    const consumer = request.consumer;
    if (!consumer) return;
    request.consumer = undefined;
    try {
      consumer.abort(reason);
    } catch (error) {
      // Only ever called on the way out: logging is all that is left to do.
      this.server.log("error", `http: the body consumer of ${request.method} ${request.path} threw in abort: ${describe(error)}`);
    }
  }

  // A chunked body that breaks its framing cannot be skipped: where it ends
  // is unknown, so the connection cannot carry another request.
  private badBody(request: HttpRequest, reason: string): void {
    this.server.log("debug", `http: malformed chunked body from ${this.remoteAddress}: ${reason}`);
    if (!request.answered) this.writeFinal(request, 400, "Bad Request", `malformed chunked body: ${reason}`);
    this.shut(`malformed chunked body: ${reason}`);
  }

  private writeFinal(request: HttpRequest, status: number, reason: string, detail: string): void {
    request.answered = true;
    this.socket.write(encodeResponse(status, reason, "text/plain; charset=utf-8", utf8Encode(detail + "\n"), [], false, request.version === "1.0"));
  }

  private dispatch(): void {
    const parsed = this.head.parse(this.server.options.maxHeaders);
    this.head.release();
    if ("status" in parsed) return this.fail(parsed);
    const framing = requestFraming(parsed);
    if ("status" in framing) return this.fail(framing);
    const { contentLength, chunked } = framing;
    const headers = parsed.headers;
    const connectionHeader = (headers["connection"] ?? "").toLowerCase();
    this.keepAlive = parsed.version === "1.1" ? !/\bclose\b/.test(connectionHeader) : /\bkeep-alive\b/.test(connectionHeader);
    this.expectContinue = parsed.version === "1.1" && (headers["expect"] ?? "").toLowerCase() === "100-continue";
    this.chunked = chunked;
    this.bodyRemaining = contentLength;
    this.state = chunked || contentLength > 0 ? State.Body : State.AwaitResponse;
    const request = new HttpRequest(parsed, contentLength, chunked, this.remoteAddress, this);
    this.request = request;
    const response = new HttpResponse(this, request);
    try {
      this.server.handler(request, response);
    } catch (error) {
      // A handler that already handed the body to a consumer is treated as
      // that consumer failing: its owner must hear of it.
      const consumer = request.consumer;
      if (consumer) return this.consumerFailed(request, consumer, error, "the handler");
      this.server.log("error", `http: handler failed for ${parsed.method} ${parsed.path}: ${describe(error)}`);
      if (!response.sent) response.send(500, "internal error\n");
    }
  }

  startBody(request: HttpRequest): void {
    if (request !== this.request || this.state === State.Closed) return;
    if (this.state === State.AwaitResponse && !request.hasBody) {
      this.finishBody(request);
      return;
    }
    if (this.state !== State.Body) return;
    if (this.expectContinue) {
      this.expectContinue = false;
      this.socket.write(CONTINUE);
    }
    this.pump();
  }

  respond(request: HttpRequest, status: number, reason: string, contentType: string, body: Uint8Array, headers: Array<[string, string]>): void {
    if (request !== this.request || this.state === State.Closed || request.answered) return;
    request.answered = true;
    let keepAlive = this.keepAlive;
    const bodyUnread = this.state === State.Body;
    request.consumer = undefined;
    if (bodyUnread) {
      // The handler answered before the body was all read (an error, usually).
      // A large rest is not worth reading, and a client still waiting for
      // 100 Continue will not send it at all. A chunked rest is read up to
      // the discard limit, since its size is unknown until then.
      if (this.expectContinue || (!this.chunked && this.bodyRemaining > this.server.options.discardLimit)) keepAlive = false;
    }
    // Head and body as two writes: the body (an IPP answer, a page) is not
    // copied again to sit behind the head.
    const http10 = request.version === "1.0";
    if (body.length < 512) this.socket.write(encodeResponse(status, reason, contentType, body, headers, keepAlive, http10));
    else {
      this.socket.write(encodeResponseHead(status, reason, contentType, body.length, headers, keepAlive, http10));
      this.socket.write(body);
    }
    if (!keepAlive) return this.shut();
    if (bodyUnread) {
      this.state = State.Discard;
      this.discarded = 0;
    } else {
      this.nextRequest();
    }
    this.pump();
  }

  // A response whose length is unknown when it starts (a page written in
  // pieces): chunked on HTTP/1.1, ended by closing on HTTP/1.0. Requests
  // pipelined behind it wait, as they do behind any response.
  private stream: ResponseStream | undefined;
  // A stream whose reader stopped reading is closed after the idle timeout,
  // so it cannot hold a slot for ever.
  private stallTimer: TimerId | undefined;

  respondStream(request: HttpRequest, status: number, reason: string, contentType: string, headers: Array<[string, string]>): BodyStream | undefined {
    if (request !== this.request || this.state === State.Closed || request.answered) return undefined;
    request.answered = true;
    const http10 = request.version === "1.0";
    // An unread body is not worth skipping behind a streamed answer.
    const keepAlive = this.keepAlive && !http10 && this.state !== State.Body;
    request.consumer = undefined;
    this.state = State.AwaitResponse;
    let head = `HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${contentType}\r\n`;
    head += http10 ? "" : "Transfer-Encoding: chunked\r\n";
    if (!keepAlive) head += "Connection: close\r\n";
    head += "Cache-Control: no-cache\r\n";
    for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
    this.socket.write(utf8Encode(head + "\r\n"));
    const stream = new ResponseStream(this, keepAlive, http10);
    this.stream = stream;
    return stream;
  }

  // The streamed response's methods (ResponseStream's, below): a stream that
  // is no longer the connection's current one does nothing.
  isStreaming(stream: ResponseStream): boolean {
    return this.stream === stream;
  }

  writeStream(stream: ResponseStream, bytes: Uint8Array): boolean {
    if (this.stream !== stream || bytes.length === 0) return this.stream === stream;
    // Copied: the writer reuses its buffer.
    const ok = this.socket.write(stream.http10 ? bytes.slice() : chunkOf(bytes));
    if (!ok) this.watchStall();
    return ok;
  }

  endStream(stream: ResponseStream): void {
    if (this.stream !== stream) return;
    this.stream = undefined;
    this.clearStall();
    if (!stream.http10) this.socket.write(LAST_CHUNK);
    if (!stream.keepAlive) return this.shut();
    this.nextRequest();
    this.pump();
  }

  abortStream(stream: ResponseStream): void {
    if (this.stream !== stream) return;
    this.stream = undefined;
    this.close("the response could not be completed");
  }

  drained(): void {
    this.clearStall();
    this.stream?.listener?.drained();
  }

  private watchStall(): void {
    if (this.stallTimer !== undefined) return;
    // A thin arrow: the work is a method, so the closure's copied byte code is small.
    this.stallTimer = this.server.clock.setTimer(() => this.stalled(), this.server.options.stallTimeoutMs ?? this.server.options.idleTimeoutMs);
  }

  private stalled(): void {
    this.stallTimer = undefined;
    const request = this.request;
    this.server.log("debug", `http: ${this.remoteAddress} stopped reading the response to ${request ? `${request.method} ${request.path}` : "a request"}`);
    this.close("the client stopped reading the response");
  }

  private clearStall(): void {
    if (this.stallTimer !== undefined) this.server.clock.clearTimer(this.stallTimer);
    this.stallTimer = undefined;
  }

  private nextRequest(): void {
    this.request = undefined;
    this.head.reset();
    this.chunks = undefined;
    this.chunked = false;
    this.bodyRemaining = 0;
    this.headStartedAt = -1;
    this.idleSince = this.server.clock.monotonic();
    this.state = State.Head;
  }

  private fail(error: HeadError): void {
    this.server.log("debug", `http: ${error.status} ${error.detail} from ${this.remoteAddress}`);
    this.socket.write(encodeResponse(error.status, error.reason, "text/plain; charset=utf-8", utf8Encode(error.detail + "\n"), [], false));
    this.shut();
  }

  // Given up to a newcomer (see HttpServer.makeRoom).
  evict(): void {
    if (this.readingHead) {
      return this.fail({ status: 408, reason: "Request Timeout", detail: "the request head was too slow; its connection went to another client" });
    }
    this.server.log("debug", `http: closing an idle connection from ${this.remoteAddress} to make room`);
    this.close("the connection was closed to make room");
  }

  private waitingOnPeer(): boolean {
    if (this.held) return false;
    if (this.state === State.Head || this.state === State.Discard) return true;
    return this.state === State.Body && !this.mustHold();
  }

  // When the peer's time runs out: the idle timeout from its last byte, and
  // in a head also a deadline from the head's first byte (or, on a new
  // connection, a shorter wait for any byte at all).
  private deadline(): number {
    const options = this.server.options;
    let at = this.lastActivity + options.idleTimeoutMs;
    if (this.state === State.Head) {
      if (this.headStartedAt >= 0) at = Math.min(at, this.headStartedAt + options.headTimeoutMs);
      else if (!this.receivedAny) at = Math.min(at, this.lastActivity + options.firstByteTimeoutMs);
    }
    return at;
  }

  // One timer per connection, moved only when the deadline comes earlier, so
  // a fast stream of chunks does not set and clear a timer for each one.
  private arm(): void {
    const clock = this.server.clock;
    if (!this.waitingOnPeer()) {
      this.waiting = false;
      if (this.timer !== undefined) clock.clearTimer(this.timer);
      this.timer = undefined;
      return;
    }
    // Only time the peer while we are waiting on the peer.
    if (!this.waiting) {
      this.waiting = true;
      this.lastActivity = clock.monotonic();
    }
    const at = this.deadline();
    if (this.timer !== undefined) {
      if (this.timerAt <= at) return;
      clock.clearTimer(this.timer);
    }
    this.timerAt = at;
    this.timer = clock.setTimer(() => this.expire(), at - clock.monotonic());
  }

  private expire(): void {
    this.timer = undefined;
    if (this.finished || !this.waitingOnPeer()) return;
    const clock = this.server.clock;
    const now = clock.monotonic();
    const at = this.deadline();
    if (now < at) {
      this.timerAt = at;
      this.timer = clock.setTimer(() => this.expire(), at - now);
      return;
    }
    if (this.state === State.Head && this.headStartedAt >= 0) {
      const options = this.server.options;
      const detail = now - this.headStartedAt >= options.headTimeoutMs
        ? `the request head took longer than ${options.headTimeoutMs} ms`
        : "the request did not arrive in time";
      return this.fail({ status: 408, reason: "Request Timeout", detail });
    }
    // A silent connection, or a body that stopped coming, is closed quietly.
    this.close("the client stopped sending the body");
  }

  // Closes now, dropping anything unsent.
  close(reason = "the connection was closed"): void {
    if (this.finished) return;
    this.socket.destroy();
    this.finish(reason);
  }

  // Closes once what was written has gone out.
  private shut(abortReason = "the connection was closed"): void {
    if (this.finished) return;
    this.socket.end();
    this.finish(abortReason);
  }

  // The one way out, whoever closes: a consumer still reading hears abort().
  finish(abortReason: string): void {
    if (this.finished) return;
    const wasReading = this.state === State.Body;
    this.finished = true;
    this.state = State.Closed;
    if (this.timer !== undefined) this.server.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.clearStall();
    this.stream = undefined;
    this.held = undefined;
    this.bodyRemaining = 0;
    this.server.forget(this);
    const request = this.request;
    if (!request) return;
    if (wasReading) this.abortConsumer(request, abortReason);
    request.consumer = undefined;
    request.notifyClose(this.server.log);
  }
}

// What a streamed response writes through; see HttpResponse.stream.
export interface BodyStream {
  write(bytes: Uint8Array): boolean;
  end(): void;
  // Closes the connection, so a body that cannot be finished is not taken for whole.
  abort(): void;
  // Set by the writer: told when the socket has taken everything written.
  listener: DrainListener | undefined;
  readonly open: boolean;
}

export interface DrainListener {
  drained(): void;
}

// One streamed response: what it was sent with, its methods the connection's.
// A class rather than an object of arrow functions, which XS would make with
// a copy of each one's byte code in the heap for every page served.
class ResponseStream implements BodyStream {
  listener: DrainListener | undefined = undefined;

  constructor(private readonly connection: Connection, readonly keepAlive: boolean, readonly http10: boolean) {}

  get open(): boolean { return this.connection.isStreaming(this); }
  write(bytes: Uint8Array): boolean { return this.connection.writeStream(this, bytes); }
  end(): void { this.connection.endStream(this); }
  abort(): void { this.connection.abortStream(this); }
}

const LAST_CHUNK = utf8Encode("0\r\n\r\n");

function chunkOf(bytes: Uint8Array): Uint8Array {
  const size = utf8Encode(bytes.length.toString(16) + "\r\n");
  const out = new Uint8Array(size.length + bytes.length + 2);
  out.set(size, 0);
  out.set(bytes, size.length);
  out[out.length - 2] = 13;
  out[out.length - 1] = 10;
  return out;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
