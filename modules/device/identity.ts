import { JOURNAL_KEYS } from "./keys.js";
import type { Random } from "../hal/random.js";
import type { Storage } from "../hal/storage.js";

const SERIAL_KEY = JOURNAL_KEYS.serial;

// serial_number must be a UUID and should be the same everywhere and always
// (Privet 4.2.2), so it is made once and kept.
export function loadSerialNumber(storage: Storage, random: Random): string {
  const stored = storage.read(SERIAL_KEY);
  // A literal here, not a module constant (README, "Preloaded regular expressions").
  if (stored !== undefined && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(stored)) return stored;
  const serial = randomUuid(random);
  storage.write(SERIAL_KEY, serial);
  return serial;
}

// RFC 9562 version 4.
export function randomUuid(random: Random): string {
  const b = new Uint8Array(16);
  random.fill(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  let hex = "";
  for (let i = 0; i < 16; i++) {
    hex += (b[i] < 16 ? "0" : "") + b[i].toString(16);
    if (i === 3 || i === 5 || i === 7 || i === 9) hex += "-";
  }
  return hex;
}
