import {
  TYPE_A, TYPE_AAAA, TYPE_NSEC, TYPE_PTR, TYPE_SRV, TYPE_TXT, canonicalRData, compareBytes, nameKey, sameName, txtStrings,
  type Name, type ResourceRecord,
} from "./message.js";
import type { ServiceClaim } from "./claims.js";
import { LOCAL } from "./services.js";

// The records the responder publishes: built for the host and for each
// service instance, and compared and keyed by their canonical data (RFC 6762
// 8.2), the form a tie-break and a known answer are judged in.

export interface OwnRecord {
  record: ResourceRecord;
  canonical: Uint8Array;
  unique: boolean;
}

// RFC 6762 10: 120 s for records naming a host, 75 minutes for the rest.
const TTL_HOST = 120;
export const TTL_OTHER = 4500;

const SUB = "_sub";
export const SERVICES_META: Name = ["_services", "_dns-sd", "_udp", LOCAL];

export function hostRecords(host: Name, addresses: Uint8Array[]): OwnRecord[] {
  const records: OwnRecord[] = [];
  const types: number[] = [];
  for (const address of addresses) {
    const type = address.length === 4 ? TYPE_A : TYPE_AAAA;
    if (!types.includes(type)) types.push(type);
    records.push(ownRecord({ name: host, type, cacheFlush: true, ttl: TTL_HOST, data: address.length === 4 ? { kind: "a", address } : { kind: "aaaa", address } }, true));
  }
  // NSEC says which types exist, so a resolver asking for AAAA on an
  // IPv4-only printer gets a definite "no" instead of waiting (RFC 6762 6.1).
  records.push(ownRecord({ name: host, type: TYPE_NSEC, cacheFlush: true, ttl: TTL_HOST, data: { kind: "nsec", next: host, types: types.sort((a, b) => a - b) } }, true));
  return records;
}

// The PTRs to the instance (from its type and each subtype), then its SRV
// pointing at host, its TXT and its NSEC.
export function instanceRecords(service: ServiceClaim, host: Name): OwnRecord[] {
  const instance = service.name();
  const target = (name: Name): ResourceRecord => ({ name, type: TYPE_PTR, cacheFlush: false, ttl: TTL_OTHER, data: { kind: "ptr", target: instance } });
  const records = [ownRecord(target(service.typeName), false)];
  for (const subtype of service.subtypes) records.push(ownRecord(target([subtype, SUB, ...service.typeName]), false));
  records.push(
    ownRecord({ name: instance, type: TYPE_SRV, cacheFlush: true, ttl: TTL_HOST, data: { kind: "srv", priority: 0, weight: 0, port: service.port, target: host } }, true),
    ownRecord(txtRecord(service), true),
    ownRecord({ name: instance, type: TYPE_NSEC, cacheFlush: true, ttl: TTL_HOST, data: { kind: "nsec", next: instance, types: [TYPE_TXT, TYPE_SRV] } }, true),
  );
  return records;
}

export function txtRecord(service: ServiceClaim): ResourceRecord {
  return { name: service.name(), type: TYPE_TXT, cacheFlush: true, ttl: TTL_OTHER, data: { kind: "txt", strings: txtStrings(service.txtPairs()) } };
}

export function ownRecord(record: ResourceRecord, unique: boolean): OwnRecord {
  return { record, unique, canonical: canonicalRData(record) };
}

export function metaRecord(type: Name): ResourceRecord {
  return { name: SERVICES_META, type: TYPE_PTR, cacheFlush: false, ttl: TTL_OTHER, data: { kind: "ptr", target: type } };
}

export function expired(record: ResourceRecord): ResourceRecord {
  return { ...record, ttl: 0 };
}

export function sameRecord(a: OwnRecord | undefined, b: OwnRecord | undefined): boolean {
  if (!a || !b) return a === b;
  return a.record.type === b.record.type && sameName(a.record.name, b.record.name) && compareBytes(a.canonical, b.canonical) === 0;
}

export function recordKey(r: ResourceRecord): string {
  return nameKey(r.name) + "/" + hex(canonicalRData(r));
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += (b < 16 ? "0" : "") + b.toString(16);
  return s;
}
