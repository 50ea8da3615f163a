import type { IncomingMessage } from "node:http";
import { boundaryFrom, MultipartError, parseMultipart, type Part } from "./multipart.js";

// One shape for the three ways clients send parameters (GET query, POST urlencoded,
// POST multipart): the reference shows every endpoint reached all three ways, and
// gcp20 even mixes them (printerid in the query of a urlencoded /update).

export interface DecodeLimits {
  maxBodyBytes: number;
  maxFieldBytes: number;
  maxFields: number;
  maxParts: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = {
  maxBodyBytes: 16 * 1024 * 1024,
  maxFieldBytes: 1024 * 1024,
  maxFields: 256,
  maxParts: 64,
};

// An HTTP status and a reason a person can act on.
export class RequestError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export interface FilePart { filename?: string; contentType?: string; data: Buffer }

export class Params {
  private readonly values = new Map<string, string[]>();
  private readonly files = new Map<string, FilePart>();

  add(name: string, value: string): void {
    const list = this.values.get(name);
    if (list) list.push(value);
    else this.values.set(name, [value]);
  }

  addFile(name: string, part: FilePart): void {
    if (!this.files.has(name)) this.files.set(name, part);
  }

  get(name: string): string | undefined {
    return this.values.get(name)?.[0];
  }

  all(name: string): string[] {
    return this.values.get(name) ?? [];
  }

  // A file part when one was sent (multipart with a filename); otherwise the field's text.
  file(name: string): FilePart | undefined {
    const part = this.files.get(name);
    if (part) return part;
    const text = this.get(name);
    return text === undefined ? undefined : { data: Buffer.from(text, "utf8") };
  }

  // What the answer's request.params echoes, as the real service did.
  echo(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [name, list] of this.values) out[name] = list.map((v) => (v.length > 200 ? `${v.slice(0, 200)}…` : v));
    return out;
  }

  get size(): number {
    return this.values.size;
  }
}

export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > maxBytes) {
    return Promise.reject(new RequestError(413, `the request body is larger than ${maxBytes} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let done = false;
    req.on("data", (chunk: Buffer) => {
      if (done) return;
      length += chunk.length;
      if (length > maxBytes) {
        done = true;
        chunks.length = 0;
        reject(new RequestError(413, `the request body is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => { if (!done) { done = true; resolve(Buffer.concat(chunks, length)); } });
    req.on("error", (error) => { if (!done) { done = true; reject(new RequestError(400, `the request body could not be read: ${error.message}`)); } });
  });
}

export function addUrlEncoded(params: Params, text: string, limits: DecodeLimits, where: string): void {
  if (text === "") return;
  const pairs = text.split("&");
  if (pairs.length > limits.maxFields) throw new RequestError(400, `more than ${limits.maxFields} parameters in the ${where}`);
  for (const pair of pairs) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq), where);
    const value = eq < 0 ? "" : decodeComponent(pair.slice(eq + 1), where);
    if (Buffer.byteLength(value) > limits.maxFieldBytes) throw new RequestError(400, `parameter '${name.slice(0, 64)}' is longer than ${limits.maxFieldBytes} bytes`);
    params.add(name, value);
  }
}

function decodeComponent(text: string, where: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    throw new RequestError(400, `bad percent-encoding in the ${where}`);
  }
}

// Query string plus body, in that order, so a parameter in the query is the first value.
export async function decodeRequest(req: IncomingMessage, query: string, limits: DecodeLimits): Promise<Params> {
  const params = new Params();
  addUrlEncoded(params, query, limits, "query string");
  if (req.method === "GET" || req.method === "HEAD") return params;
  const body = await readBody(req, limits.maxBodyBytes);
  if (body.length === 0) return params;
  const contentType = (req.headers["content-type"] ?? "").trim();
  const mediaType = contentType.split(";")[0].trim().toLowerCase();
  if (mediaType === "application/x-www-form-urlencoded") {
    // Percent-escapes carry UTF-8, but curl -d sends raw UTF-8 too; reading the body as UTF-8 serves both.
    addUrlEncoded(params, body.toString("utf8"), limits, "urlencoded body");
  } else if (mediaType === "multipart/form-data") {
    let parts: Part[];
    try {
      parts = parseMultipart(body, boundaryFrom(contentType), {
        maxParts: limits.maxParts, maxPartHeaderBytes: 8192, maxNameLength: 256, maxFilenameLength: 1024,
      });
    } catch (error) {
      if (error instanceof MultipartError) throw new RequestError(400, `bad multipart body: ${error.message}`);
      throw error;
    }
    for (const part of parts) {
      if (part.filename !== undefined) params.addFile(part.name, part);
      // Files are readable as text too (the samples send capabilities as a file part), when small.
      if (part.data.length <= limits.maxFieldBytes) params.add(part.name, part.data.toString("utf8"));
      else if (part.filename === undefined) throw new RequestError(400, `field '${part.name.slice(0, 64)}' is longer than ${limits.maxFieldBytes} bytes`);
    }
  } else {
    throw new RequestError(415, `a POST body must be application/x-www-form-urlencoded or multipart/form-data, not '${mediaType.slice(0, 100) || "(none)"}'`);
  }
  return params;
}
