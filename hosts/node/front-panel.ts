import * as crypto from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import type { EngineFault } from "../../modules/hal/engine.js";
import type { PanelButton } from "../../modules/hal/panel.js";
import type { Printer } from "../../modules/printer/printer.js";
import type { ConsolePanel } from "./panel.js";
import { thumbnail } from "./thumbnail.js";

// The simulator's front panel in a browser: the buttons (OK and Cancel for
// a registration, a long press for the factory reset), the engine's faults,
// the indicator and the panel's words, and thumbnails of the pages printed,
// updated live over server-sent events.
//
// It has its own port on loopback, never the printer's server: its buttons
// stand for a physical action (Privet 6.1), so nothing on the LAN may reach
// them even when the printer listens there with --lan, and the board's
// firmware carries none of it. Presses are POSTs with a per-start secret in
// a header (which another origin cannot send without a CORS preflight we
// never answer) from our own origin.

export interface FrontPanelOptions {
  printer: Printer;
  panel: ConsolePanel;
  // undefined when the engine cannot fault (the null engine).
  setFault?: (fault: EngineFault | undefined) => void;
  // The page files the engine has written, oldest first.
  pages: () => string[];
  port: number;
}

const FAULTS: Record<string, EngineFault | undefined> = { "media-empty": "media-empty", "media-jam": "media-jam", "door-open": "door-open", clear: undefined };
const BUTTONS: PanelButton[] = ["ok", "cancel", "reset"];
const SHOWN_PAGES = 12;
const MAX_CLIENTS = 8;

export class FrontPanel {
  private server: http.Server | undefined;
  private readonly token = crypto.randomBytes(16).toString("hex");
  private readonly clients = new Set<http.ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private last = "";
  private readonly thumbs = new Map<string, Buffer>();
  port = 0;
  // The printer's own pages, linked from the panel (known once it listens).
  printerUrl = "";

  constructor(readonly options: FrontPanelOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  async start(): Promise<string> {
    const server = http.createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.options.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    // Polled, not wired to every event: a state line is cheap and nothing is missed.
    this.timer = setInterval(() => this.broadcast(), 200);
    this.timer.unref();
    return this.url;
  }

  stop(): Promise<void> {
    clearInterval(this.timer);
    for (const client of this.clients) client.end();
    this.clients.clear();
    const server = this.server;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  }

  state(): Record<string, unknown> {
    const { printer, panel } = this.options;
    const job = printer.spooler.active;
    const pages = this.options.pages().slice(-SHOWN_PAGES).reverse().map((file) => path.basename(file));
    return {
      name: printer.device.name,
      indicator: panel.mode,
      message: panel.text ?? "",
      deviceState: printer.state.activity,
      fault: printer.state.fault?.description ?? "",
      faultKind: printer.state.fault?.code ?? "",
      job: job ? { id: job.id, name: job.jobName ?? "", state: job.state, pages: job.pagesPrinted } : null,
      registration: printer.cloud ? (printer.cloud.registered ? "registered" : printer.cloud.registration.phase) : "none",
      pages,
      printed: this.options.pages().length,
      canFault: this.options.setFault !== undefined,
    };
  }

  private broadcast(): void {
    if (this.clients.size === 0) return;
    const text = JSON.stringify(this.state());
    if (text === this.last) return;
    this.last = text;
    for (const client of this.clients) client.write(`data: ${text}\n\n`);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    // The printer's own Host policy (a rebound name is refused); without a
    // Host it stays refused, as every browser sends one.
    const host = req.headers.host;
    if (host === undefined || !this.options.printer.hosts.allows(host)) {
      return void res.writeHead(403, { "Content-Type": "text/plain" }).end("This panel answers only to the printer's addresses and names.\n");
    }
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.method === "GET" && url.pathname === "/") return this.page(res);
    if (req.method === "GET" && url.pathname === "/panel.js") {
      return void res.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache" }).end(SCRIPT);
    }
    if (req.method === "GET" && url.pathname === "/events") return this.events(req, res);
    if (req.method === "GET" && url.pathname.startsWith("/thumbs/")) return this.thumb(decodeURIComponent(url.pathname.slice(8)), res);
    if (req.method === "POST") return this.post(req, res, url.pathname);
    res.writeHead(404, { "Content-Type": "text/plain" }).end("not found\n");
  }

  private page(res: http.ServerResponse): void {
    res.writeHead(200, {
      "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache",
      "Content-Security-Policy": "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'none'",
    });
    res.end(PAGE.replace("__TOKEN__", this.token).replace(/__PRINTER__/g, this.printerUrl.replace(/[<>"&]/g, "")));
  }

  private events(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.clients.size >= MAX_CLIENTS) return void res.writeHead(503).end();
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" });
    res.write(`retry: 1000\ndata: ${JSON.stringify(this.state())}\n\n`);
    this.clients.add(res);
    req.on("close", () => this.clients.delete(res));
  }

  private thumb(name: string, res: http.ServerResponse): void {
    // Only pages the engine wrote, by their base name: no path reaches the disk otherwise.
    const file = this.options.pages().find((f) => path.basename(f) === name);
    if (!file) return void res.writeHead(404).end();
    let png = this.thumbs.get(file);
    if (!png) {
      try {
        png = thumbnail(file);
      } catch (error) {
        return void res.writeHead(500, { "Content-Type": "text/plain" }).end(`${String(error)}\n`);
      }
      if (this.thumbs.size >= 64) this.thumbs.delete(this.thumbs.keys().next().value!);
      this.thumbs.set(file, png);
    }
    res.writeHead(200, { "Content-Type": "image/png", "Cache-Control": "max-age=3600" }).end(png);
  }

  private post(req: http.IncomingMessage, res: http.ServerResponse, pathname: string): void {
    const origin = req.headers.origin;
    const own = origin === `http://127.0.0.1:${this.port}` || origin === `http://localhost:${this.port}`;
    if ((origin !== undefined && !own) || req.headers["x-panel-token"] !== this.token) {
      return void res.writeHead(403, { "Content-Type": "text/plain" }).end("refused: not from the front panel's own page\n");
    }
    req.resume();
    const [, kind, what] = pathname.split("/");
    if (kind === "press" && BUTTONS.includes(what as PanelButton)) {
      this.options.panel.press(what as PanelButton);
    } else if (kind === "fault" && Object.prototype.hasOwnProperty.call(FAULTS, what) && this.options.setFault) {
      this.options.setFault(FAULTS[what]);
    } else {
      return void res.writeHead(404, { "Content-Type": "text/plain" }).end("no such control\n");
    }
    this.broadcast();
    res.writeHead(204).end();
  }
}

const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Front panel</title><style>
body{margin:0;font:15px/1.4 system-ui,sans-serif;background:#2b2f36;color:#e8ebf0}main{max-width:44em;margin:0 auto;padding:1em}
h1{font-size:1.1em;margin:.2em 0 .8em}a{color:#9cc3ff}.panel{background:#3a3f48;border-radius:14px;padding:1em;box-shadow:inset 0 1px 0 #fff1,0 4px 12px #0006}
.row{display:flex;gap:1em;align-items:center;flex-wrap:wrap}.lcd{flex:1;min-width:14em;background:#b9d3a8;color:#15210f;font-family:ui-monospace,monospace;border-radius:6px;padding:.6em .8em;min-height:3.6em}
#led{width:22px;height:22px;border-radius:50%;background:#3d2a2a;border:2px solid #222}#led.on{background:#39e46a;box-shadow:0 0 12px #39e46a}
#led.blink{animation:blink .8s steps(1) infinite}@keyframes blink{0%{background:#39e46a;box-shadow:0 0 12px #39e46a}50%{background:#234a2d;box-shadow:none}}
button{font:inherit;font-weight:600;border:0;border-radius:8px;padding:.6em 1em;cursor:pointer;background:#59606c;color:#fff}
button.ok{background:#2e8b4e}button.cancel{background:#a33a32}button:active{transform:translateY(1px)}h2{font-size:1em;margin:1.2em 0 .5em;color:#b9c0cc}
.faults button.active{outline:3px solid #ffb74a}#pages{display:flex;gap:.6em;flex-wrap:wrap}#pages figure{margin:0;background:#fff;padding:3px;border-radius:3px}
#pages img{display:block;max-width:110px}#pages figcaption{color:#333;font-size:.7em;text-align:center;max-width:110px;overflow:hidden}.muted{color:#9aa3b1}
</style><script src="/panel.js" defer></script></head><body data-token="__TOKEN__"><main>
<h1>Front panel of <span id="name"></span> <span class="muted">(simulator) · pages at <a href="__PRINTER__">__PRINTER__</a></span></h1>
<div class="panel"><div class="row"><div id="led" title="indicator"></div><div class="lcd"><div id="state"></div><div id="message"></div></div></div>
<div class="row" style="margin-top:1em"><button class="ok" data-press="ok">OK</button><button class="cancel" data-press="cancel">Cancel</button>
<button data-press="reset" title="the long press: factory reset">Hold 5 s (factory reset)</button></div></div>
<h2>Engine</h2><div class="row faults"><button data-fault="media-empty">Paper out</button><button data-fault="media-jam">Jam</button><button data-fault="door-open">Door open</button><button data-fault="clear">Clear</button></div>
<h2>Printed pages <span id="printed" class="muted"></span></h2><div id="pages"></div></main></body></html>
`;

// Everything from the printer goes into the page as text (textContent), never as markup.
const SCRIPT = `"use strict";
const token = document.body.dataset.token;
function send(path) { fetch(path, { method: "POST", headers: { "X-Panel-Token": token } }); }
for (const b of document.querySelectorAll("[data-press]")) b.addEventListener("click", () => {
  if (b.dataset.press === "reset" && !confirm("Factory reset: forget the registration, name, settings and Wi-Fi?")) return;
  send("/press/" + b.dataset.press);
});
for (const b of document.querySelectorAll("[data-fault]")) b.addEventListener("click", () => send("/fault/" + b.dataset.fault));
const words = { idle: "Ready", processing: "Printing", stopped: "Stopped" };
let shown = "";
function render(s) {
  document.getElementById("name").textContent = s.name;
  document.getElementById("led").className = s.indicator;
  let line = words[s.deviceState] || s.deviceState;
  if (s.fault) line += ": " + s.fault;
  if (s.job) line += " · job " + (s.job.name || s.job.id) + ", " + s.job.pages + " page(s)";
  document.getElementById("state").textContent = line;
  document.getElementById("message").textContent = s.message;
  document.getElementById("printed").textContent = "(" + s.printed + " since start)";
  for (const b of document.querySelectorAll("[data-fault]")) { b.disabled = !s.canFault; b.classList.toggle("active", s.fault !== "" && b.dataset.fault !== "clear" && s.faultKind === b.dataset.fault); }
  const key = s.pages.join("|");
  if (key === shown) return;
  shown = key;
  const box = document.getElementById("pages");
  box.replaceChildren();
  for (const name of s.pages) {
    const fig = document.createElement("figure");
    const img = document.createElement("img");
    img.src = "/thumbs/" + encodeURIComponent(name);
    img.alt = name;
    const cap = document.createElement("figcaption");
    cap.textContent = name.replace(/\\.png$/, "");
    fig.append(img, cap);
    box.append(fig);
  }
}
const events = new EventSource("/events");
events.onmessage = (e) => render(JSON.parse(e.data));
`;
