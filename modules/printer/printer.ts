import type { Cloud } from "../cloud/cloud.js";
import { semanticState } from "../cloud/semantic-state.js";
import { loadSerialNumber } from "../device/identity.js";
import { DeviceMemory } from "../device/memory.js";
import { DeviceRecord } from "../device/record.js";
import { FactoryReset } from "../device/reset.js";
import { deviceSettings, type DeviceSettings } from "../device/settings.js";
import { DeviceState } from "../device/state.js";
import type { Hal } from "../hal/hal.js";
import type { PanelButton } from "../hal/panel.js";
import type { Storage } from "../hal/storage.js";
import { HostPolicy } from "../http/host-policy.js";
import { HttpRouter } from "../http/router.js";
import { HttpServer, type HttpRequest, type HttpResponse } from "../http/server.js";
import { Turns } from "../http/turns.js";
import { defaultIppLimits } from "../ipp-codec/decode.js";
import { AIRPRINT_SUBTYPE, URF_MIME } from "../ipp/airprint.js";
import { ippTxt } from "../ipp/dns-sd.js";
import type { IppDevice } from "../ipp/exchange.js";
import type { DocumentFormats } from "../ipp/formats.js";
import { IppService } from "../ipp/service.js";
import type { JobStore } from "../jobs/store.js";
import type { MdnsResponder, ServiceSpec } from "../dns/responder.js";
import { Admission } from "../print/admission.js";
import { followPrintPath } from "../print/device-state.js";
import type { JobLifecycle } from "../print/lifecycle.js";
import { printPath } from "../print/path.js";
import type { Spooler } from "../print/spooler.js";
import { INFO_PATH, PrivetApi } from "../privet/api.js";
import { infoDocument } from "../privet/info.js";
import { sendPrivetError } from "../privet/errors.js";
import { BUSY_RETRY_S, printingRoutes } from "../privet/printing.js";
import { TokenEngine } from "../privet/token.js";
import type { SntpClient } from "../sntp/client.js";
import { SafeStorage } from "../storage/safe-storage.js";
import type { CaptivePortal } from "../web/captive.js";
import type { CaptiveDns } from "../dns/captive.js";
import { WebPages } from "../web/web.js";
import { WifiSetup } from "../wifi/setup.js";
import { PrinterClock } from "./clock.js";
import { connectCloud } from "./cloud-link.js";
import { defaultPrinterConfig, type PrinterConfig } from "./config.js";
import { Discovery } from "./discovery.js";
import { documentFormats } from "./formats.js";
import { identifyPolicy } from "./identify.js";
import { SetupPortal } from "./setup-portal.js";
import { PrinterWebHost } from "./web-host.js";

// The whole device, built from a HAL: the same object runs on the board, in
// the Moddable simulator and in the Node simulator host. Wiring only: it
// constructs the parts, mounts the front ends and starts and stops them.
// The device's facts live in device/ (record, settings, state), job
// admission in print/, mDNS in ./discovery, the cloud's view of the device
// in ./cloud-link, the clock in ./clock, the setup portal in ./setup-portal.
export class Printer {
  readonly config: PrinterConfig;
  // Everything persistent goes through the two-slot journal.
  readonly storage: Storage;
  // The one settings table, the one record, the one device state, and the factory reset's list.
  readonly settings: DeviceSettings;
  readonly device: DeviceRecord;
  readonly state: DeviceState;
  readonly reset: FactoryReset;
  readonly jobs: JobStore;
  readonly lifecycle: JobLifecycle;
  readonly spooler: Spooler;
  // Whether a job may print now: asked by Privet, IPP and the cloud alike.
  readonly admission: Admission;
  readonly clock: PrinterClock;
  readonly tokens: TokenEngine;
  readonly api: PrivetApi;
  // The Cloud Print connection; absent in local-only mode (no URL).
  readonly cloud: Cloud | undefined;
  // Which Host names every front end answers to (DNS rebinding); the Node
  // host's front panel asks it too.
  readonly hosts: HostPolicy;
  readonly router: HttpRouter;
  // IPP Everywhere at /ipp/print, on the same queue as Privet.
  readonly ipp: IppService;
  // Wi-Fi provisioning where the HAL has Wi-Fi, and the printer's own pages at "/".
  readonly wifi: WifiSetup | undefined;
  readonly web: WebPages;
  readonly portal: SetupPortal;
  readonly http: HttpServer;
  readonly discovery: Discovery;
  // What IPP prints, the default first (./formats).
  private readonly documentFormats: DocumentFormats;
  // The heap as a budget for large activities: the cloud's calls, IPP's
  // attribute answers and a JPEG job's decoder (config.budget; one at a time without it).
  private readonly turns: Turns;
  // The heap, measured where it is fixed: what a request or a large activity needs free to start.
  readonly memory: DeviceMemory;
  private readonly updateState: () => void;

  constructor(private readonly hal: Hal, config: Partial<PrinterConfig> = {}) {
    this.config = { ...defaultPrinterConfig, ...config };
    const budget = this.config.budget;
    this.memory = new DeviceMemory(hal.heap, budget?.reserve, hal.clock);
    this.turns = new Turns(budget?.capacity ?? 1, this.memory);
    this.documentFormats = documentFormats(hal.engine.capabilities, budget?.jpegJob);
    this.storage = new SafeStorage(hal.storage);
    this.settings = deviceSettings(this.storage, this.config);
    this.reset = new FactoryReset(this.settings, hal.log);
    const serial = loadSerialNumber(this.storage, hal.random);
    this.device = new DeviceRecord(this.config, serial, this.settings);
    this.state = new DeviceState(hal.clock);
    ({ jobs: this.jobs, lifecycle: this.lifecycle, spooler: this.spooler } = printPath(hal));
    this.spooler.budget = this.turns;
    this.clock = new PrinterClock(hal, this.config.sntp, () => this.clockChanged());
    this.updateState = followPrintPath(this.state, { engine: hal.engine, spooler: this.spooler, lifecycle: this.lifecycle }, () => this.clock.noticeItem());
    this.admission = new Admission({
      state: this.state, spooler: this.spooler, open: () => this.printingExposed(), formats: () => this.documentFormatNames,
      roomToDecode: (format) => this.roomToDecode(format),
    });
    this.tokens = new TokenEngine(hal.clock, hal.random);
    this.api = new PrivetApi(this.tokens);
    this.api.add({ path: INFO_PATH, method: "GET", exposed: () => true, handle: (_request, response) => response.json(this.info()) });
    for (const route of printingRoutes({
      clock: hal.clock, engine: hal.engine, jobs: this.jobs, lifecycle: this.lifecycle, spooler: this.spooler, admission: this.admission,
      exposed: () => this.printingExposed(), maxDocumentBytes: this.config.maxDocumentBytes,
    })) this.api.add(route);
    this.cloud = this.config.url === "" ? undefined : connectCloud(hal, this, this.turns);
    const cloud = this.cloud;
    if (cloud) this.reset.add("cloud", () => cloud.factoryReset());
    hal.panel?.onButton((button) => this.pressed(button));
    this.discovery = new Discovery(hal, this.device, () => this.hostLabel());
    this.hosts = new HostPolicy(() => this.ownHostNames());
    this.router = new HttpRouter(this.hosts, hal.log);
    this.router.mount("/privet/", (request, response) => this.api.handle(request, response));
    this.ipp = this.ippService();
    this.router.mount("/ipp/", this.ipp.handle);
    this.wifi = hal.network && new WifiSetup(hal.network, this.storage, hal.clock, hal.log, {
      accessPointSsid: `Privet-Setup-${serial.slice(0, 4).toUpperCase()}`, lingerMs: this.config.wifiLingerMs ?? 60_000,
    });
    const wifi = this.wifi;
    if (wifi) this.reset.add("wifi", () => void wifi.forget());
    this.web = new WebPages(new PrinterWebHost(this, this.wifi), hal.random, hal.log, this.hosts);
    this.router.mount("/", this.web.handle);
    this.portal = new SetupPortal(hal, this.config, this.wifi !== undefined, () => this.http.port, (request) => this.web.guard.hostAllowed(request));
    this.wifi?.onAccessPoint((accessPoint) => this.portal.accessPointChanged(accessPoint));
    this.wifi?.onJoined(() => {
      if (this.started) this.clock.networkJoined();
    });
    // The portal sees a request before any route does: its requests name
    // other sites, which every route of the printer would refuse.
    this.http = new HttpServer(hal.tcp, hal.clock, hal.log,
      { ...this.config.http, port: this.config.port, host: this.config.host },
      (request, response) => {
        if (this.portal.captive.answer(request, response)) return;
        if (!request.path.startsWith("/ipp/") && !this.roomForRequest()) {
          hal.log("debug", `memory: short; refused ${request.method} ${request.path}`);
          return shortOfMemory(request, response);
        }
        this.router.handle(request, response);
      });
    // The service hears of a rename, of settings changed here (the page,
    // Privet, the panel) and of the device state within its reporting window;
    // local discovery turns mDNS and the local API on or off.
    this.device.onChange(() => this.cloud?.stateChanged());
    this.state.onChange(() => this.cloud?.stateChanged());
    this.settings.onChange((name) => {
      if (name === "localDiscovery" && this.started) void this.discoveryFollows();
      this.cloud?.stateChanged();
    });
  }

  // Room in the heap for a request beside the large activities under way;
  // short, the idle keep-alive connections are given up first.
  private roomForRequest(): boolean {
    const turns = this.turns;
    if (this.memory.roomForRequest(turns.heldSlots, turns.heldChunks)) return true;
    return this.http.closeIdle() > 0 && this.memory.roomForRequest(turns.heldSlots, turns.heldChunks);
  }

  // A JPEG job's decoder takes its heap at the start (budget.jpegJob): on the
  // board it is refused as busy while that room is not there (and a
  // request's beside it, as for any request).
  private roomToDecode(format: string): boolean {
    const need = this.config.budget?.jpegJob;
    if (format !== "image/jpeg" || typeof need !== "object") return true;
    const turns = this.turns;
    return this.memory.roomForRequest(turns.heldSlots + (need.slots ?? 0), turns.heldChunks + (need.chunks ?? 0));
  }

  // The MIME types IPP takes, the default first.
  get documentFormatNames(): string[] {
    return Object.keys(this.documentFormats);
  }

  private ippDevice(): IppDevice {
    const d = this.device;
    return { name: d.name, description: d.description, location: "", manufacturer: d.manufacturer, model: d.model, firmware: d.firmware, serialNumber: d.serialNumber };
  }

  private ippService(): IppService {
    const hal = this.hal;
    const { copiesBufferBytes, ...limits } = this.config.ipp ?? {};
    return new IppService({
      clock: hal.clock, log: hal.log, engine: hal.engine, jobs: this.jobs, lifecycle: this.lifecycle, spooler: this.spooler,
      formats: this.documentFormats,
      turns: this.turns,
      attributesShare: this.config.budget?.printerAttributes,
      roomForRequest: () => this.roomForRequest(),
      device: () => this.ippDevice(),
      state: this.state,
      admission: this.admission,
      exposed: () => this.api.enabled,
      accepting: () => this.printingExposed(),
      ...identifyPolicy(hal, () => this.device.name, () => this.cloud?.registration.phase === "confirming"),
      limits: { ...defaultIppLimits, ...limits },
      maxDocumentBytes: this.config.maxDocumentBytes,
      copiesBufferBytes,
    }, () => `${this.config.host}:${this.http.port}`);
  }

  // The mDNS responder while discovery runs.
  get mdns(): MdnsResponder | undefined {
    return this.discovery.responder;
  }

  get sntp(): SntpClient | undefined {
    return this.clock.sntp;
  }

  get captive(): CaptivePortal {
    return this.portal.captive;
  }

  get captiveDns(): CaptiveDns | undefined {
    return this.portal.captiveDns;
  }

  setupUrl(): string | undefined {
    return this.portal.setupUrl();
  }

  clockSet(): boolean {
    return this.clock.isSet();
  }

  clockNotice(): string | undefined {
    return this.clock.notice();
  }

  private cloudStarted = false;

  // The cloud's first call is TLS, whose certificates are dated: it waits for the clock.
  private clockChanged(): void {
    this.updateState();
    if (this.started && this.cloud && !this.cloudStarted && this.clock.isSet()) {
      this.hal.log("info", "cloud: the clock is set; connecting");
      this.cloudStarted = true;
      this.cloud.start();
    }
  }

  // The panel: OK and Cancel answer a registration waiting for them; the
  // reset gesture is a local factory reset (Privet 6.1).
  private pressed(button: PanelButton): void {
    if (button === "reset") return this.reset.run();
    const registration = this.cloud?.registration;
    const taken = button === "ok" ? registration?.confirm() : registration?.reject();
    if (!taken) this.hal.log("debug", `panel: ${button} pressed with nothing waiting for it`);
  }

  // Credentials erased, settings back to their defaults, /privet/register
  // back, the configured name, and no Wi-Fi network (the setup access point
  // opens): device/reset holds the list.
  factoryReset(): void {
    this.reset.run();
  }

  // The printer's own pages (adminurl, setup_url): its mDNS name when it has one.
  adminUrl(): string {
    const joined = this.wifi?.view().status.address;
    const mdns = this.mdns;
    const host = mdns ? `${mdns.hostName}.local` : joined ?? (this.config.host === "0.0.0.0" ? "127.0.0.1" : this.config.host);
    return `http://${host}:${this.http.port}/`;
  }

  // Local printing is offered out of the box only by a printer without a
  // cloud to register with; one with a Cloud Print URL offers it once
  // registered (Privet 6.1), and printer/local_printing_enabled can turn it off.
  printingExposed(): boolean {
    const allowed = this.config.url === "" || this.device.id !== "";
    return allowed && this.settings.get("localPrinting");
  }

  info(): Record<string, unknown> {
    return infoDocument(this.device, this.state, semanticState(this.state), this.tokens.issue(), this.uptimeSeconds(), this.api.exposedApis());
  }

  uptimeSeconds(): number {
    return Math.floor(this.hal.clock.monotonic() / 1000);
  }

  // The names besides address literals and localhost that the printer
  // answers to: the label it claims with mDNS, the one it holds after a
  // conflict renamed it (-2), and the owner's. The first stays accepted after
  // a rename: only the local link can point it at anything, and a bookmark
  // made before the rename keeps working.
  ownHostNames(): string[] {
    const label = this.hostLabel();
    const names = [`${label}.local`];
    const held = this.mdns?.hostName;
    if (held !== undefined && held !== label) names.push(`${held}.local`);
    const added = this.config.allowedHosts;
    return added ? names.concat(added) : names;
  }

  // A host label from the serial, so two simulators on one network differ.
  hostLabel(): string {
    return this.config.hostName ?? `privet-printer-${this.device.serialNumber.slice(0, 8)}`;
  }

  private started = false;
  private withdrawIpp: (() => void) | undefined;

  async start(): Promise<number> {
    await this.wifi?.start();
    this.api.enabled = this.localDiscovery;
    this.started = true;
    const port = await this.http.start();
    this.hal.log("info", `printer "${this.device.name}" serving Privet on ${this.config.host}:${port}`);
    this.withdrawIpp ??= this.publish({
      instance: this.device.name, type: "_ipp._tcp", port,
      // iOS lists only printers under _universal (AirPrint), which takes URF.
      subtypes: this.documentFormatNames.includes(URF_MIME) ? ["_print", AIRPRINT_SUBTYPE] : ["_print"],
      txt: () => ippTxt(this.ippDevice(), this.hal.engine.capabilities, this.documentFormatNames, this.adminUrl()),
    });
    if (!this.hal.udp) this.hal.log("info", "mdns: no multicast on this platform; discovery is off");
    else if (this.localDiscovery) await this.discovery.start(port);
    this.clock.sntp?.start();
    if (this.cloud && this.clock.isSet()) {
      this.cloudStarted = true;
      this.cloud.start();
    } else if (this.cloud) this.hal.log("info", "cloud: waiting for the clock to be set before connecting");
    return port;
  }

  // The local_discovery setting (Privet 4.1.1), kept across restarts.
  get localDiscovery(): boolean {
    return this.settings.get("localDiscovery");
  }

  // Off: a goodbye for every record, then no mDNS and no local API at all.
  async setLocalDiscovery(enabled: boolean): Promise<void> {
    this.settings.set("localDiscovery", enabled);
    return this.discoveryFollows();
  }

  private discoveryChange: Promise<void> | undefined;

  // mDNS and the local API follow the setting, whoever changed it.
  private discoveryFollows(): Promise<void> {
    const enabled = this.localDiscovery;
    if (enabled === this.api.enabled) return this.discoveryChange ?? Promise.resolve();
    this.api.enabled = enabled;
    this.hal.log("info", `local discovery ${enabled ? "on" : "off"}`);
    const change = enabled ? this.discovery.start(this.http.port) : this.discovery.stop();
    this.discoveryChange = change;
    return change;
  }

  // Services of other front ends beside _privet._tcp on the same host,
  // published while local discovery is on (./discovery).
  publish(spec: ServiceSpec): () => void {
    return this.discovery.publish(spec);
  }

  // Resolves once the mDNS goodbye has had time to leave.
  stop(): Promise<void> {
    this.started = false;
    this.clock.sntp?.stop();
    this.portal.stop();
    this.cloudStarted = false;
    this.cloud?.stop();
    this.wifi?.stop();
    this.http.stop();
    return this.discovery.stop();
  }
}

// A request that came while the heap is short is answered in its protocol's
// words, without the work it asked for: Privet's API with printer_busy (its
// clients retry), anything else with 503 and Retry-After. IPP answers
// server-error-busy itself, once it has the request-id (ipp/service.ts).
function shortOfMemory(request: HttpRequest, response: HttpResponse): void {
  const why = "the printer is short of memory; try again shortly";
  if (request.path.startsWith("/privet/") && request.path !== INFO_PATH) return sendPrivetError(response, "printer_busy", why, BUSY_RETRY_S);
  response.send(503, why + "\n", { headers: [["Retry-After", "1"]] });
}
