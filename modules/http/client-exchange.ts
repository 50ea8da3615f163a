import type { Clock, TimerId } from "../hal/clock.js";
import type { TcpConnection, TcpConnectionEvents } from "../hal/tcp.js";
import type { BodySink, BodySource } from "./body.js";
import { CHUNK_END, ChunkedDecoder, ChunkedError, LAST_CHUNK, chunkHeader } from "./chunked.js";
import type { HttpClientOptions } from "./client.js";
import { parseContentLength } from "./framing.js";
import { HeadReader, type ResponseHead } from "./head.js";

// One request and its response on a connection the client has opened: the
// head and body written as the connection drains, the response head read
// and handed over, then the body streamed to the caller's consumer with its
// pause() passed to the socket, under the client's timeouts. Every way it
// ends (done, failed, aborted) goes through one Done phase.

export interface BodyConsumer {
  // A view valid only during the call.
  data(bytes: Uint8Array): void;
  end(): void;
  error(error: HttpClientError): void;
}

export interface HttpResponse {
  readonly status: number;
  readonly reason: string;
  readonly version: "1.0" | "1.1";
  // Lower-case names; repeated fields joined with ", ".
  readonly headers: Record<string, string>;
  // The body's length when the server declared it.
  readonly contentLength: number | undefined;
  // Starts the body (call once, even for a response without one: end() then
  // comes at once).
  read(consumer: BodyConsumer): void;
  // Stops reading from the connection, so the server's writes wait.
  pause(): void;
  resume(): void;
  // Gives up on the body and closes the connection; the consumer hears nothing more.
  abort(): void;
}

export type HttpClientErrorKind = "request" | "policy" | "resolve" | "connect" | "tls" | "timeout" | "protocol" | "closed" | "body";

export class HttpClientError extends Error {
  constructor(readonly kind: HttpClientErrorKind, message: string) {
    super(message);
    this.name = "HttpClientError";
  }
}

const MAX_INTERIM_RESPONSES = 8;

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function latin1Bytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

const enum Phase { Sending, Head, Waiting, Body, Done }
const enum Framing { None, Length, Chunked, Close }

// The connection's events and the body source's sink as methods of small
// objects: arrow functions made per exchange would each take a copy of their
// byte code into the heap (about 2 KB for a cloud call, in mcsim), and a
// closure per event besides.
class ExchangeEvents implements TcpConnectionEvents {
  constructor(private readonly exchange: Exchange) {}
  data(chunk: Uint8Array): void { this.exchange.dataEvent(chunk); }
  drain(): void { this.exchange.drainEvent(); }
  close(hadError: boolean): void { this.exchange.closeEvent(hadError); }
}

class ExchangeSink implements BodySink {
  constructor(private readonly exchange: Exchange) {}
  write(bytes: Uint8Array): boolean { return this.exchange.sinkWrite(bytes); }
  end(): void { this.exchange.sinkEnd(); }
  abort(reason: string): void { this.exchange.sinkAbort(reason); }
}

// The response as the caller sees it: its methods are the exchange's. A
// class rather than an object of arrow functions, each of which XS would
// make with a copy of its byte code in the heap for every call.
class ExchangeResponse implements HttpResponse {
  readonly status: number;
  readonly reason: string;
  readonly version: "1.0" | "1.1";
  readonly headers: Record<string, string>;

  constructor(private readonly exchange: Exchange, head: ResponseHead, readonly contentLength: number | undefined) {
    this.status = head.status;
    this.reason = head.reason;
    this.version = head.version;
    this.headers = head.headers;
  }

  read(consumer: BodyConsumer): void { this.exchange.read(consumer); }
  pause(): void { this.exchange.pause(); }
  resume(): void { this.exchange.resume(); }
  abort(): void { this.exchange.abort(); }
}

export class Exchange {
  private phase = Phase.Sending;
  private framing = Framing.None;
  // Dropped once the head is parsed: a download can stream for minutes, and
  // on the board this buffer is a few KB of a heap sized to the byte.
  private reader: HeadReader | undefined;
  private interim = 0;
  private resolveHead!: (response: HttpResponse) => void;
  private rejectHead!: (error: HttpClientError) => void;
  private consumer: BodyConsumer | undefined;
  private pendingError: HttpClientError | undefined;
  private timer: TimerId | undefined;
  private lastProgress = 0;
  // The chunk being worked through and where; held while the body is paused.
  private held: Uint8Array | undefined;
  private heldOffset = 0;
  private pumping = false;
  private consumerPaused = false;
  private peerClosed = false;
  private peerClosedWithError = false;
  // Sending.
  private bodySent = false;
  private bodyBytes = 0;
  private chunksSent = 0;
  private pulling = false;
  private writeBlocked = false;
  // Receiving.
  private remaining = 0;
  private received = 0;
  private decoder: ChunkedDecoder | undefined;

  constructor(
    private readonly connection: TcpConnection,
    private readonly clock: Clock,
    private readonly options: HttpClientOptions,
    private readonly what: string,
    private readonly isHead: boolean,
    private readonly head: string,
    private readonly body: BodySource | undefined,
  ) {
    this.reader = new HeadReader(options.maxHeadBytes);
  }

  start(): Promise<HttpResponse> {
    const promise = new Promise<HttpResponse>((resolve, reject) => {
      this.resolveHead = resolve;
      this.rejectHead = reject;
    });
    this.connection.setEvents(new ExchangeEvents(this));
    try {
      this.sendHead();
    } catch (error) {
      this.failed(error);
    }
    return promise;
  }

  // The connection's events, through ExchangeEvents. Nothing thrown here may
  // reach the host's socket callback.
  dataEvent(chunk: Uint8Array): void {
    try {
      this.onData(chunk);
    } catch (error) {
      this.failed(error);
    }
  }

  drainEvent(): void {
    try {
      this.onDrain();
    } catch (error) {
      this.failed(error);
    }
  }

  closeEvent(hadError: boolean): void {
    try {
      this.onClose(hadError);
    } catch (error) {
      this.failed(error);
    }
  }

  private guard(step: () => void): void {
    try {
      step();
    } catch (error) {
      this.failed(error);
    }
  }

  private failed(error: unknown): void {
    try {
      this.fail("protocol", `internal error: ${message(error)}`);
    } catch {
      // A host whose destroy() throws; the exchange is over regardless.
    }
  }

  private sendHead(): void {
    const body = this.body;
    let head = this.head;
    if (body === undefined) head += "\r\n";
    else if (body.length !== undefined) head += `Content-Length: ${body.length}\r\n\r\n`;
    else head += "Transfer-Encoding: chunked\r\n\r\n";
    if (!this.connection.write(latin1Bytes(head))) this.writeBlocked = true;
    if (body === undefined) this.requestSent();
    else this.watchIdle(this.sendStalled());
    if (!this.writeBlocked) this.pullBody();
  }

  // Made only for a request with a body.
  private sink: BodySink | undefined;

  // The body source's sink, through ExchangeSink.
  sinkWrite(bytes: Uint8Array): boolean {
    if (this.bodySent || this.phase === Phase.Done) return false;
    if (bytes.length === 0) return !this.writeBlocked;
    this.bodyBytes += bytes.length;
    const declared = this.body!.length;
    if (declared !== undefined && this.bodyBytes > declared) {
      this.fail("body", `the request body source wrote more than the ${declared} bytes it declared`);
      return false;
    }
    if (declared === undefined) {
      const framing = (this.chunksSent++ > 0 ? CHUNK_END : "") + chunkHeader(bytes.length);
      this.connection.write(latin1Bytes(framing));
    }
    if (!this.connection.write(bytes)) this.writeBlocked = true;
    this.lastProgress = this.clock.monotonic();
    return !this.writeBlocked;
  }

  sinkEnd(): void {
    if (this.bodySent || this.phase === Phase.Done) return;
    const declared = this.body!.length;
    if (declared !== undefined && this.bodyBytes !== declared) {
      this.fail("body", `the request body source ended after ${this.bodyBytes} of the ${declared} bytes it declared`);
      return;
    }
    if (declared === undefined) {
      if (!this.connection.write(latin1Bytes((this.chunksSent > 0 ? CHUNK_END : "") + LAST_CHUNK))) this.writeBlocked = true;
    }
    this.requestSent();
  }

  sinkAbort(reason: string): void {
    this.fail("body", `the request body failed: ${reason}`);
  }

  private pullBody(): void {
    if (this.pulling || this.bodySent || !this.body || this.phase === Phase.Done) return;
    this.pulling = true;
    try {
      this.body.pull(this.sink ??= new ExchangeSink(this));
    } catch (error) {
      this.fail("body", `the request body source threw: ${message(error)}`);
    } finally {
      this.pulling = false;
    }
  }

  private requestSent(): void {
    this.bodySent = true;
    if (this.phase === Phase.Sending) {
      this.phase = Phase.Head;
      this.deadline(this.options.headTimeoutMs, `no response head within ${this.options.headTimeoutMs} ms`);
    }
  }

  private onDrain(): void {
    this.writeBlocked = false;
    if (this.phase === Phase.Sending) {
      this.lastProgress = this.clock.monotonic();
      this.pullBody();
    }
  }

  private sendStalled(): string {
    return `the request body stalled for ${this.options.idleTimeoutMs} ms`;
  }

  private onData(chunk: Uint8Array): void {
    if (this.phase === Phase.Done) return;
    if (this.held) {
      this.fail("protocol", "the host delivered data while the connection was paused");
      return;
    }
    this.held = chunk;
    this.heldOffset = 0;
    this.lastProgress = this.clock.monotonic();
    this.pump();
  }

  private get blocked(): boolean {
    return this.phase === Phase.Waiting || this.consumerPaused;
  }

  // Works through the held chunk until it is used up, the body is paused, or
  // the exchange ends; then sees whether a close that came meanwhile ends it.
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.held && !this.blocked && this.phase !== Phase.Done) {
        if (this.heldOffset >= this.held.length) {
          this.held = undefined;
          break;
        }
        if (this.phase === Phase.Body) this.readBody();
        else this.readHead();
      }
    } finally {
      this.pumping = false;
    }
    if (this.held && this.heldOffset >= this.held.length) this.held = undefined;
    if (this.peerClosed && !this.held && !this.blocked) this.closed();
  }

  private readHead(): void {
    const reader = this.reader!;
    this.heldOffset = reader.feed(this.held!, this.heldOffset);
    if (reader.error) {
      const detail = reader.error.status === 400 ? reader.error.detail : `response head longer than ${this.options.maxHeadBytes} bytes`;
      this.fail("protocol", `malformed response: ${detail}`);
      return;
    }
    if (!reader.complete) return;
    const parsed = reader.parseResponse(this.options.maxHeaders);
    if ("detail" in parsed) {
      this.fail("protocol", `malformed response: ${parsed.detail}`);
      return;
    }
    if (parsed.status < 200) {
      if (parsed.status === 101) return this.fail("protocol", "the server switched protocols unasked");
      // 100 Continue and friends come before the real answer.
      if (++this.interim > MAX_INTERIM_RESPONSES) return this.fail("protocol", "too many interim responses");
      reader.reset();
      return;
    }
    const framing = this.framingOf(parsed);
    if (framing === undefined) return;
    this.framing = framing;
    // A server that answers before taking the whole body (a 413, say) gets no more of it.
    this.bodySent = true;
    this.reader = undefined;
    this.phase = Phase.Waiting;
    this.disarm();
    this.connection.pause();
    this.resolveHead(this.makeResponse(parsed));
  }

  // RFC 9112 6.3, for responses.
  private framingOf(head: ResponseHead): Framing | undefined {
    if (this.isHead || head.status === 204 || head.status === 304) return Framing.None;
    const coding = head.headers["transfer-encoding"];
    if (coding !== undefined) {
      if (coding.toLowerCase() !== "chunked") {
        this.fail("protocol", `unsupported transfer coding ${JSON.stringify(coding)}`);
        return undefined;
      }
      this.decoder = new ChunkedDecoder();
      return Framing.Chunked;
    }
    const length = head.headers["content-length"];
    if (length === undefined) return Framing.Close;
    const remaining = parseContentLength(length);
    if (remaining === undefined) {
      this.fail("protocol", `malformed Content-Length ${JSON.stringify(length)}`);
      return undefined;
    }
    this.remaining = remaining;
    return this.remaining === 0 ? Framing.None : Framing.Length;
  }

  private makeResponse(head: ResponseHead): HttpResponse {
    const contentLength = this.framing === Framing.Length ? this.remaining : this.framing === Framing.None && !this.isHead ? 0 : undefined;
    return new ExchangeResponse(this, head, contentLength);
  }

  // The response's methods (ExchangeResponse's, below).
  read(consumer: BodyConsumer): void {
    if (this.consumer) throw new Error("the response body is already being read");
    this.consumer = consumer;
    if (this.pendingError) {
      this.report(this.pendingError);
      return;
    }
    if (this.phase !== Phase.Waiting) return;
    this.phase = Phase.Body;
    if (this.framing === Framing.None) {
      this.complete();
      return;
    }
    this.carryOn();
  }

  pause(): void {
    if (this.phase === Phase.Done || this.consumerPaused) return;
    this.consumerPaused = true;
    this.connection.pause();
    if (this.phase === Phase.Body) this.disarm();
  }

  resume(): void {
    if (this.phase === Phase.Done || !this.consumerPaused) return;
    this.consumerPaused = false;
    if (this.phase === Phase.Body) this.clock.defer(() => this.guard(() => this.carryOn()));
  }

  // Resumed, from a fresh call stack: first what was held, then the connection.
  private carryOn(): void {
    if (this.phase !== Phase.Body || this.blocked) return;
    this.pump();
    if (this.phase !== Phase.Body || this.blocked) return;
    this.watchIdle(`the body stalled for ${this.options.idleTimeoutMs} ms`);
    this.connection.resume();
  }

  abort(): void {
    if (this.phase === Phase.Done) return;
    this.phase = Phase.Done;
    this.held = undefined;
    this.disarm();
    this.connection.destroy();
  }

  private readBody(): void {
    const chunk = this.held!;
    const start = this.heldOffset;
    if (this.framing === Framing.Chunked) {
      try {
        this.heldOffset = this.decoder!.feed(chunk, start, this);
      } catch (error) {
        if (!(error instanceof ChunkedError)) throw error;
        this.fail("protocol", `malformed chunked body: ${error.message}`);
        return;
      }
      if (this.decoder!.done && this.phase === Phase.Body) this.complete();
      return;
    }
    const n = this.framing === Framing.Length ? Math.min(this.remaining, chunk.length - start) : chunk.length - start;
    this.heldOffset = start + n;
    if (this.framing === Framing.Length) this.remaining -= n;
    this.deliver(chunk.subarray(start, start + n));
    if (this.framing === Framing.Length && this.remaining === 0 && this.phase === Phase.Body) this.complete();
  }

  // The chunked decoder's sink: a method, so no closure is made per chunk.
  piece(bytes: Uint8Array): boolean {
    this.deliver(bytes);
    return !this.blocked && this.phase === Phase.Body;
  }

  private deliver(bytes: Uint8Array): void {
    this.received += bytes.length;
    try {
      this.consumer!.data(bytes);
    } catch (error) {
      this.fail("body", `the body consumer threw: ${message(error)}`);
    }
  }

  private complete(): void {
    this.phase = Phase.Done;
    this.held = undefined;
    this.disarm();
    this.connection.destroy();
    try {
      this.consumer!.end();
    } catch {
      // The body is complete; what the consumer does with it is its own affair.
    }
  }

  private onClose(hadError: boolean): void {
    if (this.phase === Phase.Done) return;
    this.peerClosed = true;
    this.peerClosedWithError = hadError;
    if (!this.held && !this.blocked) this.closed();
  }

  // The peer has closed and everything it sent has been read.
  private closed(): void {
    switch (this.phase) {
      case Phase.Sending:
      case Phase.Head:
        this.fail("closed", this.reader?.started ? "the connection closed in the middle of the response head" : "the connection closed before a response arrived");
        return;
      case Phase.Body:
        if (this.framing === Framing.Close && !this.peerClosedWithError) this.complete();
        else if (this.framing === Framing.Length) this.fail("closed", `the connection closed after ${this.received} of ${this.received + this.remaining} body bytes`);
        else if (this.framing === Framing.Chunked) this.fail("closed", "the connection closed in the middle of a chunked body");
        else this.fail("closed", "the connection failed during the body");
        return;
    }
  }

  private arm(delayMs: number, onFire: () => void): void {
    this.disarm();
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      this.guard(onFire);
    }, delayMs);
  }

  // A total deadline: progress does not extend it (a server trickling its
  // head a byte at a time still meets it).
  private deadline(delayMs: number, why: string): void {
    this.arm(delayMs, () => this.fail("timeout", why));
  }

  // An idle watch: data moving (noted in lastProgress) keeps it from firing,
  // without a timer set per TCP chunk.
  private watchIdle(why: string): void {
    this.lastProgress = this.clock.monotonic();
    const check = () => {
      const quiet = this.clock.monotonic() - this.lastProgress;
      if (quiet >= this.options.idleTimeoutMs) this.fail("timeout", why);
      else this.arm(this.options.idleTimeoutMs - quiet, check);
    };
    this.arm(this.options.idleTimeoutMs, check);
  }

  private disarm(): void {
    if (this.timer === undefined) return;
    this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  private fail(kind: HttpClientErrorKind, why: string): void {
    if (this.phase === Phase.Done) return;
    const before = this.phase;
    this.phase = Phase.Done;
    this.held = undefined;
    this.disarm();
    this.connection.destroy();
    const error = new HttpClientError(kind, `${this.what}: ${why}`);
    if (before === Phase.Sending || before === Phase.Head) this.rejectHead(error);
    else if (this.consumer) this.report(error);
    else this.pendingError = error;
  }

  private report(error: HttpClientError): void {
    try {
      this.consumer!.error(error);
    } catch {
      // Nowhere left to report it.
    }
  }
}
