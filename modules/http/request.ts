import type { Log } from "../hal/log.js";
import type { Connection } from "./connection.js";
import type { RequestHead } from "./head.js";

// A request as a handler sees it: the parsed head, and its body as a stream
// the handler starts, pauses and resumes (or, when it is small, collects
// whole with readSmallBody).

export interface BodyConsumer {
  data(chunk: Uint8Array): void;
  end(): void;
  // The body will not arrive whole: the peer went away, stalled or sent a
  // malformed body, or this consumer threw. Called at most once, after which
  // no other call follows.
  abort(reason: string): void;
}

export class HttpRequest {
  readonly method: string;
  readonly target: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly version: "1.0" | "1.1";
  readonly headers: Record<string, string>;
  // The Content-Length value; 0 when there is none, as with a chunked body.
  readonly contentLength: number;
  // The body comes in the chunked coding: its length is known only at its end.
  readonly chunked: boolean;
  readonly remoteAddress: string;
  consumer: BodyConsumer | undefined;
  paused = false;
  // A response went out for this request (set by the connection).
  answered = false;
  // Made by the first onClose: most requests never have a listener.
  private closeListeners: Array<() => void> | undefined;

  constructor(head: RequestHead, contentLength: number, chunked: boolean, remoteAddress: string, private readonly connection: Connection) {
    this.method = head.method;
    this.target = head.target;
    this.path = head.path;
    this.query = head.query;
    this.version = head.version;
    this.headers = head.headers;
    this.contentLength = contentLength;
    this.chunked = chunked;
    this.remoteAddress = remoteAddress;
  }

  // The body's length if the head says it (Content-Length, or 0 for a request
  // without a body); undefined for a chunked body. A getter: a field would be
  // one more slot in every request.
  get declaredLength(): number | undefined {
    return this.chunked ? undefined : this.contentLength;
  }

  // There is a body to read (or to leave for the server to discard).
  get hasBody(): boolean {
    return this.chunked || this.contentLength > 0;
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
    (this.closeListeners ??= []).push(listener);
  }

  notifyClose(log: Log): void {
    const listeners = this.closeListeners;
    if (!listeners) return;
    this.closeListeners = undefined;
    for (const listener of listeners) {
      try {
        listener();
      } catch (error) {
        log("error", `http: a close listener of ${this.method} ${this.path} threw: ${String(error)}`);
      }
    }
  }
}

// Collects a small body (a ticket, a form) into one buffer, refusing anything
// larger than limit: a Content-Length body before reading a byte of it, a
// chunked one as soon as it passes the limit. done gets undefined then.
export function readSmallBody(request: HttpRequest, limit: number, done: (body: Uint8Array | undefined) => void): void {
  if (!request.chunked) {
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
    return;
  }
  // The size is learnt as it comes: grow by doubling, never past the limit.
  let body = new Uint8Array(Math.min(limit, 1024));
  let filled = 0;
  let settled = false;
  request.readBody({
    data: (chunk) => {
      if (settled) return;
      if (filled + chunk.length > limit) {
        settled = true;
        return done(undefined);
      }
      if (filled + chunk.length > body.length) {
        const grown = new Uint8Array(Math.min(limit, Math.max(body.length * 2, filled + chunk.length)));
        grown.set(body.subarray(0, filled), 0);
        body = grown;
      }
      body.set(chunk, filled);
      filled += chunk.length;
    },
    end: () => {
      if (settled) return;
      settled = true;
      done(body.subarray(0, filled));
    },
    abort: () => {
      settled = true;
    },
  });
}
