// multipart/form-data (RFC 7578 over RFC 2046) for the emulator. The whole body is
// already in memory and bounded by the caller, so this is a single bounded pass over
// one buffer: every limit below is about what one hostile request can make us keep.

export interface MultipartLimits {
  maxParts: number;
  maxPartHeaderBytes: number;
  maxNameLength: number;
  maxFilenameLength: number;
}

export interface Part {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

export class MultipartError extends Error {}

const CRLF = Buffer.from("\r\n");
const HEADER_END = Buffer.from("\r\n\r\n");

// RFC 2046 5.1.1: 1 to 70 characters from a small set; a quoted value may hold spaces.
export function boundaryFrom(contentType: string): string {
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))\s*(?:;|$)/i.exec(contentType);
  const boundary = match ? (match[1] ?? match[2]) : undefined;
  if (!boundary) throw new MultipartError("multipart/form-data needs a boundary of 1 to 70 characters");
  if (!/^[0-9A-Za-z'()+_,\-./:=? ]+$/.test(boundary) || boundary.endsWith(" ")) {
    throw new MultipartError("the multipart boundary has characters RFC 2046 does not allow");
  }
  return boundary;
}

export function parseMultipart(body: Buffer, boundary: string, limits: MultipartLimits): Part[] {
  const delimiter = Buffer.from(`--${boundary}`);
  // Every delimiter after the first is preceded by CRLF, which belongs to it and not to the part.
  const inner = Buffer.from(`\r\n--${boundary}`);
  const parts: Part[] = [];

  // A preamble before the first delimiter is allowed and ignored.
  let at: number;
  if (body.subarray(0, delimiter.length).equals(delimiter)) at = delimiter.length;
  else {
    const first = body.indexOf(inner);
    if (first < 0) throw new MultipartError("the body has no multipart boundary line");
    at = first + inner.length;
  }

  for (;;) {
    if (body[at] === 0x2d && body[at + 1] === 0x2d) return parts; // "--": the close delimiter; the epilogue is ignored
    // Transport padding (spaces and tabs) may follow a delimiter before its CRLF.
    while (body[at] === 0x20 || body[at] === 0x09) at++;
    if (!body.subarray(at, at + 2).equals(CRLF)) throw new MultipartError("a multipart boundary line does not end with CRLF");
    at += 2;
    if (parts.length === limits.maxParts) throw new MultipartError(`more than ${limits.maxParts} multipart parts`);

    // Look for the blank line only as far as headers may reach, so a hostile body costs one pass, not one per part.
    const window = body.subarray(at, at + limits.maxPartHeaderBytes + HEADER_END.length);
    const found = window.indexOf(HEADER_END);
    const headerEnd = found < 0 ? -1 : at + found;
    // A part with no headers at all starts with the blank line straight away.
    const emptyHeaders = body.subarray(at, at + 2).equals(CRLF);
    const headersStop = emptyHeaders ? at : headerEnd;
    if (headersStop < 0 || headersStop - at > limits.maxPartHeaderBytes) {
      throw new MultipartError(headersStop < 0 && window.length < limits.maxPartHeaderBytes ? "a multipart part's headers never end" : `a multipart part's headers exceed ${limits.maxPartHeaderBytes} bytes`);
    }
    const headerText = body.subarray(at, headersStop).toString("latin1");
    const contentStart = emptyHeaders ? at + 2 : headerEnd + 4;
    const contentEnd = body.indexOf(inner, emptyHeaders ? at : headerEnd + 2);
    if (contentEnd < 0) throw new MultipartError("the multipart body ends before its closing boundary");
    parts.push(partFrom(headerText, body.subarray(contentStart, Math.max(contentStart, contentEnd)), limits));
    at = contentEnd + inner.length;
  }
}

function partFrom(headerText: string, data: Buffer, limits: MultipartLimits): Part {
  let disposition: string | undefined;
  let contentType: string | undefined;
  for (const line of headerText.split("\r\n")) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    if (colon <= 0) throw new MultipartError("a multipart part header has no name");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "content-disposition") disposition = value;
    else if (name === "content-type") contentType = value;
  }
  if (!disposition || !/^form-data\s*(;|$)/i.test(disposition)) {
    throw new MultipartError("every multipart part needs Content-Disposition: form-data");
  }
  const name = dispositionParameter(disposition, "name");
  if (name === undefined || name === "") throw new MultipartError("a multipart part has no name");
  if (name.length > limits.maxNameLength) throw new MultipartError(`a multipart part name exceeds ${limits.maxNameLength} characters`);
  const filename = dispositionParameter(disposition, "filename");
  if (filename !== undefined && filename.length > limits.maxFilenameLength) {
    throw new MultipartError(`a multipart filename exceeds ${limits.maxFilenameLength} characters`);
  }
  // Browsers and Python send names as raw UTF-8 inside the quotes; the head was read as latin1.
  const utf8 = (s: string) => Buffer.from(s, "latin1").toString("utf8");
  return { name: utf8(name), filename: filename === undefined ? undefined : utf8(filename), contentType, data };
}

// name="x" or name=x; the quoted form may escape a quote with a backslash.
function dispositionParameter(disposition: string, key: string): string | undefined {
  const pattern = new RegExp(`;\\s*${key}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]*))`, "i");
  const match = pattern.exec(disposition);
  if (!match) return undefined;
  return match[1] !== undefined ? match[1].replace(/\\(.)/g, "$1") : match[2];
}
