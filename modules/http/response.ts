import { utf8Encode } from "../text/utf8.js";
import type { BodyStream, Connection, DrainListener } from "./connection.js";
import type { HttpRequest } from "./request.js";

// A response as a handler sends it, and the bytes of a whole response with a
// Content-Length (the server's answers are small: JSON, a page, an error).

export interface ResponseOptions {
  contentType?: string;
  reason?: string;
  headers?: Array<[string, string]>;
}

const REASONS: Record<number, string> = {
  200: "OK", 302: "Found", 303: "See Other", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout",
  411: "Length Required", 413: "Content Too Large", 414: "URI Too Long", 431: "Request Header Fields Too Large",
  500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable", 505: "HTTP Version Not Supported",
};

// Shared rather than made per response, where a handler gives none.
const NO_OPTIONS: ResponseOptions = {};
const NO_HEADERS: Array<[string, string]> = [];
const JSON_OPTIONS: ResponseOptions = { contentType: "application/json" };

export class HttpResponse {
  private done = false;

  constructor(private readonly connection: Connection, private readonly request: HttpRequest) {}

  get sent(): boolean {
    return this.done;
  }

  send(status: number, body: string | Uint8Array = "", options: ResponseOptions = NO_OPTIONS): void {
    if (this.done) throw new Error("http: response already sent");
    this.done = true;
    const bytes = typeof body === "string" ? utf8Encode(body) : body;
    this.connection.respond(this.request, status, options.reason ?? REASONS[status] ?? "Unknown",
      options.contentType ?? "text/plain; charset=utf-8", bytes, options.headers ?? NO_HEADERS);
  }

  // A response written in pieces whose length is not known up front (a page
  // rendered section by section); undefined if one was already sent.
  stream(status: number, options: ResponseOptions = NO_OPTIONS): ResponseWriter | undefined {
    if (this.done) throw new Error("http: response already sent");
    this.done = true;
    const stream = this.connection.respondStream(this.request, status, options.reason ?? REASONS[status] ?? "Unknown",
      options.contentType ?? "text/plain; charset=utf-8", options.headers ?? NO_HEADERS);
    return stream && new ResponseWriter(stream);
  }

  json(value: unknown, status = 200): void {
    this.send(status, JSON.stringify(value), JSON_OPTIONS);
  }
}

// Text gathered into one buffer and sent as a chunk whenever it fills, so
// many small pieces make few writes and the whole body is never in memory.
export class ResponseWriter implements DrainListener {
  private readonly buffer: Uint8Array;
  private length = 0;
  private wants = true;
  private listener: DrainListener | undefined;

  constructor(private readonly stream: BodyStream, bufferBytes = 1024) {
    this.buffer = new Uint8Array(bufferBytes);
  }

  // Still connected: a writer that finds it closed stops rendering.
  get open(): boolean {
    return this.stream.open;
  }

  // Whether the socket has room for more now; if not, wait for onDrain.
  get ready(): boolean {
    return this.wants && this.stream.open;
  }

  // An object told through its method, not a function: the page that waits
  // passes itself, so no closure is made for each page served.
  onDrain(listener: DrainListener): void {
    this.listener = listener;
    this.stream.listener = this;
  }

  drained(): void {
    this.wants = true;
    this.listener?.drained();
  }

  write(text: string): void {
    const bytes = utf8Encode(text);
    let at = 0;
    while (at < bytes.length) {
      const n = Math.min(bytes.length - at, this.buffer.length - this.length);
      this.buffer.set(bytes.subarray(at, at + n), this.length);
      this.length += n;
      at += n;
      if (this.length === this.buffer.length) this.flush();
    }
  }

  flush(): void {
    if (this.length === 0) return;
    // The stream frames (copies) what it is given, so the buffer is reused.
    if (!this.stream.write(this.buffer.subarray(0, this.length))) this.wants = false;
    this.length = 0;
  }

  end(): void {
    this.flush();
    this.stream.end();
  }

  abort(): void {
    this.length = 0;
    this.stream.abort();
  }
}

export function encodeResponse(status: number, reason: string, contentType: string, body: Uint8Array,
  headers: Array<[string, string]>, keepAlive: boolean, http10 = false): Uint8Array {
  const headBytes = encodeResponseHead(status, reason, contentType, body.length, headers, keepAlive, http10);
  const out = new Uint8Array(headBytes.length + body.length);
  out.set(headBytes, 0);
  out.set(body, headBytes.length);
  return out;
}

// The status line and headers alone: a large body is written after it as it
// is, rather than copied beside the head into one more buffer.
export function encodeResponseHead(status: number, reason: string, contentType: string, bodyLength: number,
  headers: Array<[string, string]>, keepAlive: boolean, http10 = false): Uint8Array {
  let head = `HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${contentType}\r\nContent-Length: ${bodyLength}\r\n`;
  // An HTTP/1.0 client closes unless told the connection stays.
  if (!keepAlive) head += "Connection: close\r\n";
  else if (http10) head += "Connection: keep-alive\r\n";
  head += "Cache-Control: no-cache\r\n";
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
  head += "\r\n";
  return utf8Encode(head);
}
