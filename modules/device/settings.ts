import type { Storage } from "../hal/storage.js";

// Device settings held in memory: read from storage once at boot and written
// through on change, so answering a request never touches flash (slow on the
// board, and worn by every write).

export type SettingValue = string | number | boolean;

export class Settings<T extends Record<string, SettingValue>> {
  private readonly values: T;
  private readonly listeners: Array<(name: keyof T) => void> = [];

  // keys: the storage key of each setting (the ESP32's NVS takes at most 15
  // characters, the journal's slot suffix included, so keep them short).
  constructor(private readonly storage: Storage, private readonly keys: { [K in keyof T]: string }, defaults: T) {
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
