// Readers for the service's JSON that take every form real answers had:
// numbers and booleans sometimes came as strings ("token_duration": "898"),
// and a field may be missing or of a type nobody documented. Each returns
// undefined for anything it cannot read, so callers decide what is required.

export type Json = Record<string, unknown>;

export function asObject(value: unknown): Json | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? value as Json : undefined;
}

export function asString(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

export function asNumber(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}

export function asBoolean(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (value === "true" || value === 1 || value === "1") return true;
  if (value === "false" || value === 0 || value === "0") return false;
  return undefined;
}

// A non-empty string field, or undefined.
export function text(object: Json, name: string): string | undefined {
  const value = asString(object[name]);
  return value === undefined || value === "" ? undefined : value;
}
