// The one record of what the device says about itself. /privet/info and the
// DNS-SD TXT record are both read from here, so they cannot disagree (Privet 2.2).

export type ConnectionState = "online" | "offline" | "connecting" | "not-configured";
export type DeviceStateName = "idle" | "processing" | "stopped";

export interface DeviceDescription {
  name: string;
  description: string;
  manufacturer: string;
  model: string;
  firmware: string;
  // Cloud Print base URL; empty when the printer runs local-only.
  url: string;
  setupUrl?: string;
  supportUrl?: string;
  updateUrl?: string;
}

export interface CloudDeviceState {
  version: "1.0";
  printer: { state: "IDLE" | "PROCESSING" | "STOPPED"; [key: string]: unknown };
}

export class DeviceRecord {
  name: string;
  description: string;
  url: string;
  // Device id from the cloud; empty until registered.
  id = "";
  connectionState: ConnectionState;
  deviceState: DeviceStateName = "idle";
  readonly manufacturer: string;
  readonly model: string;
  readonly firmware: string;
  readonly setupUrl?: string;
  readonly supportUrl?: string;
  readonly updateUrl?: string;
  private readonly listeners: Array<() => void> = [];

  constructor(description: DeviceDescription, readonly serialNumber: string) {
    this.name = description.name;
    this.description = description.description;
    this.url = description.url;
    this.manufacturer = description.manufacturer;
    this.model = description.model;
    this.firmware = description.firmware;
    this.setupUrl = description.setupUrl;
    this.supportUrl = description.supportUrl;
    this.updateUrl = description.updateUrl;
    // Without a cloud URL there is nothing to connect to (Privet 2.2.7).
    this.connectionState = this.url === "" ? "not-configured" : "connecting";
  }

  // Callers change fields and then call changed(), so a TXT re-announcement
  // (Privet 3.3) follows every change that matters to it.
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  changed(): void {
    for (const listener of this.listeners) listener();
  }

  // Set while the engine reports a fault; shown in semantic_state.
  fault: { code: string; description: string } | undefined;
  // Something a person should know that is not a fault (the clock being set);
  // an INFO item of semantic_state.
  notice: { code: string; description: string } | undefined;

  semanticState(): CloudDeviceState {
    const state = this.deviceState === "idle" ? "IDLE" : this.deviceState === "processing" ? "PROCESSING" : "STOPPED";
    const printer: CloudDeviceState["printer"] = { state };
    const items: Array<{ state: string; description: string; vendor_id: string }> = [];
    if (this.fault) {
      items.push({ state: "ERROR", description: this.fault.description, vendor_id: this.fault.code });
      if (this.fault.code === "media-empty") printer.input_tray_state = { item: [{ vendor_id: "tray-1", state: "EMPTY" }] };
    }
    if (this.notice) items.push({ state: "INFO", description: this.notice.description, vendor_id: this.notice.code });
    if (items.length > 0) printer.vendor_state = { item: items };
    return { version: "1.0", printer };
  }

  // DNS-SD TXT pairs in the order Privet 2.2 gives; txtvers must come first.
  txt(): Array<[string, string]> {
    const pairs: Array<[string, string]> = [["txtvers", "1"], ["ty", this.name]];
    if (this.description !== "") pairs.push(["note", this.description]);
    pairs.push(["url", this.url], ["type", "printer"], ["id", this.id], ["cs", this.connectionState]);
    return pairs;
  }
}
