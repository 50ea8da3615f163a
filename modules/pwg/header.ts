// The PWG Raster page header (PWG 5102.4 section 4.3): 1796 bytes, integers
// big-endian. Only the fields that decide how to read the pixels are trusted;
// PageSize and MediaClass may be zero or empty (Chrome's and MuPDF's encoders
// leave them so).

export const HEADER_BYTES = 1796;

// ColorSpace values (PWG 5102.4 table 2, shared with CUPS).
export const CS_BLACK = 3;
export const CS_SGRAY = 18;
export const CS_SRGB = 19;

export type PwgColorSpace = "sgray_8" | "srgb_8" | "black_1";

export interface PageHeader {
  width: number;
  height: number;
  xDpi: number;
  yDpi: number;
  bitsPerColor: number;
  bitsPerPixel: number;
  bytesPerLine: number;
  colorOrder: number;
  colorSpaceCode: number;
  numColors: number;
  pageSize: [number, number];
  totalPageCount: number;
  pageSizeName: string;
}

export interface PageFormat {
  colorSpace: PwgColorSpace;
  // The unit runs are counted in: one pixel, or one byte below 8 bits per pixel.
  unitBytes: number;
  // The byte a "fill with white" (128) writes: 0xFF where 0 is dark, 0 for black_1.
  white: number;
}

function u32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) >>> 0) + (bytes[offset + 1] << 16) + (bytes[offset + 2] << 8) + bytes[offset + 3];
}

function cString(bytes: Uint8Array, offset: number, length: number): string {
  let s = "";
  for (let i = offset; i < offset + length && bytes[i] !== 0; i++) s += String.fromCharCode(bytes[i] < 127 && bytes[i] >= 32 ? bytes[i] : 63);
  return s;
}

export function parseHeader(bytes: Uint8Array): PageHeader {
  return {
    xDpi: u32(bytes, 276),
    yDpi: u32(bytes, 280),
    pageSize: [u32(bytes, 352), u32(bytes, 356)],
    width: u32(bytes, 372),
    height: u32(bytes, 376),
    bitsPerColor: u32(bytes, 384),
    bitsPerPixel: u32(bytes, 388),
    bytesPerLine: u32(bytes, 392),
    colorOrder: u32(bytes, 396),
    colorSpaceCode: u32(bytes, 400),
    numColors: u32(bytes, 420),
    totalPageCount: u32(bytes, 452),
    pageSizeName: cString(bytes, 1732, 64),
  };
}

export interface HeaderLimits {
  maxWidth: number;
  maxHeight: number;
}

// Checks a header against itself and the engine's limits; returns the format
// to decode with, or a sentence saying what is wrong.
export function checkHeader(h: PageHeader, limits: HeaderLimits): PageFormat | string {
  let format: PageFormat;
  if (h.colorSpaceCode === CS_SGRAY && h.bitsPerColor === 8 && h.bitsPerPixel === 8) format = { colorSpace: "sgray_8", unitBytes: 1, white: 0xff };
  else if (h.colorSpaceCode === CS_SRGB && h.bitsPerColor === 8 && h.bitsPerPixel === 24) format = { colorSpace: "srgb_8", unitBytes: 3, white: 0xff };
  else if (h.colorSpaceCode === CS_BLACK && h.bitsPerColor === 1 && h.bitsPerPixel === 1) format = { colorSpace: "black_1", unitBytes: 1, white: 0x00 };
  else return `unsupported color space ${h.colorSpaceCode} at ${h.bitsPerColor} bits per color, ${h.bitsPerPixel} per pixel (this printer takes sgray_8, srgb_8 and black_1)`;
  if (h.colorOrder !== 0) return `unsupported color order ${h.colorOrder} (only chunky pixels)`;
  if (h.width === 0 || h.height === 0) return `empty page (${h.width} x ${h.height})`;
  if (h.xDpi === 0 || h.yDpi === 0 || h.xDpi > 10_000 || h.yDpi > 10_000) return `bad resolution ${h.xDpi} x ${h.yDpi} dpi`;
  if (h.width > limits.maxWidth) return `page ${h.width} pixels wide; this printer takes at most ${limits.maxWidth}`;
  if (h.height > limits.maxHeight) return `page ${h.height} lines long; this printer takes at most ${limits.maxHeight}`;
  const expected = Math.ceil((h.width * h.bitsPerPixel) / 8);
  if (h.bytesPerLine !== expected) return `BytesPerLine is ${h.bytesPerLine} but ${h.width} pixels at ${h.bitsPerPixel} bits need ${expected}`;
  return format;
}
