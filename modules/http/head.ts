import { utf8Decode } from "../text/utf8.js";

// The request line and header section of HTTP/1.1 (RFC 9112 sections 2-5),
// collected into one fixed buffer and parsed only once it is complete, so a
// head split across any number of TCP chunks parses the same as one chunk.

const CR = 13, LF = 10;
const MAX_LEADING_BLANK_LINES = 8;

export interface RequestHead {
  method: string;
  target: string;
  path: string;
  query: Record<string, string>;
  version: "1.0" | "1.1";
  // Lower-case names; repeated fields joined with ", " (RFC 9110 5.3).
  headers: Record<string, string>;
}

export interface ResponseHead {
  version: "1.0" | "1.1";
  status: number;
  reason: string;
  // As in RequestHead.
  headers: Record<string, string>;
}

export interface HeadError {
  status: number;
  reason: string;
  detail: string;
}

const EMPTY = new Uint8Array(0);

// The buffer is taken when a head starts and given back at reset(), and it
// starts small and doubles up to maxBytes as the head needs: on the board a
// connection that is idle, reading a body or sending its answer then holds
// no head buffer (four 4 KB buffers were a sixth of the heap's chunks), and
// a head arriving when the heap is short asks for 512 bytes, not 4 KB.
const FIRST_BYTES = 512;

export class HeadReader {
  private buffer: Uint8Array = EMPTY;
  private length = 0;
  private lineStart = 0;
  private blankLines = 0;
  complete = false;
  error: HeadError | undefined;

  constructor(private readonly maxBytes: number) {}

  get started(): boolean {
    return this.length > 0;
  }

  reset(): void {
    this.buffer = EMPTY;
    this.length = 0;
    this.lineStart = 0;
    this.blankLines = 0;
    this.complete = false;
    this.error = undefined;
  }

  // Takes bytes from chunk[offset...] until the head ends; returns the offset
  // after the last byte it took.
  feed(chunk: Uint8Array, offset: number): number {
    let buffer = this.buffer;
    let i = offset;
    while (i < chunk.length) {
      if (this.length === buffer.length) {
        if (buffer.length >= this.maxBytes) {
          this.error = this.lineStart === 0
            ? { status: 414, reason: "URI Too Long", detail: `request line longer than ${this.maxBytes} bytes` }
            : { status: 431, reason: "Request Header Fields Too Large", detail: `header section longer than ${this.maxBytes} bytes` };
          return i;
        }
        buffer = this.grow();
      }
      const b = chunk[i++];
      buffer[this.length++] = b;
      if (b !== LF) continue;
      const lineLength = this.length - 1 - this.lineStart;
      const blank = lineLength === 0 || (lineLength === 1 && buffer[this.length - 2] === CR);
      if (!blank) {
        this.lineStart = this.length;
        continue;
      }
      if (this.lineStart === 0) {
        // RFC 9112 2.2: ignore empty lines before the request line, within reason.
        this.length = 0;
        if (++this.blankLines > MAX_LEADING_BLANK_LINES) {
          this.error = { status: 400, reason: "Bad Request", detail: "too many empty lines before the request line" };
          return i;
        }
        continue;
      }
      this.complete = true;
      return i;
    }
    return i;
  }

  // Once parsed, the bytes are not needed while the request is served.
  release(): void {
    this.buffer = EMPTY;
    this.length = 0;
  }

  private grow(): Uint8Array {
    const bigger = new Uint8Array(Math.min(this.maxBytes, Math.max(FIRST_BYTES, this.buffer.length * 2)));
    bigger.set(this.buffer.subarray(0, this.length));
    this.buffer = bigger;
    return bigger;
  }

  parse(maxHeaders: number): RequestHead | HeadError {
    const lines = splitLines(this.buffer, this.length);
    const requestLine = lines[0];
    const parts = requestLine.split(" ");
    if (parts.length !== 3) return bad("malformed request line");
    const [method, target, versionText] = parts;
    if (!isToken(method)) return bad("malformed method");
    let version: "1.0" | "1.1";
    if (versionText === "HTTP/1.1") version = "1.1";
    else if (versionText === "HTTP/1.0") version = "1.0";
    else if (/^HTTP\/\d\.\d$/.test(versionText)) return { status: 505, reason: "HTTP Version Not Supported", detail: `${versionText} is not supported` };
    else return bad("malformed HTTP version");
    const path = originPath(target);
    if (path === undefined) return bad("malformed request target");
    const headers: Record<string, string> = Object.create(null);
    const fieldError = parseFields(lines, maxHeaders, headers);
    if (fieldError) return fieldError;
    const question = path.indexOf("?");
    return {
      method,
      target,
      path: question < 0 ? path : path.slice(0, question),
      query: question < 0 ? Object.create(null) : parseQuery(path.slice(question + 1)),
      version,
      headers,
    };
  }

  // The client's side: a status line instead of a request line, the same
  // header fields. The bound errors feed() reports are worded for requests;
  // the client words its own from them.
  parseResponse(maxHeaders: number): ResponseHead | HeadError {
    const lines = splitLines(this.buffer, this.length);
    const match = /^HTTP\/(\d)\.(\d) (\d{3})(?: (.*))?$/.exec(lines[0]);
    if (!match) return bad("malformed status line");
    const version = `${match[1]}.${match[2]}`;
    if (version !== "1.1" && version !== "1.0") return { status: 505, reason: "HTTP Version Not Supported", detail: `HTTP/${version} is not supported` };
    const status = Number(match[3]);
    if (status < 100) return bad("malformed status code");
    const reason = match[4] ?? "";
    if (!isFieldValue(reason)) return bad("control character in the reason phrase");
    const headers: Record<string, string> = Object.create(null);
    const fieldError = parseFields(lines, maxHeaders, headers);
    if (fieldError) return fieldError;
    return { version, status, reason, headers };
  }
}

// Header fields after the first line, for requests and responses alike.
function parseFields(lines: string[], maxHeaders: number, headers: Record<string, string>): HeadError | undefined {
  if (lines.length - 1 > maxHeaders) {
    return { status: 431, reason: "Request Header Fields Too Large", detail: `more than ${maxHeaders} header fields` };
  }
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n];
    const colon = line.indexOf(":");
    if (colon <= 0) return bad(line.charCodeAt(0) === 32 || line.charCodeAt(0) === 9 ? "obsolete line folding" : "malformed header field");
    const name = line.slice(0, colon);
    if (!isToken(name)) return bad("malformed header field name");
    const value = trimOws(line.slice(colon + 1));
    if (!isFieldValue(value)) return bad("control character in a header field value");
    const key = name.toLowerCase();
    const previous = headers[key];
    headers[key] = previous === undefined ? value : previous + ", " + value;
  }
  return undefined;
}

function bad(detail: string): HeadError {
  return { status: 400, reason: "Bad Request", detail };
}

function splitLines(buffer: Uint8Array, length: number): string[] {
  const lines: string[] = [];
  let start = 0;
  for (let i = 0; i < length; i++) {
    if (buffer[i] !== LF) continue;
    const end = i > start && buffer[i - 1] === CR ? i - 1 : i;
    if (end > start) lines.push(latin1(buffer, start, end));
    start = i + 1;
  }
  return lines;
}

// Header bytes are octets (RFC 9110 5.5); keeping them one char per byte lets
// the validators below see every byte, including stray CRs and NULs.
function latin1(bytes: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

const TOKEN_EXTRA = "!#$%&'*+-.^_`|~";

function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (!alnum && TOKEN_EXTRA.indexOf(text[i]) < 0) return false;
  }
  return true;
}

function isFieldValue(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) return false;
  }
  return true;
}

function trimOws(text: string): string {
  let start = 0, end = text.length;
  while (start < end && (text.charCodeAt(start) === 32 || text.charCodeAt(start) === 9)) start++;
  while (end > start && (text.charCodeAt(end - 1) === 32 || text.charCodeAt(end - 1) === 9)) end--;
  return text.slice(start, end);
}

// Origin form ("/privet/info?x=1"), or absolute form reduced to its path.
function originPath(target: string): string | undefined {
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c <= 32 || c >= 127) return undefined;
  }
  if (target.charCodeAt(0) === 47) return target;
  const scheme = /^https?:\/\/[^/?#]+/i.exec(target);
  if (!scheme) return undefined;
  const rest = target.slice(scheme[0].length);
  return rest.length === 0 ? "/" : rest.charCodeAt(0) === 47 ? rest : rest.charCodeAt(0) === 63 ? "/" + rest : undefined;
}

export function parseQuery(text: string): Record<string, string> {
  const query: Record<string, string> = Object.create(null);
  if (text.length === 0) return query;
  for (const pair of text.split("&")) {
    if (pair.length === 0) continue;
    const eq = pair.indexOf("=");
    const name = percentDecode(eq < 0 ? pair : pair.slice(0, eq));
    // The first occurrence wins; Privet parameters are never repeated.
    if (!(name in query)) query[name] = percentDecode(eq < 0 ? "" : pair.slice(eq + 1));
  }
  return query;
}

// application/x-www-form-urlencoded decoding; a malformed escape stays as written.
function percentDecode(text: string): string {
  if (text.indexOf("%") < 0 && text.indexOf("+") < 0) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 43) { bytes.push(32); continue; }
    if (c === 37 && i + 2 < text.length && isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
      continue;
    }
    bytes.push(c);
  }
  return utf8Decode(Uint8Array.from(bytes));
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

