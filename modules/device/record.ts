import type { DeviceSettings } from "./settings.js";

// The one record of who the device is: identity (serial, make, model,
// firmware), its name and description (the settings' own, read through), the
// cloud's id for it and the connection. /privet/info, the TXT record (Privet
// 2.2), IPP's printer attributes and the cloud's description are views of it.

export type ConnectionState = "online" | "offline" | "connecting" | "not-configured";

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

export class DeviceRecord {
  url: string;
  // Device id from the cloud; empty until registered.
  id = "";
  connectionState: ConnectionState;
  readonly manufacturer: string;
  readonly model: string;
  readonly firmware: string;
  readonly setupUrl?: string;
  readonly supportUrl?: string;
  readonly updateUrl?: string;
  private readonly listeners: Array<() => void> = [];

  constructor(description: DeviceDescription, readonly serialNumber: string, private readonly settings: DeviceSettings) {
    this.url = description.url;
    this.manufacturer = description.manufacturer;
    this.model = description.model;
    this.firmware = description.firmware;
    this.setupUrl = description.setupUrl;
    this.supportUrl = description.supportUrl;
    this.updateUrl = description.updateUrl;
    // Without a cloud URL there is nothing to connect to (Privet 2.2.7).
    this.connectionState = this.url === "" ? "not-configured" : "connecting";
    // A rename or a new description is a change of the record.
    settings.onChange((name) => {
      if (name === "name" || name === "description") this.changed();
    });
  }

  get name(): string {
    return this.settings.get("name");
  }

  set name(name: string) {
    this.settings.set("name", name);
  }

  get description(): string {
    return this.settings.get("description");
  }

  set description(description: string) {
    this.settings.set("description", description);
  }

  // Callers change fields and then call changed(), so a TXT re-announcement
  // (Privet 3.3) follows every change that matters to it.
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  changed(): void {
    for (const listener of this.listeners) listener();
  }
}
