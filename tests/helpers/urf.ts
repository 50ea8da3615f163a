// Test-side URF (Apple Raster) writer, from the format's public description:
// "UNIRAST\0", a big-endian page count, then per page a 32-byte header and
// the same line coding as PWG Raster (so the PWG writer's line encoder is
// reused). Plain TypeScript, so it runs inside XS too.
import { bytesPerLine, encodeLine, type Page } from "./pwg.js";

export interface UrfPageOptions {
  // Overrides of header bytes, for bad headers in tests.
  bits?: number;
  space?: number;
  duplex?: number;
  quality?: number;
}

function u32(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value >>> 24;
  out[offset + 1] = (value >>> 16) & 0xff;
  out[offset + 2] = (value >>> 8) & 0xff;
  out[offset + 3] = value & 0xff;
}

export function urfPageHeader(page: Page, options: UrfPageOptions = {}): Uint8Array {
  if (page.space === "black_1") throw new Error("URF has no 1-bit pages");
  const h = new Uint8Array(32);
  const rgb = page.space === "srgb_8";
  h[0] = options.bits ?? (rgb ? 24 : 8);
  h[1] = options.space ?? (rgb ? 1 : 0);
  h[2] = options.duplex ?? 1;
  h[3] = options.quality ?? 4;
  u32(h, 12, page.width);
  u32(h, 16, page.height);
  u32(h, 20, page.dpi ?? 300);
  return h;
}

export function encodeUrfPage(page: Page, options: UrfPageOptions = {}): number[] {
  const bpl = bytesPerLine(page.width, page.space);
  const unit = page.space === "srgb_8" ? 3 : 1;
  const out: number[] = Array.from(urfPageHeader(page, options));
  let y = 0;
  while (y < page.height) {
    const line = page.pixels.subarray(y * bpl, (y + 1) * bpl);
    let repeat = 1;
    while (y + repeat < page.height && repeat < 256 && same(line, page.pixels.subarray((y + repeat) * bpl, (y + repeat + 1) * bpl))) repeat++;
    out.push(repeat - 1);
    for (const b of encodeLine(line, unit, page.space)) out.push(b);
    y += repeat;
  }
  return out;
}

// announced: the page count written in the file header (default: the true
// count; 0 is "unknown", as Ghostscript writes).
export function encodeUrfDocument(pages: Page[], announced = pages.length): Uint8Array {
  const head = [0x55, 0x4e, 0x49, 0x52, 0x41, 0x53, 0x54, 0x00, 0, 0, 0, 0];
  const bytes: number[] = head;
  u32Into(bytes, 8, announced);
  for (const page of pages) for (const b of encodeUrfPage(page)) bytes.push(b);
  return Uint8Array.from(bytes);
}

function u32Into(bytes: number[], offset: number, value: number): void {
  const four = new Uint8Array(4);
  u32(four, 0, value);
  for (let k = 0; k < 4; k++) bytes[offset + k] = four[k];
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
