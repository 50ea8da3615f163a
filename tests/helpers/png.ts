import { readFileSync } from "node:fs";
import { inflateSync } from "node:zlib";

export interface Image { width: number; height: number; channels: number; pixels: Uint8Array }

// Reads 8-bit gray or RGB and 1-bit gray PNGs (what mutool extract and our
// simulated engine write), undoing the row filters; 1-bit is widened to 0/255.
export function readPng(file: string): Image {
  const data = readFileSync(file);
  if (data.readUInt32BE(0) !== 0x89504e47) throw new Error(`${file} is not a PNG`);
  let offset = 8;
  let width = 0, height = 0, depth = 0, type = 0;
  const idat: Buffer[] = [];
  while (offset < data.length) {
    const length = data.readUInt32BE(offset);
    const kind = data.toString("latin1", offset + 4, offset + 8);
    const body = data.subarray(offset + 8, offset + 8 + length);
    if (kind === "IHDR") { width = body.readUInt32BE(0); height = body.readUInt32BE(4); depth = body[8]; type = body[9]; }
    else if (kind === "IDAT") idat.push(body);
    else if (kind === "IEND") break;
    offset += 12 + length;
  }
  const channels = type === 2 ? 3 : type === 0 ? 1 : 0;
  if (!channels || (depth !== 8 && !(depth === 1 && type === 0))) throw new Error(`unsupported PNG: type ${type}, depth ${depth}`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = Math.ceil((width * channels * depth) / 8);
  const bpp = Math.max(1, (channels * depth) / 8);
  const rows = new Uint8Array(stride * height);
  let previous = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = rows.subarray(y * stride, (y + 1) * stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? out[i - bpp] : 0, b = previous[i], c = i >= bpp ? previous[i - bpp] : 0;
      let v = line[i];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) { const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c); v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c; }
      out[i] = v & 0xff;
    }
    previous = out;
  }
  if (depth === 8) return { width, height, channels, pixels: rows };
  const wide = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) wide[y * width + x] = rows[y * stride + (x >> 3)] & (0x80 >> (x & 7)) ? 255 : 0;
  return { width, height, channels: 1, pixels: wide };
}
