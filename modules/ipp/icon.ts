// printer-icons (PWG 5100.13): a small gray PNG of a printer, drawn on
// request at the sizes IPP Everywhere clients ask for, so the firmware
// carries no image files. The PNG is uncompressed (stored deflate blocks):
// a 128 x 128 icon is 16 KiB, built and sent once per request.

export const ICON_SIZES = [48, 128];

let crcTable: Uint32Array | undefined;

function crc32(bytes: Uint8Array, start: number, end: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// The glyph: paper coming out of the top, the body, a slot, a light.
function shade(x: number, y: number, size: number): number {
  const u = x / size, v = y / size;
  const paper = u >= 0.28 && u < 0.72 && v >= 0.1 && v < 0.45;
  const body = u >= 0.12 && u < 0.88 && v >= 0.4 && v < 0.78;
  const slot = u >= 0.24 && u < 0.76 && v >= 0.66 && v < 0.7;
  const light = u >= 0.74 && u < 0.8 && v >= 0.47 && v < 0.52;
  const lines = paper && (Math.floor(v * 40) % 3 === 0) && u >= 0.34 && u < 0.66 && v < 0.36;
  if (slot || lines) return 40;
  if (light) return 180;
  if (body) return 90;
  if (paper) return 250;
  return 255;
}

function u32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24; out[at + 1] = (value >>> 16) & 0xff; out[at + 2] = (value >>> 8) & 0xff; out[at + 3] = value & 0xff;
}

export function iconPng(size: number): Uint8Array {
  const raw = size * (size + 1);
  // zlib: header, one stored block per 65535 bytes, Adler-32.
  const blocks = Math.max(1, Math.ceil(raw / 65535));
  const zlibLength = 2 + blocks * 5 + raw + 4;
  const out = new Uint8Array(8 + 25 + 12 + zlibLength + 12);
  out.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 0);
  let at = 8;
  const chunk = (type: string, length: number, fill: (data: number) => void) => {
    u32(out, at, length);
    for (let i = 0; i < 4; i++) out[at + 4 + i] = type.charCodeAt(i);
    fill(at + 8);
    u32(out, at + 8 + length, crc32(out, at + 4, at + 8 + length));
    at += 12 + length;
  };
  chunk("IHDR", 13, (d) => {
    u32(out, d, size);
    u32(out, d + 4, size);
    out.set([8, 0, 0, 0, 0], d + 8); // 8-bit gray, no interlace
  });
  chunk("IDAT", zlibLength, (d) => {
    out[d] = 0x78; out[d + 1] = 0x01;
    let o = d + 2, a = 1, b = 0, written = 0;
    for (let block = 0; block < blocks; block++) {
      const length = Math.min(65535, raw - written);
      out[o] = block === blocks - 1 ? 1 : 0;
      out[o + 1] = length & 0xff; out[o + 2] = length >>> 8;
      out[o + 3] = ~length & 0xff; out[o + 4] = (~length >>> 8) & 0xff;
      o += 5;
      for (let i = 0; i < length; i++, written++) {
        const y = Math.floor(written / (size + 1));
        const x = written % (size + 1);
        // Each row starts with filter type 0.
        const value = x === 0 ? 0 : shade(x - 1, y, size);
        out[o++] = value;
        a = (a + value) % 65521;
        b = (b + a) % 65521;
      }
    }
    u32(out, o, ((b << 16) | a) >>> 0);
  });
  chunk("IEND", 0, () => {});
  return out;
}
