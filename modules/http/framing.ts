import type { HeadError, RequestHead } from "./head.js";

// Where a message's body ends (RFC 9112 6): the rules the server holds a
// request to, and the Content-Length syntax the client reads responses by.
// Decided once per message from its head, never per chunk.

export interface RequestFraming {
  // The Content-Length value; 0 when there is none, as with a chunked body.
  contentLength: number;
  chunked: boolean;
}

export function requestFraming(head: RequestHead): RequestFraming | HeadError {
  const codings = head.headers["transfer-encoding"];
  const lengthText = head.headers["content-length"];
  if (codings !== undefined) {
    // RFC 9112 6.1-6.3: a body framed two ways is the stuff of request
    // smuggling, and HTTP/1.0 has no transfer codings at all.
    if (lengthText !== undefined) return bad("both Transfer-Encoding and Content-Length; send one");
    if (head.version === "1.0") return bad("Transfer-Encoding in an HTTP/1.0 request");
    return checkCodings(codings) ?? { contentLength: 0, chunked: true };
  }
  if (lengthText === undefined) return { contentLength: 0, chunked: false };
  const contentLength = parseContentLength(lengthText);
  if (contentLength === undefined) return bad("malformed Content-Length");
  return { contentLength, chunked: false };
}

// Repeated fields arrive joined with commas; identical repeats are allowed
// (RFC 9110 8.6), anything else is ambiguous and undefined.
export function parseContentLength(value: string): number | undefined {
  const values = value.split(",").map((v) => v.trim());
  if (!values.every((v) => v === values[0]) || !/^\d{1,15}$/.test(values[0])) return undefined;
  return Number(values[0]);
}

// chunked must be the last coding, and once (RFC 9112 6.3, 7); any coding
// before it is one this server does not implement (6.1).
function checkCodings(value: string): HeadError | undefined {
  const codings = value.split(",").map((c) => c.trim().toLowerCase()).filter((c) => c.length > 0);
  if (codings.length === 0 || codings[codings.length - 1] !== "chunked") {
    return bad("chunked must be the final transfer coding");
  }
  if (codings.indexOf("chunked") < codings.length - 1) return bad("chunked applied more than once");
  if (codings.length > 1) return { status: 501, reason: "Not Implemented", detail: `the ${codings[0]} transfer coding is not supported` };
  return undefined;
}

function bad(detail: string): HeadError {
  return { status: 400, reason: "Bad Request", detail };
}
