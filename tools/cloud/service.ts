import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { authenticate, newSecret } from "./auth.js";
import { emailOf, ERR, fail, type Answer, type ApiCall, type Context, type DeletionShape, type ServiceOptions } from "./context.js";
import { decodeRequest, DEFAULT_DECODE_LIMITS, RequestError, type DecodeLimits, type Params } from "./decode.js";
import { control, deleteJob, download, fetchJobs, jobs, submit, ticket } from "./jobs.js";
import { revokeEndpoint, tokenEndpoint } from "./oauth.js";
import { handlePage, sessionExpired } from "./pages.js";
import { deletePrinter, emulatorOwner, list, printer, proximityToken, search, share, unshare, update } from "./printers.js";
import { confirm, createRobot, getAuthCode, register } from "./registration.js";
import { Store } from "./store.js";
import { startXmppServer, type XmppConfig, type XmppEndpoints, type XmppServer } from "./xmpp-server.js";
import type { XmppIdentity } from "./xmpp-session.js";

// The Cloud Print service emulator: one node:http server for the API under /cloudprint/,
// the OAuth endpoints under /o/oauth2/ and the pages a person uses. Importing this file
// starts nothing; startCloudService does.

export interface CloudServiceConfig extends Partial<ServiceOptions> {
  host?: string;
  port?: number;
  stateDir: string;
  limits?: Partial<DecodeLimits>;
  // A clock in milliseconds, for tests that make tokens expire without waiting.
  now?: () => number;
  // Called for every push the real service would have sent over XMPP (<id>, <id>/update_settings, <id>/delete).
  onNotify?: (printerId: string, payload: string) => void;
  // The XMPP side (reference 3); absent, no XMPP listener runs and pushes only reach onNotify.
  xmpp?: XmppConfig;
  // Called with every request that failed inside the emulator (an HTTP 500); defaults to stderr.
  onError?: (error: unknown) => void;
  // Called once each answer is sent (the CLI's --verbose log), with the listener it came on.
  onRequest?: (method: string, path: string, status: number, scheme: "http" | "https") => void;
  // The origin devices and users are told (in polling, claim and download URLs) when the
  // emulator sits behind a proxy or relay; by default, where it listens.
  publicUrl?: string;
  // An HTTPS listener beside the plain one, as the real service was reached: a device
  // given httpsBaseUrl makes every call, its claim and its downloads over TLS. URLs in
  // answers on it name its own origin: hostName (the name the certificate carries) or the address.
  https?: { key: string | Buffer; cert: string | Buffer; port?: number; hostName?: string };
}

export interface CloudService {
  // http://host:port, and the Cloud Print base URL devices are given (url + "/cloudprint").
  url: string;
  baseUrl: string;
  tokenUrl: string;
  port: number;
  store: Store;
  options: ServiceOptions;
  // Where a device connects for pushes (host, ports, domain), when config.xmpp was given.
  xmpp?: XmppEndpoints;
  // The HTTPS listener's port and the base URL to give a device, when config.https was given.
  httpsPort?: number;
  httpsBaseUrl?: string;
  close(): Promise<void>;
}

export const DEFAULT_OPTIONS: ServiceOptions = {
  tokenLifetimeSeconds: 3600,
  registrationLifetimeSeconds: 900,
  authCodeLifetimeSeconds: 600,
  proximityTokenLifetimeSeconds: 600,
  deletionShape: "success-false",
  requireProxyHeader: true,
  // Google's search documentation called a printer DORMANT after about a month away.
  dormantAfterSeconds: 30 * 24 * 3600,
  sessionLifetimeSeconds: 24 * 3600,
  maxUnclaimedRegistrations: 1000,
  conversionTimeoutSeconds: 120,
  oauthClients: {},
};

export const DELETION_SHAPES: DeletionShape[] = ["success-false", "empty-printers"];

type Access = "none" | "optional" | "required";
const API: Record<string, { access: Access; handle: (ctx: Context, call: ApiCall) => Answer | Promise<Answer> }> = {
  register: { access: "optional", handle: register },
  getauthcode: { access: "none", handle: getAuthCode },
  createrobot: { access: "required", handle: createRobot },
  share: { access: "required", handle: share },
  unshare: { access: "required", handle: unshare },
  confirm: { access: "required", handle: confirm },
  printer: { access: "required", handle: printer },
  update: { access: "required", handle: update },
  list: { access: "required", handle: list },
  search: { access: "required", handle: search },
  delete: { access: "required", handle: deletePrinter },
  proximitytoken: { access: "required", handle: proximityToken },
  jobs: { access: "required", handle: jobs },
  submit: { access: "required", handle: submit },
  fetch: { access: "required", handle: fetchJobs },
  control: { access: "required", handle: control },
  ticket: { access: "required", handle: ticket },
  deletejob: { access: "required", handle: deleteJob },
  download: { access: "required", handle: download },
  emulatorowner: { access: "none", handle: emulatorOwner },
};

const TOKEN_PATHS = ["/o/oauth2/token", "/oauth2/v3/token", "/oauth2/v4/token", "/token"];
const REVOKE_PATHS = ["/o/oauth2/revoke", "/revoke"];

export async function startCloudService(config: CloudServiceConfig): Promise<CloudService> {
  const options: ServiceOptions = { ...DEFAULT_OPTIONS };
  for (const key of Object.keys(DEFAULT_OPTIONS) as Array<keyof ServiceOptions>) {
    if (config[key] !== undefined) (options as unknown as Record<string, unknown>)[key] = config[key];
  }
  if (!DELETION_SHAPES.includes(options.deletionShape)) throw new Error(`deletionShape must be one of ${DELETION_SHAPES.join(", ")}`);
  for (const key of ["tokenLifetimeSeconds", "registrationLifetimeSeconds", "authCodeLifetimeSeconds", "proximityTokenLifetimeSeconds", "dormantAfterSeconds", "sessionLifetimeSeconds", "maxUnclaimedRegistrations", "conversionTimeoutSeconds"] as const) {
    if (!(options[key] > 0)) throw new Error(`${key} must be a positive number`);
  }
  const limits: DecodeLimits = { ...DEFAULT_DECODE_LIMITS, ...config.limits };
  const store = Store.open(config.stateDir);
  const host = config.host ?? "127.0.0.1";
  let root = "";
  const ctx: Context = {
    store,
    options,
    now: config.now ?? Date.now,
    root: () => root,
    base: () => `${root}/cloudprint`,
    commit: () => store.save(),
    notify: (printerId, payload, ownerId) => {
      config.onNotify?.(printerId, payload);
      xmpp?.push(printerId, payload, ownerId);
    },
    disconnect: (printerId) => { xmpp?.disconnect(printerId, "the printer was deleted"); },
    xmppOnline: (printer) => xmpp?.sessions().some((s) => s.subscribed && (s.printerId === printer.id || s.identity?.bareJid === printer.xmppJid)) ?? false,
  };
  let xmpp: XmppServer | undefined;
  const onError = config.onError ?? ((error: unknown) => process.stderr.write(`cloud: ${(error as Error)?.stack ?? String(error)}\n`));

  // One handler for both listeners; each names its own origin in the URLs it answers with.
  const handler = (scheme: "http" | "https", origin: () => string) => {
    const here: Context = { ...ctx, root: origin, base: () => `${origin()}/cloudprint` };
    return (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (config.onRequest) {
        // The path only: queries carry tokens and codes that do not belong in a log.
        const path = (req.url ?? "/").split("?")[0].slice(0, 200);
        res.on("finish", () => config.onRequest!(req.method ?? "?", path, res.statusCode, scheme));
      }
      handle(here, limits, req, res).catch((error) => {
        onError(error);
        if (!res.headersSent) send(res, fail(500, "Internal error in the emulator.", 500));
        else res.destroy();
      });
    };
  };
  const serverOptions = { maxHeaderSize: 16 * 1024, requestTimeout: 60_000, headersTimeout: 20_000 };
  const server = http.createServer(serverOptions, handler("http", () => root));
  let httpsRoot = "";
  const secure = config.https && https.createServer({ ...serverOptions, key: config.https.key, cert: config.https.cert }, handler("https", () => httpsRoot));
  // TLS 1.2 session IDs, as the real service's front ends resumed them: a
  // device whose TLS keeps its last session (the Moddable SDK's does) then
  // makes each later call with an abbreviated handshake, without parsing
  // certificates or computing a key exchange again. Node resumes session IDs
  // only through these events; tickets, which it does by itself, are what
  // such a device does not speak. A few hundred sessions, oldest dropped first.
  if (secure) {
    const sessions = new Map<string, Buffer>();
    secure.on("newSession", (id: Buffer, data: Buffer, done: () => void) => {
      sessions.set(id.toString("hex"), data);
      if (sessions.size > 256) sessions.delete(sessions.keys().next().value!);
      done();
    });
    secure.on("resumeSession", (id: Buffer, done: (error: Error | null, data: Buffer | null) => void) => {
      done(null, sessions.get(id.toString("hex")) ?? null);
    });
  }
  // Clients pool connections and drop an idle one a little before the Keep-Alive hint runs
  // out, by a clock of their own (undici's advances by ticks that a busy machine delays):
  // at Node's default of 5 s a request could go out on a connection this end had just
  // closed, and fail as "fetch failed" with nothing wrong. A minute outlasts any pause
  // between a device's or a test's calls (nodejs/node#47130 tells the same race).
  const sockets = new Set<Socket>();
  for (const listener of secure ? [server, secure] : [server]) {
    listener.keepAliveTimeout = 65_000;
    listener.on("connection", (socket) => { sockets.add(socket); socket.on("close", () => sockets.delete(socket)); });
    // A malformed request line or head never reaches the handler; answer it with a reason and keep serving.
    listener.on("clientError", (error: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) { socket.destroy(); return; }
      const tooBig = error.code === "HPE_HEADER_OVERFLOW";
      const body = JSON.stringify({ success: false, message: tooBig ? "The request head is larger than 16 KiB." : `Malformed HTTP request (${error.code ?? "unknown"}).`, errorCode: ERR.badRequest });
      socket.end(`HTTP/1.1 ${tooBig ? "431 Request Header Fields Too Large" : "400 Bad Request"}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
  }

  const listen = (listener: http.Server, port: number) => new Promise<void>((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(port, host, () => { listener.off("error", reject); resolve(); });
  });
  await listen(server, config.port ?? 0);
  if (secure) {
    try {
      await listen(secure, config.https!.port ?? 0);
    } catch (error) {
      server.close();
      throw error;
    }
  }
  const port = (server.address() as AddressInfo).port;
  if (config.xmpp) {
    try {
      xmpp = await startXmppServer(host, config.xmpp, { ...xmppHooks(ctx), onError });
    } catch (error) {
      server.close();
      secure?.close();
      throw error;
    }
  }
  const origin = (scheme: string, at: number, name = host) => `${scheme}://${name.includes(":") ? `[${name}]` : name}:${at}`;
  root = config.publicUrl?.replace(/\/+$/, "") ?? origin("http", port);
  const httpsPort = secure ? (secure.address() as AddressInfo).port : undefined;
  if (secure) httpsRoot = origin("https", httpsPort!, config.https!.hostName);
  sweep(ctx);
  const sweeper = setInterval(() => sweep(ctx), 30_000);
  sweeper.unref();

  return {
    url: root,
    baseUrl: ctx.base(),
    tokenUrl: `${root}/o/oauth2/token`,
    port,
    store,
    options,
    httpsPort,
    httpsBaseUrl: secure ? `${httpsRoot}/cloudprint` : undefined,
    xmpp: xmpp && { host: xmpp.host, domain: xmpp.domain, port: xmpp.port, starttlsPort: xmpp.starttlsPort, directTlsPort: xmpp.directTlsPort },
    close: async () => {
      clearInterval(sweeper);
      await Promise.all([
        ...closeListeners(secure ? [server, secure] : [server], sockets),
        xmpp?.close(),
      ]);
    },
  };
}

// Stops accepting, then ends every open connection (idle keep-alives would hold close() open).
function closeListeners(listeners: http.Server[], sockets: Set<Socket>): Array<Promise<void>> {
  const closed = listeners.map((listener) => new Promise<void>((resolve) => listener.close(() => resolve())));
  for (const socket of sockets) socket.destroy();
  return closed;
}

// The XMPP password is the OAuth access token (reference 3.2 step 3), checked against the
// same store the HTTP API uses. authcid is the bare JID or only its local part, as clients differ.
function xmppHooks(ctx: Context) {
  return {
    authenticate(authcid: string, token: string): XmppIdentity | undefined {
      const tokens = ctx.store.state.accessTokens;
      const record = Object.hasOwn(tokens, token) ? tokens[token] : undefined;
      if (!record || record.expiresAt <= ctx.now()) return undefined;
      const subject = record.subject;
      const bareJid = emailOf(subject);
      if (authcid.toLowerCase() !== bareJid.toLowerCase() && authcid.toLowerCase() !== bareJid.split("@")[0].toLowerCase()) return undefined;
      if (subject.kind === "robot") return { bareJid, printerId: subject.printerId };
      // A connector's account hears of the printers it registered (they carry its JID), found in concerns.
      return subject.kind === "account" ? { bareJid } : { bareJid, email: subject.email };
    },
    concerns(identity: XmppIdentity, printerId: string, ownerId?: string): boolean {
      if (identity.printerId !== undefined) return identity.printerId === printerId;
      const printers = ctx.store.state.printers;
      if (Object.hasOwn(printers, printerId) && printers[printerId].xmppJid === identity.bareJid) return true;
      const owner = Object.hasOwn(printers, printerId) ? printers[printerId].ownerId : ownerId;
      return owner !== undefined && owner === identity.email;
    },
    activity(identity: XmppIdentity): void {
      for (const printer of Object.values(ctx.store.state.printers)) {
        if (printer.id === identity.printerId || printer.xmppJid === identity.bareJid) printer.channelSeenAt = ctx.now();
      }
    },
  };
}

// Expired things leave the state: codes, access tokens and registrations nobody claimed in time.
function sweep(ctx: Context): void {
  const state = ctx.store.state;
  const now = ctx.now();
  let changed = false;
  for (const [code, record] of Object.entries(state.authCodes)) if (record.expiresAt <= now) { delete state.authCodes[code]; changed = true; }
  for (const [token, record] of Object.entries(state.accessTokens)) if (record.expiresAt <= now) { delete state.accessTokens[token]; changed = true; }
  for (const [id, record] of Object.entries(state.sessions)) if (sessionExpired(ctx, record)) { delete state.sessions[id]; changed = true; }
  for (const p of Object.values(state.printers)) {
    if (p.ownerId === undefined && (p.registrationExpiresAt ?? 0) <= now) { delete state.printers[p.id]; changed = true; }
  }
  if (changed) ctx.commit();
}

async function handle(ctx: Context, limits: DecodeLimits, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const target = req.url ?? "/";
  const q = target.indexOf("?");
  const rawPath = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? "" : target.slice(q + 1);
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return send(res, fail(ERR.badRequest, "Bad percent-encoding in the path.", 400));
  }
  const method = req.method ?? "GET";
  if (!["GET", "POST", "HEAD"].includes(method)) return send(res, fail(ERR.badRequest, `${method} is not used by this service.`, 405), { Allow: "GET, POST" });

  let params: Params;
  try {
    params = await decodeRequest(req, query, limits);
  } catch (error) {
    if (error instanceof RequestError) return send(res, fail(ERR.badRequest, error.message, error.status), { Connection: "close" });
    throw error;
  }

  if (TOKEN_PATHS.includes(path)) return send(res, tokenEndpoint(ctx, params, req.headers.authorization));
  if (REVOKE_PATHS.includes(path)) return send(res, revokeEndpoint(ctx, params));

  const page = handlePage(ctx, { req, method, path, params });
  if (page) return send(res, page, pageHeaders());

  // HEAD is for looking at pages; on the API it would run a call and throw the answer away.
  if (method === "HEAD") return send(res, fail(ERR.badRequest, "Use GET or POST on the API.", 405), { Allow: "GET, POST" });
  // The late FCM channel needs Google's FCM to deliver anything; the emulator pushes over XMPP only.
  if (/^\/cloudprint\/(?:interface\/)?fcm\/subscribe\/?$/.test(path)) {
    return send(res, fail(ERR.notFound, "fcm/subscribe is not supported by this emulator: it has no FCM service. Register with notification_channel=XMPP_CHANNEL and take pushes over XMPP.", 404));
  }
  // /cloudprint/<iface>, and the 2011-era /cloudprint/interface/<iface>; a trailing slash is harmless.
  const match = /^\/cloudprint\/(?:interface\/)?([a-z]+)\/?$/.exec(path);
  const endpoint = match && Object.hasOwn(API, match[1]) ? API[match[1]] : undefined;
  if (!match || !endpoint) return send(res, fail(ERR.notFound, `Nothing at ${path.slice(0, 200)}.`, 404));
  if (ctx.options.requireProxyHeader && req.headers["x-cloudprint-proxy"] === undefined) {
    return send(res, fail(ERR.badRequest, "Missing X-CloudPrint-Proxy header (every Cloud Print client sends one; its value is free text).", 400));
  }
  const auth = authenticate(ctx, req.headers.authorization);
  if (auth && "refusal" in auth) return send(res, fail(ERR.forbidden, auth.refusal, 403));
  if (!auth && endpoint.access === "required") return send(res, fail(ERR.forbidden, "User credentials required: send Authorization: Bearer <access token>.", 403));
  const call: ApiCall = { req, params, principal: endpoint.access === "none" ? undefined : auth?.principal, iface: match[1] };
  const answer = await endpoint.handle(ctx, call);
  if (!answer.raw && !answer.bytes) {
    // The real service echoed the request in every answer (reference 1.0).
    const user = call.principal ? emailOf(call.principal.subject) : "";
    answer.body.request = { time: "0", params: params.echo(), user, users: user ? [user] : [] };
    answer.body.xsrf_token = newSecret(12);
  }
  return send(res, answer);
}

function pageHeaders(): Record<string, string> {
  return {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
  };
}

function send(res: http.ServerResponse, answer: Answer, extra: Record<string, string> = {}): void {
  const bytes = answer.bytes ?? Buffer.from(JSON.stringify(answer.body, null, 1));
  const headers: Record<string, string | number> = {
    "Content-Type": answer.contentType ?? "application/json; charset=utf-8",
    "Content-Length": bytes.length,
    ...extra,
    ...answer.headers,
  };
  res.writeHead(answer.status, headers);
  res.end(res.req.method === "HEAD" ? undefined : bytes);
}
