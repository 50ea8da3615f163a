import { fitUtf8, utf8Decode, utf8Encode } from "../text/utf8.js";

// DNS messages (RFC 1035 4.1) as mDNS uses them (RFC 6762 18): names are
// arrays of labels, because a DNS-SD instance label may itself contain dots
// ("Lobby Printer v2.1._privet._tcp.local").

export const TYPE_A = 1;
export const TYPE_PTR = 12;
export const TYPE_TXT = 16;
export const TYPE_AAAA = 28;
export const TYPE_SRV = 33;
export const TYPE_NSEC = 47;
export const TYPE_ANY = 255;
const CLASS_IN = 1;
// The top bit of a question's class asks for a unicast answer (QU); in a
// record it says "flush other records of this name and type" (RFC 6762 5.4, 10.2).
const CLASS_TOP_BIT = 0x8000;

export const FLAG_RESPONSE = 0x8000;
export const FLAG_AUTHORITATIVE = 0x0400;
export const FLAG_TRUNCATED = 0x0200;

export type Name = string[];

export interface Question {
  name: Name;
  type: number;
  unicastResponse: boolean;
}

export type RData =
  | { kind: "a"; address: Uint8Array }
  | { kind: "aaaa"; address: Uint8Array }
  | { kind: "ptr"; target: Name }
  | { kind: "srv"; priority: number; weight: number; port: number; target: Name }
  | { kind: "txt"; strings: Uint8Array[] }
  | { kind: "nsec"; next: Name; types: number[] }
  | { kind: "raw"; bytes: Uint8Array };

export interface ResourceRecord {
  name: Name;
  type: number;
  cacheFlush: boolean;
  ttl: number;
  data: RData;
}

export interface Message {
  id: number;
  flags: number;
  questions: Question[];
  answers: ResourceRecord[];
  authorities: ResourceRecord[];
  additionals: ResourceRecord[];
}

export class DnsFormatError extends Error {}

const MAX_LABEL = 63;
const MAX_NAME_WIRE = 255;
// A legal name has at most 127 labels, so no more jumps than that are needed.
const MAX_POINTER_JUMPS = 127;
const MAX_RECORDS = 256;

export function nameKey(name: Name): string {
  return name.join(".").toLowerCase() + "|" + name.length;
}

export function sameName(a: Name, b: Name): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i].toLowerCase() !== b[i].toLowerCase()) return false;
  return true;
}

// ---- decoding ----

class Reader {
  offset = 0;
  constructor(readonly bytes: Uint8Array) {}

  need(n: number): void {
    if (this.offset + n > this.bytes.length) throw new DnsFormatError("message truncated");
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.offset++];
  }

  u16(): number {
    this.need(2);
    const v = (this.bytes[this.offset] << 8) | this.bytes[this.offset + 1];
    this.offset += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const b = this.bytes, o = this.offset;
    this.offset += 4;
    return ((b[o] << 24) >>> 0) + (b[o + 1] << 16) + (b[o + 2] << 8) + b[o + 3];
  }

  take(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  // RFC 1035 4.1.4. Pointers must point strictly backwards, before the label
  // that holds them, so a chain of them always ends and cannot loop.
  name(): Name {
    const labels: Name = [];
    const bytes = this.bytes;
    let position = this.offset;
    let jumped = false;
    let jumps = 0;
    let wireLength = 1;
    for (;;) {
      if (position >= bytes.length) throw new DnsFormatError("name runs past the message");
      const length = bytes[position];
      if (length === 0) {
        if (!jumped) this.offset = position + 1;
        return labels;
      }
      const tag = length & 0xc0;
      if (tag === 0xc0) {
        if (position + 1 >= bytes.length) throw new DnsFormatError("name runs past the message");
        const target = ((length & 0x3f) << 8) | bytes[position + 1];
        if (target >= position) throw new DnsFormatError("forward or looping compression pointer");
        if (++jumps > MAX_POINTER_JUMPS) throw new DnsFormatError("too many compression pointers");
        if (!jumped) this.offset = position + 2;
        jumped = true;
        position = target;
        continue;
      }
      if (tag !== 0) throw new DnsFormatError("unknown label type");
      if (position + 1 + length > bytes.length) throw new DnsFormatError("label runs past the message");
      wireLength += length + 1;
      if (wireLength > MAX_NAME_WIRE) throw new DnsFormatError("name longer than 255 bytes");
      labels.push(utf8Decode(bytes, position + 1, position + 1 + length));
      position += 1 + length;
    }
  }
}

export function decodeMessage(bytes: Uint8Array): Message {
  if (bytes.length < 12) throw new DnsFormatError("shorter than a DNS header");
  const r = new Reader(bytes);
  const id = r.u16();
  const flags = r.u16();
  const counts = [r.u16(), r.u16(), r.u16(), r.u16()];
  // Every question needs 5 bytes and every record 11: a count the packet
  // cannot hold is a lie, refused before anything is allocated for it.
  if (counts[0] * 5 + (counts[1] + counts[2] + counts[3]) * 11 > bytes.length - 12) {
    throw new DnsFormatError("section counts exceed the message");
  }
  if (counts[0] + counts[1] + counts[2] + counts[3] > MAX_RECORDS) throw new DnsFormatError("too many records");
  const questions: Question[] = [];
  for (let i = 0; i < counts[0]; i++) {
    const name = r.name();
    const type = r.u16();
    const klass = r.u16();
    questions.push({ name, type, unicastResponse: (klass & CLASS_TOP_BIT) !== 0 });
  }
  const section = (n: number) => {
    const records: ResourceRecord[] = [];
    for (let i = 0; i < n; i++) records.push(readRecord(r));
    return records;
  };
  const answers = section(counts[1]);
  const authorities = section(counts[2]);
  const additionals = section(counts[3]);
  return { id, flags, questions, answers, authorities, additionals };
}

function readRecord(r: Reader): ResourceRecord {
  const name = r.name();
  const type = r.u16();
  const klass = r.u16();
  const ttl = r.u32();
  const length = r.u16();
  r.need(length);
  const end = r.offset + length;
  let data: RData;
  switch (type) {
    case TYPE_A:
      if (length !== 4) throw new DnsFormatError("A record is not 4 bytes");
      data = { kind: "a", address: Uint8Array.from(r.take(4)) };
      break;
    case TYPE_AAAA:
      if (length !== 16) throw new DnsFormatError("AAAA record is not 16 bytes");
      data = { kind: "aaaa", address: Uint8Array.from(r.take(16)) };
      break;
    case TYPE_PTR:
      data = { kind: "ptr", target: r.name() };
      break;
    case TYPE_SRV:
      data = { kind: "srv", priority: r.u16(), weight: r.u16(), port: r.u16(), target: r.name() };
      break;
    case TYPE_TXT: {
      const strings: Uint8Array[] = [];
      while (r.offset < end) {
        const n = r.u8();
        if (r.offset + n > end) throw new DnsFormatError("TXT string runs past its record");
        strings.push(Uint8Array.from(r.take(n)));
      }
      data = { kind: "txt", strings };
      break;
    }
    case TYPE_NSEC: {
      const next = r.name();
      const types: number[] = [];
      while (r.offset < end) {
        const window = r.u8();
        const n = r.u8();
        if (n < 1 || n > 32 || r.offset + n > end) throw new DnsFormatError("malformed NSEC bitmap");
        const bitmap = r.take(n);
        for (let i = 0; i < n * 8; i++) if (bitmap[i >> 3] & (0x80 >> (i & 7))) types.push(window * 256 + i);
      }
      data = { kind: "nsec", next, types };
      break;
    }
    default:
      data = { kind: "raw", bytes: Uint8Array.from(r.take(length)) };
  }
  if (r.offset !== end) throw new DnsFormatError("record data length does not match its contents");
  return { name, type, cacheFlush: (klass & CLASS_TOP_BIT) !== 0, ttl, data };
}

// ---- encoding ----

class Writer {
  private buffer = new Uint8Array(512);
  length = 0;
  // Suffix of a name already written -> its offset, for compression.
  private readonly suffixes = new Map<string, number>();

  private room(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + n) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.buffer.subarray(0, this.length));
    this.buffer = bigger;
  }

  u8(v: number): void {
    this.room(1);
    this.buffer[this.length++] = v;
  }

  u16(v: number): void {
    this.room(2);
    this.buffer[this.length++] = (v >>> 8) & 0xff;
    this.buffer[this.length++] = v & 0xff;
  }

  u32(v: number): void {
    this.u16((v >>> 16) & 0xffff);
    this.u16(v & 0xffff);
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buffer.set(b, this.length);
    this.length += b.length;
  }

  patch16(at: number, v: number): void {
    this.buffer[at] = (v >>> 8) & 0xff;
    this.buffer[at + 1] = v & 0xff;
  }

  name(name: Name, compress = true): void {
    for (let i = 0; i < name.length; i++) {
      const key = nameKey(name.slice(i));
      const known = compress ? this.suffixes.get(key) : undefined;
      if (known !== undefined) {
        this.u16(0xc000 | known);
        return;
      }
      if (this.length < 0x4000) this.suffixes.set(key, this.length);
      const label = utf8Encode(name[i]);
      if (label.length === 0 || label.length > MAX_LABEL) throw new DnsFormatError(`label of ${label.length} bytes`);
      this.u8(label.length);
      this.bytes(label);
    }
    this.u8(0);
  }

  result(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

export function encodeMessage(message: Message): Uint8Array {
  const w = new Writer();
  w.u16(message.id);
  w.u16(message.flags);
  w.u16(message.questions.length);
  w.u16(message.answers.length);
  w.u16(message.authorities.length);
  w.u16(message.additionals.length);
  for (const q of message.questions) {
    w.name(q.name);
    w.u16(q.type);
    w.u16(CLASS_IN | (q.unicastResponse ? CLASS_TOP_BIT : 0));
  }
  for (const section of [message.answers, message.authorities, message.additionals]) {
    for (const record of section) writeRecord(w, record);
  }
  return w.result();
}

function writeRecord(w: Writer, record: ResourceRecord): void {
  w.name(record.name);
  w.u16(record.type);
  w.u16(CLASS_IN | (record.cacheFlush ? CLASS_TOP_BIT : 0));
  w.u32(record.ttl);
  const lengthAt = w.length;
  w.u16(0);
  writeRData(w, record.data);
  w.patch16(lengthAt, w.length - lengthAt - 2);
}

function writeRData(w: Writer, data: RData): void {
  switch (data.kind) {
    case "a":
    case "aaaa":
      w.bytes(data.address);
      return;
    case "ptr":
      w.name(data.target);
      return;
    case "srv":
      w.u16(data.priority);
      w.u16(data.weight);
      w.u16(data.port);
      // RFC 6762 18.14 allows compressing the SRV target; RFC 2782 did not.
      w.name(data.target);
      return;
    case "txt":
      // An empty TXT record is one empty string (RFC 6763 6.1).
      if (data.strings.length === 0) w.u8(0);
      for (const s of data.strings) {
        if (s.length > 255) throw new DnsFormatError("TXT string longer than 255 bytes");
        w.u8(s.length);
        w.bytes(s);
      }
      return;
    case "nsec": {
      // The next-domain name in NSEC is never compressed (RFC 4034 4.1.1, RFC 6762 18.14).
      w.name(data.next, false);
      const windows = new Map<number, number[]>();
      for (const t of data.types) {
        const list = windows.get(t >> 8) ?? [];
        list.push(t & 0xff);
        windows.set(t >> 8, list);
      }
      for (const [window, bits] of [...windows].sort((a, b) => a[0] - b[0])) {
        const length = (Math.max(...bits) >> 3) + 1;
        const bitmap = new Uint8Array(length);
        for (const bit of bits) bitmap[bit >> 3] |= 0x80 >> (bit & 7);
        w.u8(window);
        w.u8(length);
        w.bytes(bitmap);
      }
      return;
    }
    case "raw":
      w.bytes(data.bytes);
      return;
  }
}

// The record's class, type and rdata as uncompressed bytes: what RFC 6762
// 8.2 compares in a probe tie-break and what decides whether two records are
// the same record.
export function canonicalRData(record: ResourceRecord): Uint8Array {
  // A fresh writer has no earlier names to point at, and the names inside one
  // rdata never share a suffix, so nothing in it gets compressed.
  const w = new Writer();
  w.u16(CLASS_IN);
  w.u16(record.type);
  writeRData(w, lowerNames(record.data));
  return w.result();
}

function lowerNames(data: RData): RData {
  switch (data.kind) {
    case "ptr": return { kind: "ptr", target: data.target.map((l) => l.toLowerCase()) };
    case "srv": return { ...data, target: data.target.map((l) => l.toLowerCase()) };
    default: return data;
  }
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

// Each key=value pair is one TXT string of at most 255 bytes (RFC 6763 6.1).
export function txtStrings(pairs: Array<[string, string]>): Uint8Array[] {
  return pairs.map(([key, value]) => utf8Encode(fitUtf8(`${key}=${value}`, 255)));
}
