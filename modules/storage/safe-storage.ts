import type { Storage } from "../hal/storage.js";
import { utf8Encode } from "../text/utf8.js";

// Keeps each value in two slots ("key.a", "key.b") and writes the older one,
// stamped with a sequence number and a CRC-32 of the value. If power fails in
// the middle of a write, that slot fails its check and the other slot, whole
// and one generation older, is read instead: identity, settings and
// registration are never half-written, whatever the flash layer does.

const TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c;
}

export function crc32(bytes: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

interface Slot { seq: number; value: string }

// "seq:crc:value"; undefined for anything torn or foreign.
function parseSlot(text: string | undefined): Slot | undefined {
  if (text === undefined) return undefined;
  const first = text.indexOf(":");
  const second = text.indexOf(":", first + 1);
  if (first <= 0 || second <= first + 1) return undefined;
  const seqText = text.slice(0, first), crcText = text.slice(first + 1, second);
  if (!/^\d{1,15}$/.test(seqText) || !/^[0-9a-f]{8}$/.test(crcText)) return undefined;
  const value = text.slice(second + 1);
  if (crc32(utf8Encode(value)) !== parseInt(crcText, 16)) return undefined;
  return { seq: Number(seqText), value };
}

function hex8(n: number): string {
  const s = n.toString(16);
  return "00000000".slice(s.length) + s;
}

export class SafeStorage implements Storage {
  constructor(private readonly inner: Storage) {}

  private slots(key: string): [Slot | undefined, Slot | undefined] {
    return [parseSlot(this.inner.read(`${key}.a`)), parseSlot(this.inner.read(`${key}.b`))];
  }

  read(key: string): string | undefined {
    const [a, b] = this.slots(key);
    if (a && b) return a.seq > b.seq ? a.value : b.value;
    return (a ?? b)?.value;
  }

  write(key: string, value: string): void {
    const [a, b] = this.slots(key);
    const newest = Math.max(a?.seq ?? 0, b?.seq ?? 0);
    // Never overwrite the newest intact slot: write the empty, broken or older one.
    const target = !a ? "a" : !b ? "b" : a.seq < b.seq ? "a" : "b";
    this.inner.write(`${key}.${target}`, `${newest + 1}:${hex8(crc32(utf8Encode(value)))}:${value}`);
  }

  remove(key: string): void {
    this.inner.remove(`${key}.a`);
    this.inner.remove(`${key}.b`);
  }
}
