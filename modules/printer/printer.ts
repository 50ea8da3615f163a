import { Turns } from "../http/turns.js";
import type { Hal } from "../hal/hal.js";
import type { MdnsSocket } from "../hal/udp.js";
import { MdnsResponder, type MdnsService, type ServiceSpec } from "../dns/responder.js";
import { HostPolicy } from "../http/host-policy.js";
import { HttpRouter } from "../http/router.js";
import { HttpServer } from "../http/server.js";
import type { JobStore } from "../jobs/store.js";
import type { JobLifecycle } from "../print/lifecycle.js";
import { printPath } from "../print/path.js";
import { pwgDecoder, type Spooler } from "../print/spooler.js";
import { INFO_PATH, PrivetApi } from "../privet/api.js";
import { DeviceRecord } from "../device/record.js";
import { loadSerialNumber } from "../device/identity.js";
import { FactoryReset } from "../device/reset.js";
import { DeviceState } from "../device/state.js";
import { followPrintPath } from "../print/device-state.js";
import { infoDocument, privetTxt } from "../privet/info.js";
import { printingRoutes } from "../privet/printing.js";
import { TokenEngine } from "../privet/token.js";
import { defaultPrinterConfig, FIRMWARE_BUILT_MS, type PrinterConfig } from "./config.js";
import { SntpClient } from "../sntp/client.js";
import { SafeStorage } from "../storage/safe-storage.js";
import { deviceSettings, type DeviceSettings } from "../device/settings.js";
import type { Storage } from "../hal/storage.js";
import type { PanelButton } from "../hal/panel.js";
import { HttpClient } from "../http/client.js";
import { CloudApi, defaultTokenUrl } from "../cloud/api.js";
import { Cloud, type CloudHost } from "../cloud/cloud.js";
import { applyLocalSettings, localSettingsOf, type LocalSettings } from "../cloud/local-settings.js";
import { semanticState } from "../cloud/semantic-state.js";
import { wallClockPlausible } from "../cloud/registration.js";
import { registerRoute } from "../privet/register.js";
import { accessTokenRoute } from "../privet/accesstoken.js";
import { cloudDeviceDescription } from "../privet/cdd.js";
import { checkTicket } from "../privet/ticket.js";
import type { ChannelFactory } from "../cloud/channel.js";
import { XmppClient } from "../xmpp/client.js";
import { IppService } from "../ipp/service.js";
import { defaultIppLimits } from "../ipp-codec/decode.js";
import { ippTxt } from "../ipp/dns-sd.js";
import type { IppDevice } from "../ipp/exchange.js";
import type { DocumentFormats } from "../ipp/formats.js";
import { jpegFormat } from "../ipp/image-format.js";
import { AIRPRINT_SUBTYPE, URF_MIME, takesUrf } from "../ipp/airprint.js";
import { UrfDecoder } from "../urf/decoder.js";
import { WebPages } from "../web/web.js";
import { WifiSetup } from "../wifi/setup.js";
import { CaptivePortal } from "../web/captive.js";
import { CaptiveDns } from "../dns/captive.js";
import { PrinterWebHost } from "./web-host.js";
import { Admission } from "../print/admission.js";

// The OAuth client a printer of this firmware is issued to when the
// configuration names none (the emulator takes any).
const DEFAULT_CLIENT_ID = "privet-printer-firmware";

// How long Identify-Printer blinks the indicator.
const IDENTIFY_MS = 5000;

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
  // Which Host names every front end answers to (DNS rebinding); the Node
  // host's front panel asks it too.
  readonly hosts: HostPolicy;
  readonly jobs: JobStore;
  // One large exchange at a time on the heap: the cloud's calls and IPP's attribute answers.
  private readonly turns = new Turns();
  readonly lifecycle: JobLifecycle;
  readonly spooler: Spooler;
  // The one settings table (device/settings) and the one device state.
  readonly settings: DeviceSettings;
  readonly state: DeviceState;
  readonly reset: FactoryReset;
  // Whether a job may print now: asked by Privet, IPP and the cloud alike.
  readonly admission: Admission;
  // The Cloud Print connection; absent in local-only mode (no URL).
  readonly cloud: Cloud | undefined;
  // IPP Everywhere at /ipp/print, on the same queue as Privet.
  readonly ipp: IppService;
  mdns: MdnsResponder | undefined;
  private mdnsSocket: MdnsSocket | undefined;
  // The Privet service, so a rename renames its instance too.
  private privetService: MdnsService | undefined;
  // Everything persistent goes through the two-slot journal.
  readonly storage: Storage;
  // The printer's own pages at "/", and Wi-Fi setup where the HAL has Wi-Fi.
  readonly web: WebPages;
  readonly wifi: WifiSetup | undefined;
  // Wall time from the network, where the configuration names time servers.
  readonly sntp: SntpClient | undefined;
  // While the setup access point is up: every name is the printer (DNS) and
  // every other site's page redirects to the setup page (HTTP).
  readonly captive: CaptivePortal;
  readonly captiveDns: CaptiveDns | undefined;

  constructor(private readonly hal: Hal, config: Partial<PrinterConfig> = {}) {
    this.config = { ...defaultPrinterConfig, ...config };
    this.sntp = this.timeClient();
    this.documentFormats = {
      "image/pwg-raster": () => pwgDecoder,
      "image/jpeg": jpegFormat(hal.engine.capabilities),
    };
    // AirPrint's raster, where the engine takes one of its two colour spaces.
    if (takesUrf(hal.engine.capabilities)) this.documentFormats[URF_MIME] = () => (sink, limits) => new UrfDecoder(sink, limits);
    this.storage = new SafeStorage(hal.storage);
    this.settings = deviceSettings(this.storage, this.config);
    this.reset = new FactoryReset(this.settings, hal.log);
    const serial = loadSerialNumber(this.storage, hal.random);
    this.device = new DeviceRecord(this.config, serial, this.settings);
    this.state = new DeviceState(hal.clock);
    this.tokens = new TokenEngine(hal.clock, hal.random);
    this.api = new PrivetApi(this.tokens);
    this.api.add({
      path: INFO_PATH,
      method: "GET",
      exposed: () => true,
      handle: (_request, response) => response.json(this.info()),
    });
    ({ jobs: this.jobs, lifecycle: this.lifecycle, spooler: this.spooler } = printPath(hal));
    this.updateState = followPrintPath(this.state, { engine: hal.engine, spooler: this.spooler, lifecycle: this.lifecycle }, () => this.clockNoticeItem());
    this.state.onChange(() => this.cloud?.stateChanged());
    this.admission = new Admission({
      state: this.state, spooler: this.spooler, open: () => this.printingExposed(), formats: () => this.documentFormatNames,
    });
    for (const route of printingRoutes({
      clock: hal.clock,
      engine: hal.engine,
      jobs: this.jobs,
      lifecycle: this.lifecycle,
      spooler: this.spooler,
      admission: this.admission,
      exposed: () => this.printingExposed(),
      maxDocumentBytes: this.config.maxDocumentBytes,
    })) this.api.add(route);
    this.cloud = this.config.url === "" ? undefined : this.connectCloud();
    const cloud = this.cloud;
    if (cloud) this.reset.add("cloud", () => cloud.factoryReset());
    hal.panel?.onButton((button) => this.pressed(button));
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
    this.captive = new CaptivePortal({ setupUrl: () => this.setupUrl(), ownHost: (request) => this.web.guard.hostAllowed(request) });
    this.captiveDns = this.wifi && hal.datagrams && this.config.wifiDnsPort !== undefined ? new CaptiveDns(hal.datagrams, hal.log) : undefined;
    this.wifi?.onAccessPoint((accessPoint) => this.accessPointChanged(accessPoint));
    // A board that boots onto its setup access point has no internet until
    // the person joins a network; SNTP's failed rounds then wait up to
    // minutes, so the join starts a fresh one.
    this.wifi?.onJoined(() => {
      if (this.started && this.sntp && this.sntp.state !== "set") this.sntp.start();
    });
    // The portal sees a request before any route does: its requests name
    // other sites, which every route of the printer would refuse.
    this.http = new HttpServer(hal.tcp, hal.clock, hal.log,
      { ...this.config.http, port: this.config.port, host: this.config.host },
      (request, response) => { if (!this.captive.answer(request, response)) this.router.handle(request, response); });
    let namedAs = this.device.name;
    this.device.onChange(() => {
      const previous = namedAs;
      namedAs = this.device.name;
      if (namedAs !== previous) {
        this.privetService?.update({ instance: namedAs });
        // Services named after the printer (IPP's) follow the rename too.
        for (const entry of this.mdnsServices) {
          if (entry.spec.instance !== previous) continue;
          entry.spec = { ...entry.spec, instance: namedAs };
          entry.live?.update({ instance: namedAs });
        }
      }
      this.mdns?.txtChanged();
      // A rename reaches the service within the reporting window.
      this.cloud?.stateChanged();
    });
    // As do settings changed here (the page, Privet, the panel), local_settings
    // current; local discovery turns mDNS and the local API on or off.
    this.settings.onChange((name) => {
      if (name === "localDiscovery" && this.started) void this.discoveryFollows();
      this.cloud?.stateChanged();
    });
  }

  // What IPP prints: a MIME type and the decoder for a job's ticket; the
  // first is the default. document-format-supported and TXT pdl follow it.
  private readonly documentFormats: DocumentFormats;

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
    const panel = hal.panel;
    return new IppService({
      clock: hal.clock, log: hal.log, engine: hal.engine, jobs: this.jobs, lifecycle: this.lifecycle, spooler: this.spooler,
      formats: this.documentFormats,
      turns: this.turns,
      device: () => this.ippDevice(),
      state: this.state,
      admission: this.admission,
      exposed: () => this.api.enabled,
      accepting: () => this.printingExposed(),
      // The panel's indicator blinks, its display (the console in the
      // simulator) shows the message; without a panel, the log does.
      identifyActions: panel ? ["flash", "display"] : ["display"],
      identify: (actions, message) => {
        hal.log("info", `identify: ${actions.join(", ")}${message ? `: ${message}` : ""}`);
        // A registration waiting for the button owns the panel until it is answered.
        if (!panel || this.cloud?.registration.phase === "confirming") return;
        if (actions.includes("display")) panel.message(message ?? `This is ${this.device.name}`);
        if (actions.includes("flash")) {
          panel.indicator("blink");
          hal.clock.setTimer(() => panel.indicator("off"), IDENTIFY_MS);
        }
      },
      limits: { ...defaultIppLimits, ...this.config.ipp },
      maxDocumentBytes: this.config.maxDocumentBytes,
    }, () => `${this.config.host}:${this.http.port}`);
  }

  // Where a person on the setup access point reaches the printer: the
  // access point's address on the board (listening everywhere), the address
  // the printer listens on in the simulator (whose access point is pretend).
  private portalAddress(accessPoint: { address: string }): string {
    return this.config.host === "0.0.0.0" ? accessPoint.address : this.config.host;
  }

  // Kept from WifiSetup's notices: the portal asks at every request, and
  // asking WifiSetup would read the stored network from storage each time.
  private accessPoint: { address: string } | undefined;

  setupUrl(): string | undefined {
    const accessPoint = this.accessPoint;
    if (!accessPoint) return undefined;
    const port = this.http.port;
    return `http://${this.portalAddress(accessPoint)}${port === 80 ? "" : `:${port}`}/wifi`;
  }

  private accessPointChanged(accessPoint: { address: string } | undefined): void {
    this.accessPoint = accessPoint;
    const dns = this.captiveDns;
    if (!dns) return;
    if (!accessPoint) return dns.stop();
    const bind = this.config.host === "0.0.0.0" ? undefined : this.config.host;
    dns.start(this.config.wifiDnsPort!, this.portalAddress(accessPoint), bind).catch((error: unknown) => {
      this.hal.log("warn", `captive DNS: cannot listen on UDP ${this.config.wifiDnsPort} (${String(error)}); phones will not open the setup page by themselves`);
    });
  }

  private timeClient(): SntpClient | undefined {
    const options = this.config.sntp;
    if (!options || options.servers.length === 0) return undefined;
    const hal = this.hal;
    if (!hal.datagrams) {
      hal.log("warn", "sntp: this platform has no UDP for the core; the clock stays as the host set it");
      return undefined;
    }
    const sntp = new SntpClient({ clock: hal.clock, datagrams: hal.datagrams, resolver: hal.resolver, random: hal.random, log: hal.log },
      { notBeforeMs: FIRMWARE_BUILT_MS, ...options });
    sntp.onChange(() => {
      this.clockChanged();
    });
    return sntp;
  }

  // Whether wall time can be trusted: SNTP has answered where it is
  // configured, and the clock reads a date this century in any case.
  clockSet(): boolean {
    return (this.sntp === undefined || this.sntp.state === "set") && wallClockPlausible(this.hal.clock);
  }

  // What the pages and semantic_state say about the clock while it is not set.
  clockNotice(): string | undefined {
    if (this.clockSet()) return undefined;
    if (!this.sntp) return "The printer's clock is not set";
    const error = this.sntp.lastError;
    return `Setting the clock from the network (${this.sntp.options.servers.join(", ")})${error ? `; last try: ${error}` : ""}`;
  }

  private cloudStarted = false;

  // The cloud's first call is TLS, whose certificates are dated: it waits for the clock.
  private clockChanged(): void {
    this.updateState();
    if (this.started && this.cloud && !this.cloudStarted && this.clockSet()) {
      this.hal.log("info", "cloud: the clock is set; connecting");
      this.cloudStarted = true;
      this.cloud.start();
    }
  }

  private connectCloud(): Cloud {
    const hal = this.hal;
    const options = this.config.cloud ?? {};
    const http = new HttpClient(hal, { ...options.http, allowPlainText: options.allowPlainText ?? options.http?.allowPlainText ?? false });
    const url = this.config.url.replace(/\/+$/, "");
    const api = new CloudApi(http, {
      url,
      tokenUrl: options.tokenUrl ?? defaultTokenUrl(url),
      clientId: options.clientId ?? DEFAULT_CLIENT_ID,
      clientSecret: options.clientSecret ?? "",
      proxy: options.proxy ?? `privet-${this.device.serialNumber}`,
    }, hal.random, this.turns);
    const cloud = new Cloud({
      api, clock: hal.clock, random: hal.random, storage: this.storage, log: hal.log, panel: hal.panel, host: this.cloudHost(),
      clockSet: () => this.clockSet(),
      channel: this.xmppChannel(),
      // Cloud jobs take the same path as local ones, checked as createjob checks a ticket.
      print: {
        lifecycle: this.lifecycle, spooler: this.spooler, admission: this.admission, accept: "image/pwg-raster",
        checkTicket: (text) => checkTicket(text, hal.engine.capabilities),
      },
    }, options);
    this.device.id = cloud.printerId;
    this.api.add(registerRoute({ exposed: () => !cloud.registered, register: (action, user) => cloud.register(action, user) }));
    this.api.add(accessTokenRoute({
      exposed: () => cloud.registered && this.settings.get("accessToken"),
      accessToken: (user) => cloud.accessToken(user),
    }));
    return cloud;
  }

  // The cloud's notification channel is the XMPP client: the two modules
  // stay apart and meet here.
  private xmppChannel(): ChannelFactory | undefined {
    const xmpp = this.config.cloud?.xmpp;
    if (!xmpp) return undefined;
    const hal = this.hal;
    return (params, listener) => new XmppClient(
      { tcp: hal.tcp, resolver: hal.resolver, tls: hal.tls, clock: hal.clock, random: hal.random, log: hal.log },
      { resource: `privet-${this.device.serialNumber.slice(0, 8)}`, ...xmpp, ...params },
      {
        state: (state, error) => {
          if (error) hal.log("info", `xmpp: ${state}: ${error.message}`);
          listener.state(state);
        },
        push: (push) => listener.push(push.kind, push.printerId),
        error: (error) => hal.log("info", `xmpp: ${error.message}`),
        refreshAccessToken: () => listener.refreshAccessToken(),
      },
    );
  }

  // What the cloud module may see and change of the device.
  private cloudHost(): CloudHost {
    const device = this.device;
    return {
      describe: () => {
        const fields: Array<[string, string]> = [
          ["name", device.name], ["default_display_name", device.name], ["description", device.description],
          ["uuid", device.serialNumber], ["manufacturer", device.manufacturer], ["model", device.model],
          ["firmware", device.firmware], ["gcp_version", "2.0"], ["use_cdd", "true"],
          ["semantic_state", JSON.stringify(semanticState(this.state))],
          ["capabilities", JSON.stringify(cloudDeviceDescription(this.hal.engine.capabilities))],
        ];
        fields.push(["setup_url", device.setupUrl ?? this.adminUrl()]);
        if (device.supportUrl) fields.push(["support_url", device.supportUrl]);
        if (device.updateUrl) fields.push(["update_url", device.updateUrl]);
        return fields;
      },
      localSettings: () => localSettingsOf(this.settings),
      applyLocalSettings: (settings) => applyLocalSettings(this.settings, settings),
      idChanged: (id) => {
        device.id = id;
        device.changed();
      },
      connectionChanged: (state) => {
        device.connectionState = state;
        device.changed();
      },
      semanticState: () => semanticState(this.state),
      reportFields: () => [["name", device.name], ["default_display_name", device.name], ["description", device.description]],
    };
  }

  localSettings(): LocalSettings {
    return localSettingsOf(this.settings);
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
    const host = this.mdns ? `${this.mdns.hostName}.local` : joined ?? (this.config.host === "0.0.0.0" ? "127.0.0.1" : this.config.host);
    return `http://${host}:${this.http.port}/`;
  }

  // Local printing is offered out of the box only by a printer without a
  // cloud to register with; one with a Cloud Print URL offers it once
  // registered (Privet 6.1), and printer/local_printing_enabled can turn it off.
  printingExposed(): boolean {
    const allowed = this.config.url === "" || this.device.id !== "";
    return allowed && this.settings.get("localPrinting");
  }

  // The device state's notice while the clock is not set; pushed again when SNTP moves.
  private readonly updateState: () => void;

  private clockNoticeItem(): { code: string; description: string } | undefined {
    const notice = this.clockNotice();
    return notice === undefined ? undefined : { code: "setting-clock", description: notice };
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
    else if (this.localDiscovery) await this.startDiscovery(port);
    this.sntp?.start();
    if (this.cloud && this.clockSet()) {
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

  // mDNS and the local API follow the setting, whoever changed it.
  private discoveryFollows(): Promise<void> {
    const enabled = this.localDiscovery;
    if (enabled === this.api.enabled) return this.discoveryChange ?? Promise.resolve();
    this.api.enabled = enabled;
    this.hal.log("info", `local discovery ${enabled ? "on" : "off"}`);
    const change = !enabled ? this.stopDiscovery() : this.hal.udp && !this.mdns ? this.startDiscovery(this.http.port) : Promise.resolve();
    this.discoveryChange = change;
    return change;
  }

  private discoveryChange: Promise<void> | undefined;

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
    this.privetService = responder.add({ instance: this.device.name, type: "_privet._tcp", subtypes: ["_printer"], port, txt: () => privetTxt(this.device) });
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
    this.started = false;
    this.sntp?.stop();
    this.captiveDns?.stop();
    this.cloudStarted = false;
    this.cloud?.stop();
    this.wifi?.stop();
    this.http.stop();
    return this.stopDiscovery();
  }

  private stopDiscovery(): Promise<void> {
    const responder = this.mdns;
    const socket = this.mdnsSocket;
    this.mdns = undefined;
    this.privetService = undefined;
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
