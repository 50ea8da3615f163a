import type { Random } from "../hal/random.js";
import { utf8Encode } from "../text/utf8.js";
import type { BodySink, BodySource } from "./body.js";

// The two form encodings the cloud service accepts. Both are built so their
// length is known before the first byte is sent (Content-Length, which every
// server takes), and multipart streams its file part from a source instead
// of holding a document in memory.

export type FormFields = Array<[string, string]> | Record<string, string>;

function entries(fields: FormFields): Array<[string, string]> {
  return Array.isArray(fields) ? fields : Object.keys(fields).map((name) => [name, fields[name]]);
}

// application/x-www-form-urlencoded, as the WHATWG URL standard serializes it:
// UTF-8, then every byte but ASCII alphanumerics and *-._ percent-encoded,
// with space as "+".
export function urlEncodeForm(fields: FormFields): string {
  let out = "";
  for (const [name, value] of entries(fields)) {
    if (out.length > 0) out += "&";
    out += urlEncodeComponent(name) + "=" + urlEncodeComponent(value);
  }
  return out;
}

const HEX = "0123456789ABCDEF";

export function urlEncodeComponent(text: string): string {
  const bytes = utf8Encode(text);
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    const alnum = (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122);
    if (alnum || b === 42 || b === 45 || b === 46 || b === 95) out += String.fromCharCode(b);
    else if (b === 32) out += "+";
    else out += "%" + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

export interface MultipartField {
  name: string;
  value: string;
}

export interface MultipartFile {
  name: string;
  filename: string;
  contentType: string;
  // The file's bytes, or a source that must declare its length.
  data: Uint8Array | BodySource;
}

export type MultipartPart = MultipartField | MultipartFile;

export interface MultipartOptions {
  // Where the boundary's randomness comes from; or give the boundary itself.
  random?: Random;
  boundary?: string;
}

export interface MultipartBody extends BodySource {
  readonly length: number;
  readonly boundary: string;
  // "multipart/form-data; boundary=...", for the Content-Type header.
  readonly contentType: string;
}

const BOUNDARY_RANDOM_BYTES = 18;

function makeBoundary(random: Random): string {
  const bytes = new Uint8Array(BOUNDARY_RANDOM_BYTES);
  random.fill(bytes);
  let text = "----PrivetFormBoundary";
  for (let i = 0; i < bytes.length; i++) text += HEX[bytes[i] >> 4] + HEX[bytes[i] & 15];
  return text;
}

// multipart/form-data (RFC 7578) as the HTML standard writes it: names and
// filenames quoted, with ", CR and LF percent-encoded. The boundary is random,
// so it is not searched for in the content.
export function multipartForm(parts: MultipartPart[], options: MultipartOptions): MultipartBody {
  const boundary = options.boundary ?? (options.random ? makeBoundary(options.random) : undefined);
  if (boundary === undefined) throw new Error("multipart: give a boundary or a random source");
  // RFC 2046 5.1.1: 1 to 70 characters from this set, not ending in a space. A
  // literal here, not a module constant (README, "Preloaded regular expressions").
  if (!/^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/.test(boundary)) throw new Error("multipart: malformed boundary");
  const pieces: Array<Uint8Array | BodySource> = [];
  let length = 0;
  const add = (piece: Uint8Array | BodySource) => {
    const n = piece.length;
    if (n === undefined) throw new Error("multipart: a file source must declare its length");
    length += n;
    pieces.push(piece);
  };
  for (const part of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${quote(part.name)}"`;
    if ("filename" in part) {
      if (/[\r\n]/.test(part.contentType)) throw new Error("multipart: malformed content type");
      head += `; filename="${quote(part.filename)}"\r\nContent-Type: ${part.contentType}\r\n\r\n`;
      add(utf8Encode(head));
      add(part.data);
      add(utf8Encode("\r\n"));
    } else {
      add(utf8Encode(`${head}\r\n\r\n${part.value}\r\n`));
    }
  }
  add(utf8Encode(`--${boundary}--\r\n`));
  return new MultipartSource(pieces, length, boundary);
}

function quote(text: string): string {
  return text.replace(/"/g, "%22").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

// Writes the pieces in order; a file source is pulled through a sink that
// checks it writes what it declared, then moves on to the next piece.
class MultipartSource implements MultipartBody {
  readonly contentType: string;
  private index = 0;
  private inner: BodySource | undefined;
  private innerBytes = 0;
  private sink: BodySink | undefined;
  private readonly innerSink: BodySink;

  constructor(private readonly pieces: Array<Uint8Array | BodySource>, readonly length: number, readonly boundary: string) {
    this.contentType = `multipart/form-data; boundary=${boundary}`;
    this.innerSink = {
      write: (bytes) => {
        this.innerBytes += bytes.length;
        if (this.innerBytes > this.inner!.length!) {
          this.sink!.abort(`a file source wrote more than the ${this.inner!.length} bytes it declared`);
          return false;
        }
        return this.sink!.write(bytes);
      },
      end: () => {
        const declared = this.inner!.length;
        if (this.innerBytes !== declared) {
          this.sink!.abort(`a file source ended after ${this.innerBytes} of the ${declared} bytes it declared`);
          return;
        }
        this.inner = undefined;
        this.index++;
        this.run();
      },
      abort: (reason) => this.sink!.abort(reason),
    };
  }

  pull(sink: BodySink): void {
    this.sink = sink;
    if (this.inner) this.inner.pull(this.innerSink);
    else this.run();
  }

  private run(): void {
    const sink = this.sink!;
    while (this.index < this.pieces.length) {
      const piece = this.pieces[this.index];
      if (!(piece instanceof Uint8Array)) {
        this.inner = piece;
        this.innerBytes = 0;
        // Its end() comes back here for the pieces after it.
        piece.pull(this.innerSink);
        return;
      }
      this.index++;
      if (piece.length > 0 && !sink.write(piece)) return;
    }
    if (this.index === this.pieces.length) {
      this.index++;
      sink.end();
    }
  }
}
