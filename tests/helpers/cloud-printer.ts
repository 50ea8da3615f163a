import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { Clock } from "../../modules/hal/clock.js";
import type { PrintEngine } from "../../modules/hal/engine.js";
import type { Tcp } from "../../modules/hal/tcp.js";
import type { IndicatorMode, Panel, PanelButton } from "../../modules/hal/panel.js";
import type { Udp } from "../../modules/hal/udp.js";
import type { PrinterCloudConfig, PrinterConfig } from "../../modules/printer/config.js";
import { Printer } from "../../modules/printer/printer.js";
import { MemoryStorage, nodeHal } from "../../hosts/node/hal.js";
import { rawRequest } from "./client.js";
import { call, userToken, type TestCloud } from "./cloud.js";

// A printer with a cloud URL on real loopback sockets, its panel played by
// the test, and a Privet client that keeps its X-Privet-Token.

export class TestPanel implements Panel {
  private readonly listeners: Array<(button: PanelButton) => void> = [];
  mode: IndicatorMode = "off";
  readonly modes: IndicatorMode[] = [];
  text: string | undefined;
  // Press OK by itself when asked (as --confirm auto does).
  auto = false;

  onButton(listener: (button: PanelButton) => void): void {
    this.listeners.push(listener);
  }

  press(button: PanelButton): void {
    for (const listener of this.listeners.slice()) listener(button);
  }

  indicator(mode: IndicatorMode): void {
    this.mode = mode;
    this.modes.push(mode);
    if (mode === "blink" && this.auto) setTimeout(() => this.press("ok"), 10);
  }

  message(text: string | undefined): void {
    this.text = text;
  }
}

export interface PrivetAnswer { status: number; json: any; body: string }

export class PrivetClient {
  token = "";
  constructor(readonly port: number) {}

  async request(method: "GET" | "POST", target: string, token?: string): Promise<PrivetAnswer> {
    let head = `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${this.port}\r\n`;
    if (token !== undefined) head += `X-Privet-Token: ${token}\r\n`;
    if (method === "POST") head += "Content-Length: 0\r\n";
    const answer = await rawRequest(this.port, head + "\r\n", 30_000);
    let json: any;
    try { json = JSON.parse(answer.body); } catch { json = undefined; }
    return { status: answer.status, json, body: answer.body };
  }

  async info(): Promise<any> {
    const answer = await this.request("GET", "/privet/info", "\"\"");
    if (answer.status !== 200) return undefined;
    this.token = answer.json["x-privet-token"];
    return answer.json;
  }

  async call(method: "GET" | "POST", target: string): Promise<PrivetAnswer> {
    if (this.token === "") await this.info();
    return this.request(method, target, this.token);
  }

  register(action: string, user?: string): Promise<PrivetAnswer> {
    const query = [`action=${encodeURIComponent(action)}`];
    if (user !== undefined) query.push(`user=${encodeURIComponent(user)}`);
    return this.call("POST", `/privet/register?${query.join("&")}`);
  }
}

export interface CloudPrinter {
  printer: Printer;
  port: number;
  panel: TestPanel;
  storage: MemoryStorage;
  privet: PrivetClient;
  logs: string[];
  stop(): Promise<void>;
}

export interface CloudPrinterOptions {
  url: string;
  storage?: MemoryStorage;
  panel?: TestPanel;
  clock?: Clock;
  udp?: Udp;
  cloud?: PrinterCloudConfig;
  noPanel?: boolean;
  engine?: PrintEngine;
  // Any other configuration (allowedHosts, say).
  config?: Partial<PrinterConfig>;
  sntp?: PrinterConfig["sntp"];
  tcp?: Tcp;
}

export async function startCloudPrinter(options: CloudPrinterOptions): Promise<CloudPrinter> {
  const storage = options.storage ?? new MemoryStorage();
  const panel = options.panel ?? new TestPanel();
  const logs: string[] = [];
  const hal = {
    ...nodeHal({ log: (level, message) => logs.push(`${level} ${message}`) }),
    storage,
    panel: options.noPanel ? undefined : panel,
    udp: options.udp,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.engine ? { engine: options.engine } : {}),
    ...(options.tcp ? { tcp: options.tcp } : {}),
  };
  const printer = new Printer(hal, {
    port: 0, url: options.url, name: "Cloud Test Printer", ...options.config,
    cloud: { pollIntervalMs: 100, clientId: "test-printer-client", clientSecret: "s", ...options.cloud },
    sntp: options.sntp,
  });
  const port = await printer.start();
  return { printer, port, panel, storage, logs, privet: new PrivetClient(port), stop: () => printer.stop() };
}

export async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// The whole Privet registration as Chrome drove it, the panel's OK pressed
// by the test: start, OK, getClaimToken until ready, claim, complete.
export async function registerPrinter(cloud: TestCloud, p: CloudPrinter, email = "alice@example.com"): Promise<{ deviceId: string; claim: any; userToken: string }> {
  const start = await p.privet.register("start", email);
  if (start.json?.action !== "start") throw new Error(`start: ${start.body}`);
  p.panel.press("ok");
  let claim: any;
  await until("the claim token is ready", async () => {
    claim = (await p.privet.register("getClaimToken", email)).json;
    return claim.error !== "pending_user_action";
  });
  if (!claim.token) throw new Error(`getClaimToken: ${JSON.stringify(claim)}`);
  const user = await userToken(cloud.service, email);
  const claimed = await call(cloud.service, claim.automated_claim_url, {}, { encoding: "get", token: user });
  if (!claimed.json?.success) throw new Error(`claim: ${claimed.text}`);
  const complete = await p.privet.register("complete", email);
  if (!complete.json?.device_id) throw new Error(`complete: ${complete.body}`);
  return { deviceId: complete.json.device_id, claim, userToken: user };
}

export type Fault = "500" | "garbage" | "slow" | "close" | "not-json-200" | "missing-fields";

// A service between the printer and the emulator that breaks one interface
// on demand: it forwards everything else, and rewrites the emulator's own
// URLs in answers so the polling URL comes through it too.
// What a user does at the service: submit a document for the printer, and
// look its job up. `at` is the service, its printer and the user's token.
export interface ServiceUser { cloud: TestCloud; deviceId: string; user: string }

export async function submitJob(at: ServiceUser, title: string, data: Buffer | Uint8Array, contentType = "image/pwg-raster", ticket?: unknown): Promise<string> {
  const params: Record<string, string> = { printerid: at.deviceId, title, contentType };
  if (ticket !== undefined) params.ticket = JSON.stringify(ticket);
  const answer = await call(at.cloud.service, "submit", params, {
    encoding: "multipart", token: at.user,
    files: [{ name: "content", filename: title, contentType, data: Buffer.from(data) }],
  });
  if (!answer.json?.success) throw new Error(`submit: ${answer.text}`);
  return answer.json.job.id;
}

export async function serviceJob(at: ServiceUser, id: string): Promise<any> {
  const answer = await call(at.cloud.service, "jobs", { printerid: at.deviceId }, { token: at.user });
  return answer.json.jobs.find((j: any) => j.id === id);
}

export async function startFaultyProxy(target: string): Promise<{ url: string; faults: Map<string, Fault>; hits: string[]; close(): Promise<void> }> {
  const faults = new Map<string, Fault>();
  const hits: string[] = [];
  let root = "";
  const server = http.createServer(async (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const name = path.split("/").filter(Boolean).pop() ?? "";
    hits.push(name);
    const fault = faults.get(name);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (fault === "500") return void res.writeHead(500, { "Content-Type": "text/html" }).end("<html>Internal Server Error</html>");
    if (fault === "garbage") return void res.writeHead(200, { "Content-Type": "application/json" }).end("{\"success\": tru");
    if (fault === "not-json-200") return void res.writeHead(200).end("\u0000\u0001binary");
    if (fault === "close") return void req.socket.destroy();
    if (fault === "slow") return; // never answers: the printer's client times out
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(req.headers)) if (typeof value === "string" && key !== "host" && key !== "content-length") headers[key] = value;
    let upstream: Response, text: string;
    try {
      upstream = await fetch(target + (req.url ?? "/"), { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined });
      text = await upstream.text();
    } catch {
      return void req.socket.destroy();
    }
    text = text.split(target).join(root);
    if (fault === "missing-fields") text = JSON.stringify({ success: true, message: "" });
    res.writeHead(upstream.status, { "Content-Type": upstream.headers.get("content-type") ?? "application/json" }).end(text);
  });
  const sockets = new Set<import("node:net").Socket>();
  server.on("connection", (s) => { sockets.add(s); s.on("close", () => sockets.delete(s)); });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  root = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${root}/cloudprint`, faults, hits,
    close: () => new Promise((resolve) => { server.close(() => resolve()); for (const s of sockets) s.destroy(); }),
  };
}
