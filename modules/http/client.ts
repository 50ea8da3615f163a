import type { Clock } from "../hal/clock.js";
import type { Log } from "../hal/log.js";
import type { Resolver } from "../hal/resolver.js";
import type { Tcp, TcpConnection } from "../hal/tcp.js";
import type { Tls } from "../hal/tls.js";
import { utf8Encode } from "../text/utf8.js";
import { bytesSource, type BodySource } from "./body.js";
import { Exchange, HttpClientError, message, type HttpResponse } from "./client-exchange.js";
import { isLoopback, parseHttpUrl, type HttpUrl } from "./url.js";

// An HTTP/1.1 client over the HAL's outbound TCP and TLS, for the cloud
// service and anything else the device calls. One connection per request
// ("Connection: close"): the device makes a request every few seconds at
// most, and a connection that cannot be reused cannot be reused wrongly.
// The response body is a stream whose pause() pauses the TCP connection, so
// a slow consumer (the print engine) closes the TCP window and nothing is
// collected whole. Failures are HttpClientErrors handed to the caller (a
// rejected promise before the head, the consumer's error() after it), never
// exceptions thrown into a socket callback.
//
// This file checks a request and opens its connection (resolve, connect,
// TLS); client-exchange.ts carries the request and its response over it.
export { HttpClientError, type BodyConsumer, type HttpClientErrorKind, type HttpResponse } from "./client-exchange.js";

export interface HttpClientHal {
  tcp: Tcp;
  resolver: Resolver;
  tls?: Tls;
  clock: Clock;
  log: Log;
}

export interface HttpClientOptions {
  resolveTimeoutMs: number;
  connectTimeoutMs: number;
  tlsTimeoutMs: number;
  // From the last request byte written to the end of the response head.
  headTimeoutMs: number;
  // Longest silence while the request body is sent or the response body
  // read (time the consumer holds the body paused does not count).
  idleTimeoutMs: number;
  // Status line and header section together.
  maxHeadBytes: number;
  maxHeaders: number;
  // Plain-text http:// to a host that is not loopback (the device talks to
  // the real service over TLS only; the emulator on a LAN is the exception).
  allowPlainText: boolean;
  // PEM certificates the server's chain must lead to; the host's defaults when absent.
  trustAnchors?: string[];
  // Test only: also trust this one self-signed PEM certificate.
  trustSelfSigned?: string;
}

export const defaultHttpClientOptions: HttpClientOptions = {
  resolveTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
  tlsTimeoutMs: 15_000,
  headTimeoutMs: 30_000,
  idleTimeoutMs: 30_000,
  maxHeadBytes: 8192,
  maxHeaders: 64,
  allowPlainText: false,
};

export interface HttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  // Bytes and strings (UTF-8) are sent with Content-Length, as is a source
  // that declares its length; any other source is sent chunked.
  body?: Uint8Array | string | BodySource;
}

const FORBIDDEN_HEADERS = ["content-length", "transfer-encoding", "connection"];

export class HttpClient {
  readonly options: HttpClientOptions;

  constructor(private readonly hal: HttpClientHal, options: Partial<HttpClientOptions> = {}) {
    this.options = { ...defaultHttpClientOptions, ...options };
  }

  // Resolves with the response once its head has arrived (a 3xx included:
  // redirects are the caller's to follow, with its own rules).
  async request(request: HttpRequest): Promise<HttpResponse> {
    const what = `${request.method} ${request.url}`;
    const url = parseHttpUrl(request.url);
    if (typeof url === "string") throw new HttpClientError("request", `${what}: ${url}`);
    const head = requestHead(request, url);
    if ("error" in head) throw new HttpClientError("request", `${what}: ${head.error}`);
    const body = typeof request.body === "string" ? bytesSource(utf8Encode(request.body))
      : request.body instanceof Uint8Array ? bytesSource(request.body) : request.body;
    if (body && body.length !== undefined && !(Number.isSafeInteger(body.length) && body.length >= 0)) {
      throw new HttpClientError("request", `${what}: the body source declares a length of ${body.length}`);
    }
    const tls = this.hal.tls;
    if (url.secure && !tls) throw new HttpClientError("policy", `${what}: this host has no TLS`);

    let addresses: string[];
    try {
      addresses = await this.hal.resolver.resolve(url.host, this.options.resolveTimeoutMs);
    } catch (error) {
      throw new HttpClientError("resolve", `${what}: ${message(error)}`);
    }
    if (addresses.length === 0) throw new HttpClientError("resolve", `${what}: ${url.host} has no address`);
    if (!url.secure && !this.options.allowPlainText && !addresses.every(isLoopback)) {
      throw new HttpClientError("policy", `${what}: plain-text HTTP to ${url.host} is not allowed (use https)`);
    }

    let connection: TcpConnection | undefined;
    let lastError = "";
    for (const address of addresses) {
      try {
        connection = await this.hal.tcp.connect({ address, port: url.port, timeoutMs: this.options.connectTimeoutMs });
        break;
      } catch (error) {
        lastError = message(error);
      }
    }
    if (!connection) throw new HttpClientError("connect", `${what}: ${lastError}`);
    if (url.secure) {
      try {
        connection = await tls!.wrap(connection, {
          serverName: url.host,
          trustAnchors: this.options.trustAnchors,
          trustSelfSigned: this.options.trustSelfSigned,
          timeoutMs: this.options.tlsTimeoutMs,
        });
      } catch (error) {
        throw new HttpClientError("tls", `${what}: ${message(error)}`);
      }
    }
    this.hal.log("debug", `http client: ${what}`);
    return new Exchange(connection, this.hal.clock, this.options, what, request.method.toUpperCase() === "HEAD", head.text, body).start();
  }
}

// The request line and header section but its framing fields, or why they cannot be sent.
function requestHead(request: HttpRequest, url: HttpUrl): { text: string } | { error: string } {
  if (!isToken(request.method)) return { error: "malformed method" };
  let head = `${request.method} ${url.target} HTTP/1.1\r\n`;
  const given = request.headers ?? {};
  let host = url.authority;
  let fields = "";
  for (const name of Object.keys(given)) {
    const value = given[name];
    if (!isToken(name)) return { error: `malformed header name ${JSON.stringify(name)}` };
    if (typeof value !== "string" || !isFieldValue(value)) return { error: `header ${name} has a character that cannot be sent` };
    const key = name.toLowerCase();
    if (FORBIDDEN_HEADERS.indexOf(key) >= 0) return { error: `header ${name} is the client's to set` };
    if (key === "host") host = value;
    else fields += `${name}: ${value}\r\n`;
  }
  head += `Host: ${host}\r\n${fields}Connection: close\r\n`;
  return { text: head };
}

function isToken(text: string): boolean {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(text);
}

// Visible ASCII, space and tab: nothing that could end a line early.
function isFieldValue(text: string): boolean {
  return /^[\t\x20-\x7e]*$/.test(text);
}
