import { clampXmppTimeout, SETTING_DEFAULTS, type DeviceSettings } from "../device/settings.js";
import { asBoolean, asNumber, asObject } from "./values.js";

// local_settings (Privet 4.1): what the owner allows on the local network.
// A key the device leaves out means it lacks the function, so the set below
// names exactly what this firmware does (it has no cloud conversion).
export interface LocalSettings {
  local_discovery: boolean;
  access_token_enabled: boolean;
  "printer/local_printing_enabled": boolean;
  xmpp_timeout_value: number;
}

// What a newly registering device sends (Privet 4.1.1): the device's defaults in the cloud's words.
export const DEFAULT_LOCAL_SETTINGS: LocalSettings = {
  local_discovery: SETTING_DEFAULTS.localDiscovery,
  access_token_enabled: SETTING_DEFAULTS.accessToken,
  "printer/local_printing_enabled": SETTING_DEFAULTS.localPrinting,
  xmpp_timeout_value: SETTING_DEFAULTS.xmppTimeout,
};

// The device's settings as local_settings: a view, not a copy.
export function localSettingsOf(settings: DeviceSettings): LocalSettings {
  return {
    local_discovery: settings.get("localDiscovery"),
    access_token_enabled: settings.get("accessToken"),
    "printer/local_printing_enabled": settings.get("localPrinting"),
    xmpp_timeout_value: settings.get("xmppTimeout"),
  };
}

// Written one setting at a time; local_discovery last, as it is the one that
// may take the whole local API away.
export function applyLocalSettings(settings: DeviceSettings, local: LocalSettings): void {
  settings.set("localPrinting", local["printer/local_printing_enabled"]);
  settings.set("accessToken", local.access_token_enabled);
  settings.set("xmppTimeout", local.xmpp_timeout_value);
  settings.set("localDiscovery", local.local_discovery);
}

// Takes the keys of a pending (or current) object that this device supports
// and that have a readable value, over base; unknown keys and odd values are
// ignored rather than failing the whole update.
export function mergeLocalSettings(base: LocalSettings, changes: unknown): LocalSettings {
  const out = { ...base };
  const object = asObject(changes);
  if (!object) return out;
  for (const key of ["local_discovery", "access_token_enabled", "printer/local_printing_enabled"] as const) {
    const value = asBoolean(object[key]);
    if (value !== undefined) out[key] = value;
  }
  const timeout = asNumber(object.xmpp_timeout_value);
  if (timeout !== undefined) out.xmpp_timeout_value = clampXmppTimeout(timeout);
  return out;
}

export function sameLocalSettings(a: LocalSettings, b: LocalSettings): boolean {
  return a.local_discovery === b.local_discovery && a.access_token_enabled === b.access_token_enabled
    && a["printer/local_printing_enabled"] === b["printer/local_printing_enabled"] && a.xmpp_timeout_value === b.xmpp_timeout_value;
}

// The only shape a device ever sends: current, never pending (Privet 4.1.3.1).
export function localSettingsParam(settings: LocalSettings): string {
  return JSON.stringify({ current: settings });
}
