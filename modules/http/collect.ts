import { utf8Decode } from "../text/utf8.js";
import { HttpClientError, type HttpClient, type HttpRequest, type HttpResponse } from "./client.js";

// The cloud service's answers are small JSON documents: collect one whole,
// within a byte limit, so a misbehaving server cannot fill the heap.

export interface TextResponse {
  status: number;
  reason: string;
  headers: Record<string, string>;
  text: string;
}

export const DEFAULT_MAX_TEXT_BYTES = 64 * 1024;

export function readBodyBytes(response: HttpResponse, maxBytes: number, what = "response"): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    if (response.contentLength !== undefined && response.contentLength > maxBytes) {
      response.abort();
      reject(new HttpClientError("body", `${what}: body of ${response.contentLength} bytes is over the limit of ${maxBytes}`));
      return;
    }
    // One buffer sized by the declared length, else grown by doubling up to the limit.
    let buffer = new Uint8Array(Math.min(maxBytes, response.contentLength ?? 1024));
    let length = 0;
    response.read({
      data(bytes) {
        if (length + bytes.length > maxBytes) {
          response.abort();
          reject(new HttpClientError("body", `${what}: body over the limit of ${maxBytes} bytes`));
          return;
        }
        if (length + bytes.length > buffer.length) {
          const bigger = new Uint8Array(Math.min(maxBytes, Math.max(buffer.length * 2, length + bytes.length)));
          bigger.set(buffer.subarray(0, length));
          buffer = bigger;
        }
        buffer.set(bytes, length);
        length += bytes.length;
      },
      end: () => resolve(buffer.subarray(0, length)),
      error: reject,
    });
  });
}

// Makes the request and collects the answer as text (UTF-8), whatever its status.
export async function requestText(client: HttpClient, request: HttpRequest, maxBytes = DEFAULT_MAX_TEXT_BYTES): Promise<TextResponse> {
  const response = await client.request(request);
  const bytes = await readBodyBytes(response, maxBytes, `${request.method} ${request.url}`);
  return { status: response.status, reason: response.reason, headers: response.headers, text: utf8Decode(bytes) };
}

// As requestText, then parses the body as JSON; a body that is not JSON is an error.
export async function requestJson(client: HttpClient, request: HttpRequest, maxBytes = DEFAULT_MAX_TEXT_BYTES): Promise<TextResponse & { json: unknown }> {
  const answer = await requestText(client, request, maxBytes);
  try {
    return { ...answer, json: JSON.parse(answer.text) };
  } catch {
    throw new HttpClientError("protocol", `${request.method} ${request.url}: HTTP ${answer.status} body is not JSON: ${JSON.stringify(answer.text.slice(0, 80))}`);
  }
}
