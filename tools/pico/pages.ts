// The two receipts the MCU bench prints, made here so they can be checked and
// rebuilt: 384 dots across at 203 dpi (a 58 mm head), one in 8-bit gray (a
// photo-like ramp and rings the driver must dither) and one in 1-bit black
// (text-like glyph rows). PWG Raster is encoded with its own run-length
// scheme (PWG 5102.4 section 4.3); the images stay a few KB, since the page
// is linked into a 2 MB flash.

export type BenchSpace = "sgray_8" | "black_1";

export interface BenchPage {
  name: string;
  space: BenchSpace;
  width: number;
  height: number;
  dpi: number;
  // bytesPerLine * height bytes, top line first (gray: 0 black; black_1: 1 black).
  pixels: Uint8Array;
}

export const BENCH_WIDTH = 384;
export const BENCH_HEIGHT = 600;
export const BENCH_DPI = 203;

export function bytesPerLine(width: number, space: BenchSpace): number {
  return space === "black_1" ? Math.ceil(width / 8) : width;
}

// xorshift32: the same glyphs every time.
function generator(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
}

// Glyph-like cells, 10 x 16 dots, in lines of text with margins.
function textInk(x: number, y: number, glyphs: Uint8Array): boolean {
  const line = Math.floor(y / 24), inLine = y % 24;
  if (inLine >= 16 || x < 16 || x >= BENCH_WIDTH - 16) return false;
  const col = Math.floor((x - 16) / 10), inCol = (x - 16) % 10;
  if (inCol >= 8) return false;
  const glyph = glyphs[(line * 35 + col) % glyphs.length];
  if (glyph === 0) return false; // a space
  // Each glyph: 4 x 8 cells of 2 x 2 dots.
  return ((glyph >> ((Math.floor(inLine / 2) % 8) ^ (inCol >> 1))) & 1) === 1;
}

export function grayPage(): BenchPage {
  const width = BENCH_WIDTH, height = BENCH_HEIGHT;
  const pixels = new Uint8Array(width * height).fill(255);
  const rnd = generator(7);
  const glyphs = Uint8Array.from({ length: 97 }, () => (rnd() % 5 === 0 ? 0 : rnd() & 0xff));
  for (let y = 0; y < height; y++) {
    const row = pixels.subarray(y * width, (y + 1) * width);
    if (y < 40) continue; // top margin
    if (y < 120) { // a ramp in 24 steps, darker downwards
      for (let x = 0; x < width; x++) row[x] = Math.max(0, 255 - Math.floor(x / 16) * 11 - (y - 40));
      continue;
    }
    if (y < 360) { // rings: smooth tones in 16 levels
      const cy = 240;
      for (let x = 0; x < width; x++) {
        const d = Math.sqrt((x - 192) ** 2 + (y - cy) ** 2);
        row[x] = d > 118 ? 255 : (Math.floor(128 + 100 * Math.cos(d / 9)) & 0xf0) | 0x08;
      }
      continue;
    }
    if (y < 380) continue;
    for (let x = 0; x < width; x++) if (textInk(x, y - 380, glyphs)) row[x] = 40;
  }
  return { name: "gray", space: "sgray_8", width, height, dpi: BENCH_DPI, pixels };
}

export function blackPage(): BenchPage {
  const width = BENCH_WIDTH, height = BENCH_HEIGHT;
  const bpl = bytesPerLine(width, "black_1");
  const pixels = new Uint8Array(bpl * height);
  const rnd = generator(11);
  const glyphs = Uint8Array.from({ length: 101 }, () => (rnd() % 6 === 0 ? 0 : rnd() & 0xff));
  for (let y = 0; y < height; y++) {
    const row = pixels.subarray(y * bpl, (y + 1) * bpl);
    const ink = (x: number) => { row[x >> 3] |= 0x80 >> (x & 7); };
    if (y < 24) continue;
    if (y < 56) { for (let x = 16; x < width - 16; x++) ink(x); continue; } // a heading bar
    if (y >= 300 && y < 304) { for (let x = 16; x < width - 16; x += 4) ink(x); continue; } // a dotted rule
    for (let x = 0; x < width; x++) if (textInk(x, y - 64, glyphs)) ink(x);
  }
  return { name: "black", space: "black_1", width, height, dpi: BENCH_DPI, pixels };
}

// ---- PWG Raster ----

function header(page: BenchPage): Uint8Array {
  const h = new Uint8Array(1796);
  const view = new DataView(h.buffer);
  const gray = page.space === "sgray_8";
  for (let i = 0; i < 9; i++) h[i] = "PwgRaster".charCodeAt(i);
  view.setUint32(276, page.dpi); view.setUint32(280, page.dpi); // HWResolution
  view.setUint32(372, page.width); view.setUint32(376, page.height);
  view.setUint32(384, gray ? 8 : 1); // bits per color
  view.setUint32(388, gray ? 8 : 1); // bits per pixel
  view.setUint32(392, bytesPerLine(page.width, page.space));
  view.setUint32(396, 0); // chunky
  view.setUint32(400, gray ? 18 : 3); // sGray or black
  view.setUint32(420, 1); // colors
  return h;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// One line: runs of a repeated byte, literals between them, and the fill
// code when the rest of the line is white.
function encodeLine(line: Uint8Array, white: number, out: number[]): void {
  let i = 0;
  while (i < line.length) {
    let rest = i;
    while (rest < line.length && line[rest] === white) rest++;
    if (rest === line.length && line.length - i > 1) { out.push(128); return; }
    let run = 1;
    while (i + run < line.length && run < 128 && line[i + run] === line[i]) run++;
    if (run > 1) { out.push(run - 1, line[i]); i += run; continue; }
    let lit = 1;
    while (i + lit < line.length && lit < 128 && !(i + lit + 1 < line.length && line[i + lit] === line[i + lit + 1])) lit++;
    out.push(257 - lit);
    for (let k = 0; k < lit; k++) out.push(line[i + k]);
    i += lit;
  }
}

export function encodePwg(pages: BenchPage[]): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.from([0x52, 0x61, 0x53, 0x32])]; // "RaS2"
  for (const page of pages) {
    const bpl = bytesPerLine(page.width, page.space);
    const white = page.space === "black_1" ? 0x00 : 0xff;
    const body: number[] = [];
    for (let y = 0; y < page.height;) {
      const line = page.pixels.subarray(y * bpl, (y + 1) * bpl);
      let repeat = 1;
      while (y + repeat < page.height && repeat < 256 && equal(line, page.pixels.subarray((y + repeat) * bpl, (y + repeat + 1) * bpl))) repeat++;
      body.push(repeat - 1);
      encodeLine(line, white, body);
      y += repeat;
    }
    parts.push(header(page), Uint8Array.from(body));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export const BENCH_PAGES = [
  { file: "bench-gray.pwg", page: grayPage },
  { file: "bench-black.pwg", page: blackPage },
];
