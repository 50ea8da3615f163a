// Test-side PWG Raster writer: makes documents with every kind of run
// (line repeats, pixel repeats, literals, the 128 white fill) from raw pixels.

// Plain ASCII without TextEncoder, so these helpers also run inside XS.
const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

export type Space = "sgray_8" | "srgb_8" | "black_1";

export interface Page {
  width: number;
  height: number;
  space: Space;
  dpi?: number;
  // bytesPerLine * height bytes, top line first.
  pixels: Uint8Array;
}

const CODES: Record<Space, [number, number, number, number]> = {
  sgray_8: [18, 8, 8, 1],
  srgb_8: [19, 8, 24, 3],
  black_1: [3, 1, 1, 1],
};

export function bytesPerLine(width: number, space: Space): number {
  return Math.ceil((width * CODES[space][2]) / 8);
}

export function pageHeader(page: Page, overrides: Record<number, number> = {}): Uint8Array {
  const h = new Uint8Array(1796);
  const view = new DataView(h.buffer);
  const [cs, bpc, bpp, colors] = CODES[page.space];
  const dpi = page.dpi ?? 300;
  const set = (offset: number, value: number) => view.setUint32(offset, value);
  h.set(ascii("PwgRaster"), 0);
  set(276, dpi); set(280, dpi);
  set(372, page.width); set(376, page.height);
  set(384, bpc); set(388, bpp); set(392, bytesPerLine(page.width, page.space));
  set(396, 0); set(400, cs); set(420, colors);
  for (const [offset, value] of Object.entries(overrides)) set(Number(offset), value);
  return h;
}

function white(space: Space): number {
  return space === "black_1" ? 0 : 0xff;
}

// Encodes one line: repeats where units repeat, literals elsewhere, and the
// 128 fill when the rest is white (if allowed).
export function encodeLine(line: Uint8Array, unit: number, space: Space, useFill = true): number[] {
  const out: number[] = [];
  const units = line.length / unit;
  const same = (a: number, b: number) => {
    for (let k = 0; k < unit; k++) if (line[a * unit + k] !== line[b * unit + k]) return false;
    return true;
  };
  let u = 0;
  while (u < units) {
    if (useFill && line.subarray(u * unit).every((b) => b === white(space)) && units - u > 1) {
      out.push(128);
      return out;
    }
    let run = 1;
    while (u + run < units && run < 128 && same(u, u + run)) run++;
    if (run > 1) {
      out.push(run - 1, ...line.subarray(u * unit, u * unit + unit));
      u += run;
      continue;
    }
    let lit = 1;
    while (u + lit < units && lit < 128 && !(u + lit + 1 < units && same(u + lit, u + lit + 1))) lit++;
    out.push(257 - lit, ...line.subarray(u * unit, (u + lit) * unit));
    u += lit;
  }
  return out;
}

export function encodePage(page: Page, useFill = true): Uint8Array {
  const bpl = bytesPerLine(page.width, page.space);
  const unit = page.space === "srgb_8" ? 3 : 1;
  const parts: number[] = [];
  let y = 0;
  while (y < page.height) {
    const line = page.pixels.subarray(y * bpl, (y + 1) * bpl);
    let repeat = 1;
    while (y + repeat < page.height && repeat < 256 && sameBytes(line, page.pixels.subarray((y + repeat) * bpl, (y + repeat + 1) * bpl))) repeat++;
    parts.push(repeat - 1, ...encodeLine(line, unit, page.space, useFill));
    y += repeat;
  }
  const header = pageHeader(page);
  const out = new Uint8Array(header.length + parts.length);
  out.set(header, 0);
  out.set(parts, header.length);
  return out;
}

export function encodeDocument(pages: Page[], useFill = true): Uint8Array {
  const chunks = [ascii("RaS2"), ...pages.map((p) => encodePage(p, useFill))];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// A page with bands, gradients, noise and white margins: every run kind occurs.
export function testPage(width: number, height: number, space: Space, seed: number): Page {
  const bpl = bytesPerLine(width, space);
  const pixels = new Uint8Array(bpl * height).fill(white(space));
  let s = seed >>> 0 || 1;
  const rnd = () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
  for (let y = 0; y < height; y++) {
    const band = Math.floor((y / height) * 6);
    const row = pixels.subarray(y * bpl, (y + 1) * bpl);
    if (band === 0) continue; // white top margin: line repeats and 128 fills
    if (band === 1) { row.fill(y % 2 ? 0x40 : 0x80, 0, Math.floor(bpl / 2)); continue; }
    if (band === 2) { for (let i = 0; i < bpl; i++) row[i] = (i * 7 + y) & 0xff; continue; }
    if (band === 3) { for (let i = 0; i < bpl; i++) row[i] = rnd() & 0xff; continue; }
    if (band === 4) { for (let i = 0; i < bpl; i++) row[i] = i < bpl / 3 ? 0 : rnd() & 1 ? 0x10 : 0xf0; continue; }
    row.fill(0x33, 0, Math.max(1, bpl - 5));
  }
  return { width, height, space, pixels };
}
