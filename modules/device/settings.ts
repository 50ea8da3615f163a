import type { Storage } from "../hal/storage.js";
import { JOURNAL_KEYS } from "./keys.js";

// Device settings held in memory: read from storage once at boot and written
// through on change, so answering a request never touches flash (slow on the
// board, and worn by every write).

export type SettingValue = string | number | boolean;

export class Settings<T extends Record<string, SettingValue>> {
  private readonly values: T;
  private readonly listeners: Array<(name: keyof T) => void> = [];

  // keys: the storage key of each setting (the ESP32's NVS takes at most 15
  // characters, the journal's slot suffix included, so keep them short).
  constructor(private readonly storage: Storage, private readonly keys: { [K in keyof T]: string }, private readonly defaults: T) {
    const values = { ...defaults };
    for (const name of Object.keys(defaults) as Array<keyof T>) {
      const parsed = parse(storage.read(keys[name]), defaults[name]);
      if (parsed !== undefined) values[name] = parsed as T[keyof T];
    }
    this.values = values;
  }

  get<K extends keyof T>(name: K): T[K] {
    return this.values[name];
  }

  // Returns whether the value changed; only a change is written.
  set<K extends keyof T>(name: K, value: T[K]): boolean {
    if (this.values[name] === value) return false;
    this.storage.write(this.keys[name], String(value));
    this.values[name] = value;
    for (const listener of this.listeners.slice()) listener(name);
    return true;
  }

  onChange(listener: (name: keyof T) => void): void {
    this.listeners.push(listener);
  }

  // Factory reset: every key leaves the journal, so a later firmware's
  // defaults (or the configured name) apply; listeners hear of each change.
  reset(): void {
    const changed: Array<keyof T> = [];
    for (const name of Object.keys(this.defaults) as Array<keyof T>) {
      this.storage.remove(this.keys[name]);
      if (this.values[name] !== this.defaults[name]) changed.push(name);
      this.values[name] = this.defaults[name];
    }
    for (const name of changed) for (const listener of this.listeners.slice()) listener(name);
  }
}

// The one table of the device's settings (Privet 4.1's local_settings, the
// pages' name and description): keys in the journal, defaults, and what a
// value may be. The cloud's local_settings, the pages' form and /privet/info
// read and write these; none keeps a copy.
export type DeviceSettingValues = {
  name: string;
  description: string;
  localDiscovery: boolean;
  localPrinting: boolean;
  accessToken: boolean;
  // Seconds between XMPP pings (xmpp_timeout_value).
  xmppTimeout: number;
};

export type DeviceSettings = Settings<DeviceSettingValues>;

// What a newly registering device sends (Privet 4.1.1); name and description
// default to the configured ones.
export const SETTING_DEFAULTS: Omit<DeviceSettingValues, "name" | "description"> = {
  localDiscovery: true,
  localPrinting: true,
  accessToken: true,
  xmppTimeout: 300,
};

// Privet 6.1 asks for at least 300 s by default; below a minute the pings
// would be the device's main work.
export const XMPP_TIMEOUT_MIN_S = 60;
export const XMPP_TIMEOUT_MAX_S = 86_400;
// ty and note of the TXT record must fit a DNS-SD string with room to spare.
export const MAX_NAME = 64;
export const MAX_DESCRIPTION = 128;

export function clampXmppTimeout(seconds: number): number {
  return Math.min(XMPP_TIMEOUT_MAX_S, Math.max(XMPP_TIMEOUT_MIN_S, Math.round(seconds)));
}

// Why a name or description cannot be taken, in words for a person.
export function nameProblem(name: string): string | undefined {
  return name === "" || name.length > MAX_NAME ? `The name must have 1 to ${MAX_NAME} characters.` : undefined;
}

export function descriptionProblem(description: string): string | undefined {
  return description.length > MAX_DESCRIPTION ? `The description may have up to ${MAX_DESCRIPTION} characters.` : undefined;
}

// A module constant: on the board it stays in flash with the code.
const SETTING_KEYS: { [K in keyof DeviceSettingValues]: string } = {
  name: JOURNAL_KEYS.name, description: JOURNAL_KEYS.description, localDiscovery: JOURNAL_KEYS.localDiscovery,
  localPrinting: JOURNAL_KEYS.localPrinting, accessToken: JOURNAL_KEYS.accessToken, xmppTimeout: JOURNAL_KEYS.xmppTimeout,
};

export function deviceSettings(storage: Storage, configured: { name: string; description: string }): DeviceSettings {
  return new Settings<DeviceSettingValues>(storage, SETTING_KEYS, { ...SETTING_DEFAULTS, name: configured.name, description: configured.description });
}

// A stored value of the wrong shape (a torn write that passed, an older
// firmware's format) falls back to the default rather than failing boot.
function parse(text: string | undefined, fallback: SettingValue): SettingValue | undefined {
  if (text === undefined) return undefined;
  if (typeof fallback === "boolean") return text === "true" ? true : text === "false" ? false : undefined;
  if (typeof fallback === "number") {
    const n = Number(text);
    return text.trim() !== "" && Number.isFinite(n) ? n : undefined;
  }
  return text;
}
