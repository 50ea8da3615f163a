import { fitUtf8, utf8Encode } from "../text/utf8.js";
import type { Name } from "./message.js";

// A DNS-SD service (RFC 6763) as a front end publishes it, and the rules its
// names follow: what a type looks like, how long a label may be, and the
// next name to try when one is taken.

export type TxtPairs = Array<[string, string]>;

export interface ServiceSpec {
  // The name people see; a conflict makes "Office" "Office (2)" for this service only.
  instance: string;
  // "_ipp._tcp": service label and protocol label (RFC 6763 7).
  type: string;
  // Labels such as "_print", published as _print._sub._ipp._tcp.local (RFC 6763 7.1).
  subtypes?: string[];
  port: number;
  // A function is read again on txtChanged(), so the TXT can follow a record
  // that changes under it (Privet's device record).
  txt: TxtPairs | (() => TxtPairs);
}

export type ServiceState = "idle" | "probing" | "announcing" | "ready" | "failed" | "removed";

// What add() hands back: the service as published now, and the two ways a
// front end changes it.
export interface MdnsService {
  readonly instanceName: string;
  readonly type: string;
  readonly state: ServiceState;
  readonly port: number;
  // A new instance name or type is a new unique name: goodbye to the old one,
  // then probing. Port and subtypes are re-announced; a TXT that changed is
  // re-announced alone (RFC 6762 8.4).
  update(changes: Partial<ServiceSpec>): void;
  // A goodbye for this service's records only.
  remove(): void;
}

export const LOCAL = "local";
// Fixed memory: a printer publishes a handful of services, not a directory.
export const MAX_SERVICES = 8;
export const MAX_SUBTYPES = 8;
const MAX_LABEL_BYTES = 63;

// "_ipp._tcp" -> ["_ipp", "_tcp", "local"]. RFC 6335 5.1: a service name is
// 1-15 letters, digits and hyphens; DNS-SD adds the underscore (RFC 6763 7).
export function serviceType(type: string): Name {
  const match = /^(_[A-Za-z0-9-]{1,15})\.(_tcp|_udp)$/.exec(type);
  if (!match) throw new RangeError(`mdns: "${type}" is not a service type like "_ipp._tcp"`);
  return [match[1], match[2], LOCAL];
}

export function checkService(subtypes: string[], port: number): void {
  if (subtypes.length > MAX_SUBTYPES) throw new RangeError(`mdns: at most ${MAX_SUBTYPES} subtypes`);
  for (const subtype of subtypes) {
    const bytes = utf8Encode(subtype).length;
    if (bytes === 0 || bytes > MAX_LABEL_BYTES) throw new RangeError(`mdns: subtype "${subtype}" is not a DNS label`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`mdns: port ${port}`);
}

// "Printer" -> "Printer (2)" -> "Printer (3)" (RFC 6763 appendix D style).
export function nextInstanceName(name: string): string {
  const match = /^(.*) \((\d+)\)$/.exec(name);
  const base = match ? match[1] : name;
  const suffix = ` (${match ? Number(match[2]) + 1 : 2})`;
  return fitLabel(base, MAX_LABEL_BYTES - suffix.length) + suffix;
}

export function nextHostName(name: string): string {
  const match = /^(.*)-(\d+)$/.exec(name);
  const base = match ? match[1] : name;
  const suffix = `-${match ? Number(match[2]) + 1 : 2}`;
  return fitLabel(base, MAX_LABEL_BYTES - suffix.length) + suffix;
}

// A DNS label holds 63 bytes of UTF-8.
export function fitLabel(text: string, maxBytes = MAX_LABEL_BYTES): string {
  const fitted = fitUtf8(text, maxBytes);
  return fitted.length > 0 ? fitted : "printer";
}
