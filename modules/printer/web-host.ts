import type { DeviceRecord } from "../device/record.js";
import type { FactoryReset } from "../device/reset.js";
import type { DeviceSettings } from "../device/settings.js";
import type { DeviceState } from "../device/state.js";
import type { Cloud } from "../cloud/cloud.js";
import type { Job } from "../jobs/job.js";
import type { JobStore } from "../jobs/store.js";
import type { Spooler } from "../print/spooler.js";
import type { WebHost, WebIdentity, WebRegistrationState, WebSettings, WebStatus } from "../web/host.js";
import type { WifiSetup } from "../wifi/setup.js";

// What the pages' host reads of the printer: the device's record, state and
// settings, and where it answers. Declared here, so this file does not import
// printer.ts (which builds it).
export interface PagesPrinter {
  readonly device: DeviceRecord;
  readonly state: DeviceState;
  readonly settings: DeviceSettings;
  readonly reset: FactoryReset;
  readonly jobs: JobStore;
  readonly spooler: Spooler;
  readonly cloud: Cloud | undefined;
  readonly config: { host: string };
  readonly http: { port: number };
  readonly mdns: { hostName: string } | undefined;
  readonly sntp: { setBy?: string } | undefined;
  clockNotice(): string | undefined;
  clockSet(): boolean;
  uptimeSeconds(): number;
}

// The printer as its pages see it: views of the device's facts, and changes
// made through the settings table (whose listeners rename, re-announce and
// turn discovery on or off).
// A class, not an object of closures: its methods live with the code (in
// flash on the board), and an instance costs two slots of the XS heap.
export class PrinterWebHost implements WebHost {
  constructor(private readonly printer: PagesPrinter, readonly wifi: WifiSetup | undefined) {}

  status(): WebStatus {
    const printer = this.printer;
    const state = printer.state;
    const notice = printer.clockNotice();
    const setBy = printer.sntp?.setBy;
    const clock = notice !== undefined ? { set: false, text: notice } : setBy !== undefined ? { set: true, text: `Set from ${setBy}` } : undefined;
    return { deviceState: state.activity, fault: state.fault?.description, job: printer.spooler.active, connection: printer.device.connectionState, clock };
  }

  jobs(): Job[] {
    return this.printer.jobs.list();
  }

  identity(): WebIdentity {
    const printer = this.printer;
    const device = printer.device;
    const port = printer.http.port;
    const addresses = [`${printer.config.host === "0.0.0.0" ? "any address" : printer.config.host}:${port}`];
    const status = this.wifi?.view().status;
    if (status?.address) addresses.unshift(`${status.address}:${port} (Wi-Fi ${status.ssid ?? ""})`);
    if (printer.mdns) addresses.push(`${printer.mdns.hostName}.local:${port}`);
    return {
      name: device.name, description: device.description, manufacturer: device.manufacturer, model: device.model,
      serialNumber: device.serialNumber, firmware: device.firmware, addresses, uptimeSeconds: printer.uptimeSeconds(),
      port, localName: printer.mdns ? `${printer.mdns.hostName}.local` : undefined,
    };
  }

  registration(): WebRegistrationState {
    const cloud = this.printer.cloud;
    return {
      available: cloud !== undefined,
      registered: cloud?.registered ?? false,
      owner: cloud?.owner ?? "",
      printerId: cloud?.printerId ?? "",
      phase: cloud?.registration.phase ?? "idle",
      waitingForClock: !this.printer.clockSet(),
    };
  }

  async register(action: string, user: string): Promise<Record<string, unknown>> {
    const cloud = this.printer.cloud;
    if (!cloud) return { error: "invalid_action", description: "this printer has no Cloud Print service" };
    return cloud.register(action, user);
  }

  settings(): WebSettings {
    const settings = this.printer.settings;
    return {
      name: settings.get("name"), description: settings.get("description"),
      localDiscovery: settings.get("localDiscovery"), localPrinting: settings.get("localPrinting"),
    };
  }

  // /privet/info reads the record; TXT is re-announced (ty, note) by the
  // record's listeners; discovery follows its setting.
  saveSettings(settings: WebSettings): void {
    const table = this.printer.settings;
    table.set("name", settings.name);
    table.set("description", settings.description);
    table.set("localPrinting", settings.localPrinting);
    table.set("localDiscovery", settings.localDiscovery);
  }

  factoryReset(): void {
    this.printer.reset.run();
  }
}
