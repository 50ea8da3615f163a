import { JpegError } from "./errors.js";
import { HuffmanTable } from "./huffman.js";

// The marker segments a baseline decoder reads (T.81 B.2, JFIF, Adobe APP14,
// EXIF APP1), each from a bounded buffer holding the whole segment (or, for
// APP1, its start). Every count and offset is checked against the segment.

export interface JpegLimits {
  maxWidth: number;
  maxHeight: number;
}

export const DEFAULT_LIMITS: JpegLimits = { maxWidth: 16384, maxHeight: 16384 };

export interface Component {
  id: number;
  h: number;
  v: number;
  quant: number;
  dcTable: number;
  acTable: number;
}

export interface Frame {
  width: number;
  height: number;
  components: Component[];
  hMax: number;
  vMax: number;
}

// The image as stored, and what the file says about it (for placement).
export interface JpegInfo {
  width: number;
  height: number;
  components: 1 | 3;
  // "4:2:0" and so on, for messages and logs.
  sampling: string;
  // JFIF density: unit 0 = aspect ratio only, 1 = dots per inch, 2 = per cm.
  densityUnit: number;
  xDensity: number;
  yDensity: number;
  // EXIF Orientation (1 = upright as stored; 2..8 TIFF's flips and turns).
  orientation: number;
}

function u16(b: Uint8Array, i: number): number {
  return (b[i] << 8) | b[i + 1];
}

const SOF_NAMES: Record<number, string> = {
  0xc2: "progressive", 0xc3: "lossless", 0xc5: "differential sequential", 0xc6: "differential progressive",
  0xc7: "differential lossless", 0xc9: "arithmetic-coded sequential", 0xca: "arithmetic-coded progressive",
  0xcb: "arithmetic-coded lossless", 0xcd: "arithmetic-coded differential sequential",
  0xce: "arithmetic-coded differential progressive", 0xcf: "arithmetic-coded differential lossless",
};

// SOF0 (baseline) and SOF1 (extended sequential, Huffman): anything else is refused.
export function parseFrame(marker: number, s: Uint8Array, limits: JpegLimits): Frame {
  if (marker !== 0xc0 && marker !== 0xc1) {
    const name = SOF_NAMES[marker] ?? `SOF marker 0x${marker.toString(16)}`;
    const why = marker === 0xc2 || marker === 0xca
      ? " (a progressive JPEG needs every coefficient of the whole image in memory before the first line comes out; this printer decodes line by line)"
      : "";
    throw new JpegError(`unsupported JPEG: ${name}${why}; only baseline and extended sequential Huffman JPEG is printed`);
  }
  if (s.length < 6) throw new JpegError("SOF segment too short");
  const precision = s[0];
  const height = u16(s, 1), width = u16(s, 3), n = s[5];
  if (precision !== 8) throw new JpegError(`unsupported JPEG: ${precision}-bit samples (only 8-bit)`);
  if (n === 4) throw new JpegError("unsupported JPEG: 4 components (CMYK or YCCK); only gray and YCbCr/RGB are printed");
  if (n !== 1 && n !== 3) throw new JpegError(`unsupported JPEG: ${n} components`);
  if (s.length < 6 + 3 * n) throw new JpegError("SOF segment too short for its components");
  if (height === 0) throw new JpegError("unsupported JPEG: the height is given later by a DNL marker");
  if (width === 0) throw new JpegError("the JPEG is 0 pixels wide");
  if (width > limits.maxWidth || height > limits.maxHeight) {
    throw new JpegError(`the JPEG is ${width} x ${height}; this printer takes images up to ${limits.maxWidth} x ${limits.maxHeight}`);
  }
  const components: Component[] = [];
  let hMax = 1, vMax = 1;
  for (let i = 0; i < n; i++) {
    const o = 6 + 3 * i;
    const h = s[o + 1] >> 4, v = s[o + 1] & 15, quant = s[o + 2];
    if (h < 1 || h > 4 || v < 1 || v > 4) throw new JpegError(`component ${i + 1} has sampling factors ${h}x${v}`);
    if (quant > 3) throw new JpegError(`component ${i + 1} uses quantisation table ${quant}`);
    for (const c of components) if (c.id === s[o]) throw new JpegError(`two components have the id ${c.id}`);
    components.push({ id: s[o], h, v, quant, dcTable: 0, acTable: 0 });
    hMax = Math.max(hMax, h);
    vMax = Math.max(vMax, v);
  }
  if (n === 1) {
    // One component is never interleaved: its MCU is one block (T.81 A.2.2).
    components[0].h = components[0].v = 1;
    hMax = vMax = 1;
  } else {
    // Luma at full resolution, chroma at full or half in each direction:
    // 4:4:4, 4:2:2, 4:2:0, 4:4:0. Other layouts exist in the standard but
    // not from cameras or encoders in use.
    if (hMax > 2 || vMax > 2 || components[0].h !== hMax || components[0].v !== vMax) {
      throw new JpegError(`unsupported sampling ${components.map((c) => `${c.h}x${c.v}`).join(",")}`);
    }
  }
  return { width, height, components, hMax, vMax };
}

export function samplingName(frame: Frame): string {
  if (frame.components.length === 1) return "gray";
  const c = frame.components[1], d = frame.components[2];
  if (c.h !== d.h || c.v !== d.v) return "mixed";
  const key = `${frame.hMax / c.h}${frame.vMax / c.v}`;
  return ({ "11": "4:4:4", "21": "4:2:2", "22": "4:2:0", "12": "4:4:0" } as Record<string, string>)[key] ?? "mixed";
}

// DQT: one or more tables, 8- or 16-bit entries in zigzag order (kept so).
export function parseQuantTables(s: Uint8Array, tables: Uint16Array[]): void {
  let i = 0;
  while (i < s.length) {
    const pq = s[i] >> 4, tq = s[i] & 15;
    i++;
    if (pq > 1 || tq > 3) throw new JpegError("bad DQT table");
    const size = pq === 0 ? 64 : 128;
    if (i + size > s.length) throw new JpegError("DQT segment too short");
    const t = tables[tq];
    for (let k = 0; k < 64; k++) t[k] = pq === 0 ? s[i + k] : u16(s, i + 2 * k);
    i += size;
  }
}

// DHT: one or more tables; dc and ac hold 4 tables each, made when first defined.
export function parseHuffmanTables(s: Uint8Array, dc: Array<HuffmanTable | undefined>, ac: Array<HuffmanTable | undefined>): void {
  let i = 0;
  while (i < s.length) {
    if (i + 17 > s.length) throw new JpegError("DHT segment too short");
    const tc = s[i] >> 4, th = s[i] & 15;
    if (tc > 1 || th > 3) throw new JpegError("bad DHT table class or id");
    const counts = s.subarray(i + 1, i + 17);
    let total = 0;
    for (let l = 0; l < 16; l++) total += counts[l];
    i += 17;
    if (i + total > s.length) throw new JpegError("DHT segment too short for its codes");
    const tables = tc === 0 ? dc : ac;
    const table = tables[th] ?? (tables[th] = new HuffmanTable(tc === 1));
    table.load(counts, s.subarray(i, i + total));
    i += total;
  }
}

// SOS: which components, in which order, with which tables. Only one scan
// holding every component is taken (see decoder.ts).
export function parseScan(s: Uint8Array, frame: Frame, dc: Array<HuffmanTable | undefined>, ac: Array<HuffmanTable | undefined>): void {
  const n = s[0];
  if (s.length < 1 + 2 * n + 3) throw new JpegError("SOS segment too short");
  if (n !== frame.components.length) {
    throw new JpegError("unsupported JPEG: its components come in separate scans, which needs the whole image in memory");
  }
  for (let i = 0; i < n; i++) {
    const id = s[1 + 2 * i], tables = s[2 + 2 * i];
    const c = frame.components[i];
    if (c.id !== id) throw new JpegError("the scan's components are not those of the frame, in order");
    c.dcTable = tables >> 4;
    c.acTable = tables & 15;
    if (c.dcTable > 3 || c.acTable > 3 || !dc[c.dcTable]?.defined || !ac[c.acTable]?.defined) {
      throw new JpegError(`component ${i + 1} uses a Huffman table that was not defined`);
    }
  }
  const ss = s[1 + 2 * n], se = s[2 + 2 * n], a = s[3 + 2 * n];
  if (ss !== 0 || se !== 63 || a !== 0) throw new JpegError("the scan is not a sequential one (spectral selection or approximation set)");
}

// APP0 JFIF: the density (X.2 of JFIF 1.02).
export function parseJfif(s: Uint8Array, info: JpegInfo): void {
  if (s.length < 12 || s[0] !== 0x4a || s[1] !== 0x46 || s[2] !== 0x49 || s[3] !== 0x46 || s[4] !== 0) return;
  const unit = s[7], x = u16(s, 8), y = u16(s, 10);
  if (unit > 2 || x === 0 || y === 0) return;
  info.densityUnit = unit;
  info.xDensity = x;
  info.yDensity = y;
}

// APP14 Adobe: the transform flag (0: the 3 components are RGB, not YCbCr).
export function adobeTransform(s: Uint8Array): number {
  if (s.length < 12 || s[0] !== 0x41 || s[1] !== 0x64 || s[2] !== 0x6f || s[3] !== 0x62 || s[4] !== 0x65) return -1;
  return s[11];
}

// APP1 EXIF: Orientation (tag 0x0112) from IFD0 of the TIFF structure that
// follows "Exif\0\0". s may be only the start of the segment; an IFD past
// its end is simply not read.
export function exifOrientation(s: Uint8Array): number {
  if (s.length < 14 || s[0] !== 0x45 || s[1] !== 0x78 || s[2] !== 0x69 || s[3] !== 0x66 || s[4] !== 0 || s[5] !== 0) return 1;
  const t = 6;
  const little = s[t] === 0x49 && s[t + 1] === 0x49;
  if (!little && !(s[t] === 0x4d && s[t + 1] === 0x4d)) return 1;
  const r16 = (o: number) => (little ? s[t + o] | (s[t + o + 1] << 8) : (s[t + o] << 8) | s[t + o + 1]);
  const r32 = (o: number) => (little ? (r16(o) + r16(o + 2) * 65536) : (r16(o) * 65536 + r16(o + 2)));
  const tiffLength = s.length - t;
  if (r16(2) !== 42) return 1;
  const ifd = r32(4);
  if (ifd < 8 || ifd + 2 > tiffLength) return 1;
  const count = r16(ifd);
  for (let e = 0; e < count; e++) {
    const o = ifd + 2 + 12 * e;
    if (o + 12 > tiffLength) return 1;
    if (r16(o) === 0x0112) {
      // SHORT, count 1: the value sits in the first two bytes of the field.
      const value = r16(o) === 0x0112 && r16(o + 2) === 3 ? r16(o + 8) : 1;
      return value >= 1 && value <= 8 ? value : 1;
    }
  }
  return 1;
}
