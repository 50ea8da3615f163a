import type { Storage } from "../hal/storage.js";
import type { Job } from "../jobs/job.js";
import type { DeviceRecord } from "../privet/device.js";
import type { WebHost, WebSettings } from "../web/host.js";
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

export function printerWebHost(printer: Printer, wifi: WifiSetup | undefined): WebHost {
  const device = printer.device;
  return {
    status: () => {
      printer.refreshDeviceState();
      const job: Job | undefined = printer.spooler.active;
      return { deviceState: device.deviceState, fault: device.fault?.description, job, connection: device.connectionState };
    },
    jobs: () => printer.jobs.list(),
    identity: () => {
      const addresses = [`${printer.config.host === "0.0.0.0" ? "any address" : printer.config.host}:${printer.http.port}`];
      const status = wifi?.view().status;
      if (status?.address) addresses.unshift(`${status.address}:${printer.http.port} (Wi-Fi ${status.ssid ?? ""})`);
      if (printer.mdns) addresses.push(`${printer.mdns.hostName}.local:${printer.http.port}`);
      return {
        name: device.name, description: device.description, manufacturer: device.manufacturer, model: device.model,
        serialNumber: device.serialNumber, firmware: device.firmware, addresses, uptimeSeconds: printer.uptimeSeconds(),
      };
    },
    registration: () => {
      const cloud = printer.cloud;
      return {
        available: cloud !== undefined,
        registered: cloud?.registered ?? false,
        owner: cloud?.owner ?? "",
        printerId: cloud?.printerId ?? "",
        phase: cloud?.registration.phase ?? "idle",
      };
    },
    register: async (action, user) => {
      if (!printer.cloud) return { error: "invalid_action", description: "this printer has no Cloud Print service" };
      return printer.cloud.register(action, user);
    },
    settings: () => ({
      name: device.name, description: device.description,
      localDiscovery: printer.localDiscovery, localPrinting: printer.settings.get("localPrinting"),
    }),
    saveSettings: (settings: WebSettings) => {
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
    },
    factoryReset: () => printer.factoryReset(),
    wifi,
  };
}
