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

// What a newly registering device sends (Privet 4.1.1).
export const DEFAULT_LOCAL_SETTINGS: LocalSettings = {
  local_discovery: true,
  access_token_enabled: true,
  "printer/local_printing_enabled": true,
  xmpp_timeout_value: 300,
};

// Privet 6.1 asks for at least 300 s by default; below a minute the pings
// would be the device's main work.
const MIN_XMPP_TIMEOUT_S = 60;
const MAX_XMPP_TIMEOUT_S = 86_400;

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
  if (timeout !== undefined) out.xmpp_timeout_value = Math.min(MAX_XMPP_TIMEOUT_S, Math.max(MIN_XMPP_TIMEOUT_S, Math.round(timeout)));
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
