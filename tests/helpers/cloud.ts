import { mkdtempSync } from "node:fs";
import * as net from "node:net";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
// Through the embedding entry point, as the printer simulator will import it.
import { EMULATOR_USER_GRANT, startCloudService, type CloudService, type CloudServiceConfig } from "../../tools/cloud/index.js";

export type Encoding = "get" | "form" | "multipart";
export const ENCODINGS: Encoding[] = ["get", "form", "multipart"];

export interface TestCloud {
  service: CloudService;
  stateDir: string;
  // The emulator's clock: tests move it instead of waiting for tokens to expire.
  clock: { now: number };
  pushes: Array<{ printerId: string; payload: string }>;
}

export async function startTestCloud(config: Partial<CloudServiceConfig> = {}): Promise<TestCloud> {
  const stateDir = config.stateDir ?? mkdtempSync(path.join(tmpdir(), "cloud-test-"));
  const clock = { now: Date.now() };
  const pushes: TestCloud["pushes"] = [];
  const service = await startCloudService({
    host: "127.0.0.1", port: 0, now: () => clock.now, onNotify: (printerId, payload) => pushes.push({ printerId, payload }),
    ...config, stateDir,
  });
  return { service, stateDir, clock, pushes };
}

export interface FilePart { name: string; filename: string; contentType: string; data: Buffer | string }

// Our own multipart writer, as a device would build it, CRLF lines and a random boundary.
export function multipartBody(fields: Array<[string, string]>, files: FilePart[] = []): { body: Buffer; contentType: string } {
  const boundary = `----cloudtest${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const [name, value] of fields) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  for (const file of files) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${file.name}"; filename="${file.filename}"\r\nContent-Type: ${file.contentType}\r\n\r\n`));
    chunks.push(Buffer.isBuffer(file.data) ? file.data : Buffer.from(file.data));
    chunks.push(Buffer.from("\r\n"));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

export interface CallOptions {
  encoding?: Encoding;
  // A whole Authorization header value, or a token sent as Bearer.
  token?: string;
  authorization?: string;
  proxyHeader?: string | null;
  files?: FilePart[];
  headers?: Record<string, string>;
}

export interface CallResult { status: number; json: any; text: string; headers: Headers }

export async function call(service: CloudService, iface: string, params: Record<string, string | string[]> = {}, options: CallOptions = {}): Promise<CallResult> {
  const encoding = options.encoding ?? "form";
  const headers: Record<string, string> = { ...options.headers };
  if (options.proxyHeader !== null) headers["X-CloudPrint-Proxy"] = options.proxyHeader ?? "cloud-test";
  if (options.authorization) headers.Authorization = options.authorization;
  else if (options.token) headers.Authorization = `Bearer ${options.token}`;
  const pairs: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(params)) for (const v of Array.isArray(value) ? value : [value]) pairs.push([name, v]);
  let url = iface.startsWith("http") ? iface : `${service.baseUrl}/${iface}`;
  // A URL the service gave a device on its HTTPS listener (a claim link): the
  // test plays the person's browser, which reaches the same service in plain text.
  const secureBase = service.httpsBaseUrl;
  if (secureBase && url.startsWith(secureBase)) url = service.baseUrl + url.slice(secureBase.length);
  let body: Buffer | string | undefined;
  if (encoding === "get") {
    if (pairs.length) url += (url.includes("?") ? "&" : "?") + new URLSearchParams(pairs).toString();
  } else if (encoding === "form") {
    body = new URLSearchParams(pairs).toString();
    headers["Content-Type"] = "application/x-www-form-urlencoded";
  } else {
    const encoded = multipartBody(pairs, options.files);
    body = encoded.body;
    headers["Content-Type"] = encoded.contentType;
  }
  let response: Response;
  try {
    response = await fetch(url, { method: encoding === "get" ? "GET" : "POST", headers, body, signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    // fetch's own "fetch failed" says nothing; the cause (refused, reset, closed) is what a flake needs.
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`${encoding === "get" ? "GET" : "POST"} ${url.split("?")[0]}: ${(error as Error).message}${cause ? ` (${cause.code ?? ""} ${cause.message ?? ""})` : ""}`);
  }
  const text = await response.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: response.status, json, text, headers: response.headers };
}

export async function tokenRequest(service: CloudService, params: Record<string, string>, encoding: Encoding = "form"): Promise<CallResult> {
  return call(service, service.tokenUrl, params, { encoding, proxyHeader: null });
}

export async function userToken(service: CloudService, email: string): Promise<string> {
  const answer = await tokenRequest(service, { grant_type: EMULATOR_USER_GRANT, email });
  if (answer.status !== 200) throw new Error(`user grant failed: ${answer.text}`);
  return answer.json.access_token;
}

export const CURRENT_SETTINGS = {
  local_discovery: true, access_token_enabled: true, "printer/local_printing_enabled": true,
  "printer/conversion_printing_enabled": true, xmpp_timeout_value: 300,
};

export function registerParams(name: string): Record<string, string> {
  return {
    name, proxy: "cloud-test-proxy", uuid: "8c5f3e0e-1111-2222-3333-444455556666", manufacturer: "Example", model: "ESP32 thermal",
    gcp_version: "2.0", firmware: "0.1.0", use_cdd: "true",
    capabilities: JSON.stringify({ version: "1.0", printer: { supported_content_type: [{ content_type: "image/pwg-raster" }] } }),
    local_settings: JSON.stringify({ current: CURRENT_SETTINGS }),
  };
}

export interface Registered { printerId: string; email: string; user: string; access: string; refresh: string; register: any; poll: any }

// The device's whole path, short of the browser: register, claim with the user's token, poll, exchange.
export async function registerAndClaim(cloud: TestCloud, name = "Test printer", email = "owner@example.com"): Promise<Registered> {
  const { service } = cloud;
  const register = (await call(service, "register", registerParams(name), { encoding: "multipart" })).json;
  const printerId = register.printers[0].id;
  const user = await userToken(service, email);
  const confirmed = await call(service, register.automated_invite_url, {}, { encoding: "get", token: user });
  if (!confirmed.json?.success) throw new Error(`confirm failed: ${confirmed.text}`);
  const poll = (await call(service, `${register.polling_url}test-client`, {}, { encoding: "get" })).json;
  const tokens = await tokenRequest(service, { grant_type: "authorization_code", code: poll.authorization_code, client_id: "test-client", client_secret: "s", redirect_uri: "oob" });
  if (tokens.status !== 200) throw new Error(`code exchange failed: ${tokens.text}`);
  return { printerId, email, user, access: tokens.json.access_token, refresh: tokens.json.refresh_token, register, poll };
}

// A relay on a port the test holds for its whole length, in front of
// whichever server is up. While none is, a connection is dropped at once,
// as a closed port refuses it: the printer sees the service gone. cut()
// drops the connections under way and keeps relaying new ones.
export interface Relay { port: number; to(port: number | undefined): void; cut(): void; close(): Promise<void> }

export async function startRelay(): Promise<Relay> {
  let target: number | undefined;
  const open = new Set<Socket>();
  const cutAll = () => { for (const socket of open) socket.destroy(); open.clear(); };
  const server = net.createServer((client) => {
    if (target === undefined) return void client.destroy();
    const upstream = net.connect(target, "127.0.0.1");
    for (const [a, b] of [[client, upstream], [upstream, client]]) {
      open.add(a);
      a.pipe(b);
      a.on("error", () => b.destroy()).on("close", () => { open.delete(a); b.destroy(); });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    to: (port) => { target = port; if (port === undefined) cutAll(); },
    cut: cutAll,
    close: () => new Promise((resolve) => { target = undefined; cutAll(); server.close(() => resolve()); }),
  };
}

export interface RestartableCloud {
  // The emulator that is up, as the printer and the test see it: through the relays.
  current: TestCloud;
  stop(): Promise<void>;
  // Again on the same state, behind the same ports.
  start(config?: Partial<CloudServiceConfig>): Promise<TestCloud>;
}

// An emulator that a test takes down and brings back "on the same port":
// the ports the printer knows belong to the test throughout, so no other
// test file's server can be handed one of them while this one is down.
export async function startRestartableCloud(t: { teardown(fn: () => unknown): void }, config: Partial<CloudServiceConfig> = {}): Promise<RestartableCloud> {
  const http = await startRelay();
  const xmpp = await startRelay();
  const publicUrl = `http://127.0.0.1:${http.port}`;
  const stateDir = config.stateDir ?? mkdtempSync(path.join(tmpdir(), "cloud-test-"));
  let running: TestCloud | undefined;
  const up = async (extra: Partial<CloudServiceConfig>): Promise<TestCloud> => {
    const cloud = await startTestCloud({ xmpp: { port: 0 }, ...config, ...extra, stateDir, publicUrl, port: 0 });
    http.to(cloud.service.port);
    xmpp.to(cloud.service.xmpp?.port);
    running = cloud;
    const service = { ...cloud.service, port: http.port, xmpp: cloud.service.xmpp && { ...cloud.service.xmpp, port: xmpp.port } };
    return { ...cloud, service };
  };
  const stop = async () => {
    http.to(undefined);
    xmpp.to(undefined);
    await running?.service.close();
    running = undefined;
  };
  t.teardown(async () => { await stop(); await Promise.all([http.close(), xmpp.close()]); });
  const restartable: RestartableCloud = {
    current: await up({}),
    stop,
    start: async (extra = {}) => (restartable.current = await up(extra)),
  };
  return restartable;
}
