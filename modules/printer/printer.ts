import type { Hal } from "../hal/hal.js";
import type { MdnsSocket } from "../hal/udp.js";
import { MdnsResponder, type MdnsService, type ServiceSpec } from "../dns/responder.js";
import { HttpRouter } from "../http/router.js";
import { HttpServer } from "../http/server.js";
import { JobStore } from "../jobs/store.js";
import { JobLifecycle } from "../print/lifecycle.js";
import { Spooler } from "../print/spooler.js";
import { INFO_PATH, PrivetApi } from "../privet/api.js";
import { DeviceRecord } from "../privet/device.js";
import { loadSerialNumber } from "../privet/identity.js";
import { infoDocument } from "../privet/info.js";
import { printingRoutes } from "../privet/printing.js";
import { TokenEngine } from "../privet/token.js";
import { defaultPrinterConfig, type PrinterConfig } from "./config.js";
import { SafeStorage } from "../storage/safe-storage.js";
import { Settings } from "../storage/settings.js";
import type { Storage } from "../hal/storage.js";

// What a person or the cloud can change (Privet 4.1), kept across restarts.
export type DeviceSettings = {
  localDiscovery: boolean;
  localPrinting: boolean;
};

const DEVICE_SETTING_KEYS = { localDiscovery: "discovery", localPrinting: "printing" };
const DEVICE_SETTING_DEFAULTS: DeviceSettings = { localDiscovery: true, localPrinting: true };

// How long a goodbye gets to leave before the socket closes.
const GOODBYE_FLUSH_MS = 100;

// The whole device, built from a HAL: the same object runs on the board, in
// the Moddable simulator and in the Node simulator host.
export class Printer {
  readonly config: PrinterConfig;
  readonly device: DeviceRecord;
  readonly tokens: TokenEngine;
  readonly api: PrivetApi;
  readonly http: HttpServer;
  readonly router: HttpRouter;
  readonly jobs: JobStore;
  readonly lifecycle: JobLifecycle;
  readonly spooler: Spooler;
  readonly settings: Settings<DeviceSettings>;
  mdns: MdnsResponder | undefined;
  private mdnsSocket: MdnsSocket | undefined;
  // Everything persistent goes through the two-slot journal.
  readonly storage: Storage;

  constructor(private readonly hal: Hal, config: Partial<PrinterConfig> = {}) {
    this.config = { ...defaultPrinterConfig, ...config };
    this.storage = new SafeStorage(hal.storage);
    this.settings = new Settings(this.storage, DEVICE_SETTING_KEYS, DEVICE_SETTING_DEFAULTS);
    const serial = loadSerialNumber(this.storage, hal.random);
    this.device = new DeviceRecord(this.config, serial);
    this.tokens = new TokenEngine(hal.clock, hal.random);
    this.api = new PrivetApi(this.tokens);
    this.api.add({
      path: INFO_PATH,
      method: "GET",
      exposed: () => true,
      handle: (_request, response) => response.json(this.info()),
    });
    this.jobs = new JobStore(hal.clock, hal.random);
    this.lifecycle = new JobLifecycle(this.jobs, hal.log);
    this.spooler = new Spooler(hal.engine, this.lifecycle, hal.clock, hal.log);
    this.spooler.onEngineStatus = () => this.updateDeviceState();
    this.lifecycle.listen(() => this.updateDeviceState());
    for (const route of printingRoutes({
      clock: hal.clock,
      engine: hal.engine,
      jobs: this.jobs,
      lifecycle: this.lifecycle,
      spooler: this.spooler,
      exposed: () => this.printingExposed(),
      maxDocumentBytes: this.config.maxDocumentBytes,
    })) this.api.add(route);
    this.router = new HttpRouter();
    this.router.mount("/privet/", (request, response) => this.api.handle(request, response));
    this.http = new HttpServer(hal.tcp, hal.clock, hal.log,
      { ...this.config.http, port: this.config.port, host: this.config.host }, this.router.handle);
    this.device.onChange(() => this.mdns?.txtChanged());
  }

  // Local printing is offered out of the box only by a printer without a
  // cloud to register with; one with a Cloud Print URL offers it once
  // registered (Privet 6.1), and printer/local_printing_enabled can turn it off.
  printingExposed(): boolean {
    const allowed = this.config.url === "" || this.device.id !== "";
    return allowed && this.settings.get("localPrinting");
  }

  // device_state and semantic_state follow the engine and the spooler.
  private updateDeviceState(): void {
    const engine = this.hal.engine;
    this.device.deviceState = engine.fault ? "stopped" : this.spooler.active ? "processing" : "idle";
    this.device.fault = engine.fault ? { code: engine.fault, description: engine.faultDescription } : undefined;
  }

  info(): Record<string, unknown> {
    this.updateDeviceState();
    return infoDocument(this.device, this.tokens.issue(), this.uptimeSeconds(), this.api.exposedApis());
  }

  uptimeSeconds(): number {
    return Math.floor(this.hal.clock.monotonic() / 1000);
  }

  // A host label from the serial, so two simulators on one network differ.
  hostLabel(): string {
    return this.config.hostName ?? `privet-printer-${this.device.serialNumber.slice(0, 8)}`;
  }

  async start(): Promise<number> {
    this.api.enabled = this.localDiscovery;
    const port = await this.http.start();
    this.hal.log("info", `printer "${this.device.name}" serving Privet on ${this.config.host}:${port}`);
    if (!this.hal.udp) this.hal.log("info", "mdns: no multicast on this platform; discovery is off");
    else if (this.localDiscovery) await this.startDiscovery(port);
    return port;
  }

  // The local_discovery setting (Privet 4.1.1), kept across restarts.
  get localDiscovery(): boolean {
    return this.settings.get("localDiscovery");
  }

  // Off: a goodbye for every record, then no mDNS and no local API at all.
  async setLocalDiscovery(enabled: boolean): Promise<void> {
    if (enabled === this.localDiscovery && enabled === this.api.enabled) return;
    this.settings.set("localDiscovery", enabled);
    this.api.enabled = enabled;
    this.hal.log("info", `local discovery ${enabled ? "on" : "off"}`);
    if (!enabled) await this.stopDiscovery();
    else if (this.hal.udp && !this.mdns) await this.startDiscovery(this.http.port);
  }

  // Services of other front ends beside _privet._tcp on the same host (IPP
  // Everywhere's _ipp._tcp with _print). They are published while local
  // discovery is on, as Privet's own is; the function returned withdraws one
  // with a goodbye for its records only.
  private readonly mdnsServices: Array<{ spec: ServiceSpec; live: MdnsService | undefined }> = [];

  publish(spec: ServiceSpec): () => void {
    const entry = { spec, live: this.mdns?.add(spec) };
    this.mdnsServices.push(entry);
    return () => {
      const index = this.mdnsServices.indexOf(entry);
      if (index >= 0) this.mdnsServices.splice(index, 1);
      entry.live?.remove();
    };
  }

  private async startDiscovery(port: number): Promise<void> {
    const responder = new MdnsResponder(this.hal.clock, this.hal.random, this.hal.log, this.hostLabel());
    responder.add({ instance: this.device.name, type: "_privet._tcp", subtypes: ["_printer"], port, txt: () => this.device.txt() });
    try {
      this.mdnsSocket = await this.hal.udp!.openMdns((bytes, from) => responder.receive(bytes, from));
    } catch (error) {
      // The API still works without discovery; say why it is missing.
      this.hal.log("warn", `mdns: cannot open the mDNS socket (${String(error)}); discovery is off`);
      return;
    }
    for (const entry of this.mdnsServices) entry.live = responder.add(entry.spec);
    this.mdns = responder;
    responder.start(this.mdnsSocket);
  }

  // Resolves once the mDNS goodbye has had time to leave.
  stop(): Promise<void> {
    this.http.stop();
    return this.stopDiscovery();
  }

  private stopDiscovery(): Promise<void> {
    const responder = this.mdns;
    const socket = this.mdnsSocket;
    this.mdns = undefined;
    this.mdnsSocket = undefined;
    if (!responder || !socket) return Promise.resolve();
    responder.stop();
    return new Promise((resolve) => {
      this.hal.clock.setTimer(() => {
        socket.close();
        resolve();
      }, GOODBYE_FLUSH_MS);
    });
  }
}
