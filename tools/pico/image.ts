// Firmware images for the emulated RP2040's flash: UF2 (what mcconfig makes
// and a Pico takes over USB), ELF (its PT_LOAD segments at their load
// addresses) and raw binaries (flash from offset 0). Every field is checked
// against the flash's bounds: a broken image is refused, never half-loaded.

export const FLASH_BASE = 0x10000000;
// The Pico and Pico W carry 2 MB of QSPI flash.
export const PICO_FLASH_BYTES = 2 * 1024 * 1024;
export const RP2040_FAMILY = 0xe48bff56;

export interface Segment {
  address: number;
  data: Uint8Array;
}

export class ImageError extends Error {}

const UF2_MAGIC0 = 0x0a324655, UF2_MAGIC1 = 0x9e5d5157, UF2_MAGIC_END = 0x0ab16f30;
const UF2_FLAG_NOT_MAIN_FLASH = 0x1, UF2_FLAG_FAMILY = 0x2000;
const UF2_BLOCK = 512;

// The blocks meant for an RP2040's flash; others (another family's, or
// picotool's RP2350-E10 workaround block beyond 2 MB) are left out.
export function parseUf2(bytes: Uint8Array, flashBytes = PICO_FLASH_BYTES): Segment[] {
  if (bytes.length === 0 || bytes.length % UF2_BLOCK !== 0) throw new ImageError(`UF2: ${bytes.length} bytes is not a whole number of 512-byte blocks`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const segments: Segment[] = [];
  for (let offset = 0; offset < bytes.length; offset += UF2_BLOCK) {
    const n = offset / UF2_BLOCK;
    const word = (at: number) => view.getUint32(offset + at, true);
    if (word(0) !== UF2_MAGIC0 || word(4) !== UF2_MAGIC1 || word(508) !== UF2_MAGIC_END) throw new ImageError(`UF2 block ${n}: bad magic`);
    const flags = word(8), address = word(12), size = word(16), family = word(28);
    if (size > 476) throw new ImageError(`UF2 block ${n}: payload of ${size} bytes (at most 476)`);
    if (flags & UF2_FLAG_NOT_MAIN_FLASH) continue;
    if ((flags & UF2_FLAG_FAMILY) && family !== RP2040_FAMILY) continue;
    if (address < FLASH_BASE || address + size > FLASH_BASE + flashBytes) {
      if (address >= FLASH_BASE + flashBytes && address < FLASH_BASE + 0x1000000) continue; // beyond this board's flash
      throw new ImageError(`UF2 block ${n}: 0x${address.toString(16)} is outside the flash`);
    }
    segments.push({ address, data: bytes.slice(offset + 32, offset + 32 + size) });
  }
  if (segments.length === 0) throw new ImageError("UF2: no block for an RP2040's flash");
  return segments;
}

const PT_LOAD = 1;

// ELF32 little-endian ARM: the file bytes of each PT_LOAD segment, placed at
// its physical (load) address; segments loaded into RAM by the startup code
// have their initial data in flash there too.
export function parseElf(bytes: Uint8Array, flashBytes = PICO_FLASH_BYTES): Segment[] {
  if (bytes.length < 52 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) throw new ImageError("ELF: no ELF magic");
  if (bytes[4] !== 1 || bytes[5] !== 1) throw new ImageError("ELF: not 32-bit little-endian");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(18, true) !== 40) throw new ImageError("ELF: not ARM");
  const phoff = view.getUint32(28, true), phentsize = view.getUint16(42, true), phnum = view.getUint16(44, true);
  if (phentsize < 32 || phoff + phnum * phentsize > bytes.length) throw new ImageError("ELF: program headers outside the file");
  const segments: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (view.getUint32(at, true) !== PT_LOAD) continue;
    const offset = view.getUint32(at + 4, true), paddr = view.getUint32(at + 12, true), filesz = view.getUint32(at + 16, true);
    if (filesz === 0) continue;
    if (offset + filesz > bytes.length) throw new ImageError(`ELF segment ${i}: beyond the end of the file`);
    if (paddr < FLASH_BASE || paddr + filesz > FLASH_BASE + flashBytes) throw new ImageError(`ELF segment ${i}: 0x${paddr.toString(16)} is not in flash`);
    segments.push({ address: paddr, data: bytes.slice(offset, offset + filesz) });
  }
  if (segments.length === 0) throw new ImageError("ELF: nothing to load into flash");
  return segments;
}

export function parseImage(name: string, bytes: Uint8Array, flashBytes = PICO_FLASH_BYTES): Segment[] {
  if (/\.uf2$/i.test(name)) return parseUf2(bytes, flashBytes);
  if (/\.elf$/i.test(name)) return parseElf(bytes, flashBytes);
  if (/\.bin$/i.test(name)) {
    if (bytes.length > flashBytes) throw new ImageError(`${bytes.length} bytes do not fit ${flashBytes} bytes of flash`);
    return [{ address: FLASH_BASE, data: bytes }];
  }
  throw new ImageError(`${name}: not a .uf2, .elf or .bin image`);
}

export function loadSegments(flash: Uint8Array, segments: Segment[]): number {
  let loaded = 0;
  for (const s of segments) {
    flash.set(s.data, s.address - FLASH_BASE);
    loaded += s.data.length;
  }
  return loaded;
}
