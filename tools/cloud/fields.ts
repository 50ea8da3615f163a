import { createHash } from "node:crypto";
import type { Params } from "./decode.js";
import type { LocalSettingsValues, PrinterRecord } from "./store.js";

// The printer fields /register and /update share (reference 1.1), checked once here.

export class FieldError extends Error {}

const MAX_TEXT = 4096;
const MAX_TAGS = 100;
const MAX_TAG = 1024;

function text(params: Params, name: string): string | undefined {
  const value = params.get(name);
  if (value !== undefined && value.length > MAX_TEXT) throw new FieldError(`'${name}' is longer than ${MAX_TEXT} characters`);
  return value;
}

// CDD and CDS are JSON; a GCP 1.x client may still send XML or PPD text, kept as it came.
function jsonOrText(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

const SIMPLE_FIELDS: Array<[param: string, key: keyof PrinterRecord]> = [
  ["default_display_name", "defaultDisplayName"],
  ["display_name", "displayName"],
  ["description", "description"],
  ["uuid", "uuid"],
  ["manufacturer", "manufacturer"],
  ["model", "model"],
  ["gcp_version", "gcpVersion"],
  ["setup_url", "setupUrl"],
  ["support_url", "supportUrl"],
  ["update_url", "updateUrl"],
  ["firmware", "firmware"],
  ["status", "status"],
  ["notification_channel", "notificationChannel"],
];

// Applies what the request carries; answers whether anything changed.
export function applyPrinterFields(printer: PrinterRecord, params: Params): boolean {
  let changed = false;
  const set = <K extends keyof PrinterRecord>(key: K, value: PrinterRecord[K]) => {
    if (JSON.stringify(printer[key]) !== JSON.stringify(value)) { printer[key] = value; changed = true; }
  };
  // `printer` is the obsolete name of `name`, still sent by gcp20 and the Python samples.
  const name = text(params, "name") ?? text(params, "printer");
  if (name !== undefined) {
    if (name.trim() === "") throw new FieldError("the printer name is empty");
    set("name", name);
  }
  const proxy = text(params, "proxy");
  if (proxy !== undefined) set("proxy", proxy);
  for (const [param, key] of SIMPLE_FIELDS) {
    const value = text(params, param);
    if (value !== undefined) set(key, value as never);
  }
  const capabilities = params.get("capabilities");
  if (capabilities !== undefined) {
    set("capabilities", jsonOrText(capabilities));
    // Connectors compare hashes to skip uploads (001); MD5 hex is what Chrome computed.
    set("capsHash", text(params, "capsHash") ?? createHash("md5").update(capabilities).digest("hex"));
  } else {
    const hash = text(params, "capsHash");
    if (hash !== undefined) set("capsHash", hash);
  }
  const semantic = params.get("semantic_state");
  if (semantic !== undefined) {
    const parsed = jsonOrText(semantic);
    if (typeof parsed !== "object" || parsed === null) throw new FieldError("semantic_state is not a JSON object");
    set("semanticState", parsed);
  }
  const removeTag = params.get("remove_tag");
  let tags = printer.tags;
  if (removeTag !== undefined) {
    if (removeTag.length > 256) throw new FieldError("remove_tag is longer than 256 characters");
    // A quantified group is how a pattern backtracks for ever; tags like __cp__.* never need one.
    if (/\)[*+?{]/.test(removeTag)) throw new FieldError("remove_tag may not repeat a group");
    let pattern: RegExp;
    try {
      pattern = new RegExp(`^(?:${removeTag})$`);
    } catch {
      throw new FieldError("remove_tag is not a regular expression");
    }
    tags = tags.filter((tag) => !pattern.test(tag));
  }
  const added = params.all("tag");
  for (const tag of added) if (tag.length > MAX_TAG) throw new FieldError(`a tag is longer than ${MAX_TAG} characters`);
  tags = [...tags, ...added.filter((tag) => !tags.includes(tag))];
  if (tags.length > MAX_TAGS) throw new FieldError(`more than ${MAX_TAGS} tags`);
  set("tags", tags);
  return changed;
}

const KNOWN_SETTINGS: Record<string, "boolean" | "number"> = {
  local_discovery: "boolean",
  access_token_enabled: "boolean",
  "printer/local_printing_enabled": "boolean",
  "printer/conversion_printing_enabled": "boolean",
  xmpp_timeout_value: "number",
};

export interface LocalSettingsParam { current?: LocalSettingsValues; pending?: LocalSettingsValues }

export function parseLocalSettings(value: string): LocalSettingsParam {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new FieldError("local_settings is not JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new FieldError("local_settings is not a JSON object");
  const out: LocalSettingsParam = {};
  for (const [section, body] of Object.entries(parsed)) {
    if (section !== "current" && section !== "pending") throw new FieldError(`local_settings has '${section}'; only 'current' and 'pending' exist`);
    out[section] = settingsValues(body, section);
  }
  return out;
}

export function settingsValues(body: unknown, section: string): LocalSettingsValues {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new FieldError(`local_settings.${section} is not an object`);
  const values: LocalSettingsValues = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    const type = KNOWN_SETTINGS[key];
    if (type !== undefined && typeof value !== type) throw new FieldError(`local_settings.${section}.${key} must be a ${type}`);
    // Keys we do not know are a vendor's business, as long as they stay simple values.
    if (type === undefined && !["boolean", "number", "string"].includes(typeof value)) throw new FieldError(`local_settings.${section}.${key} must be a simple value`);
    if (key === "xmpp_timeout_value" && (!Number.isInteger(value) || (value as number) <= 0)) throw new FieldError("xmpp_timeout_value must be a positive whole number of seconds");
    values[key] = value as boolean | number | string;
  }
  return values;
}

export function settingsKind(key: string): "boolean" | "number" | undefined {
  return KNOWN_SETTINGS[key];
}

// Pending is satisfied once the device's current holds every value it asked for.
export function pendingSatisfied(current: LocalSettingsValues, pending: LocalSettingsValues): boolean {
  return Object.entries(pending).every(([key, value]) => current[key] === value);
}
