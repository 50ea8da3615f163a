import type { Storage } from "../hal/storage.js";
import type { Job } from "../jobs/job.js";
import type { DeviceRecord } from "../device/record.js";
import type { WebHost, WebIdentity, WebRegistrationState, WebSettings, WebStatus } from "../web/host.js";
import type { WifiSetup } from "../web/wifi-setup.js";
import type { Printer } from "./printer.js";

// The printer as its pages see it. The name and description a person gives
// are kept in the journal and win over the configured ones at boot; a
// factory reset brings the configured ones back.

const NAME_KEY = "name";
const DESCRIPTION_KEY = "note";

export function loadDeviceNames(storage: Storage, device: DeviceRecord): void {
  device.name = storage.read(NAME_KEY) ?? device.name;
  device.description = storage.read(DESCRIPTION_KEY) ?? device.description;
}

export function forgetDeviceNames(storage: Storage, device: DeviceRecord, configured: { name: string; description: string }): void {
  storage.remove(NAME_KEY);
  storage.remove(DESCRIPTION_KEY);
  if (device.name === configured.name && device.description === configured.description) return;
  device.name = configured.name;
  device.description = configured.description;
  device.changed();
}

// A class, not an object of closures: its methods live with the code (in
// flash on the board), and an instance costs two slots of the XS heap.
export class PrinterWebHost implements WebHost {
  constructor(private readonly printer: Printer, readonly wifi: WifiSetup | undefined) {}

  status(): WebStatus {
    const printer = this.printer;
    printer.refreshDeviceState();
    const device = printer.device;
    const notice = printer.clockNotice();
    const setBy = printer.sntp?.setBy;
    const clock = notice !== undefined ? { set: false, text: notice } : setBy !== undefined ? { set: true, text: `Set from ${setBy}` } : undefined;
    return { deviceState: device.deviceState, fault: device.fault?.description, job: printer.spooler.active, connection: device.connectionState, clock };
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
    const printer = this.printer;
    return {
      name: printer.device.name, description: printer.device.description,
      localDiscovery: printer.localDiscovery, localPrinting: printer.settings.get("localPrinting"),
    };
  }

  saveSettings(settings: WebSettings): void {
    const printer = this.printer;
    const device = printer.device;
    if (settings.name !== device.name || settings.description !== device.description) {
      printer.storage.write(NAME_KEY, settings.name);
      printer.storage.write(DESCRIPTION_KEY, settings.description);
      device.name = settings.name;
      device.description = settings.description;
      // /privet/info reads the record; TXT is re-announced (ty, note).
      device.changed();
    }
    printer.settings.set("localPrinting", settings.localPrinting);
    void printer.setLocalDiscovery(settings.localDiscovery);
  }

  factoryReset(): void {
    this.printer.factoryReset();
  }
}
