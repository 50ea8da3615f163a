import { utf8Encode } from "../text/utf8.js";
import type { Connection } from "./connection.js";
import type { HttpRequest } from "./request.js";

// A response as a handler sends it, and the bytes of a whole response with a
// Content-Length (the server's answers are small: JSON, a page, an error).

export interface ResponseOptions {
  contentType?: string;
  reason?: string;
  headers?: Array<[string, string]>;
}

const REASONS: Record<number, string> = {
  200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout",
  411: "Length Required", 413: "Content Too Large", 414: "URI Too Long", 431: "Request Header Fields Too Large",
  500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable", 505: "HTTP Version Not Supported",
};

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
