import * as fs from "node:fs";
import * as zlib from "node:zlib";
import { encodeGrayPng } from "./png-engine.js";

// Small gray previews of the pages the simulated engines wrote, for the
// front panel. Reads the PNGs our own engines write (8-bit gray, 8-bit RGB,
// 1-bit gray; not interlaced), undoing each row's filter, and averages
// boxes of pixels down to a width of about `width`.

export function thumbnail(file: string, width = 150): Buffer {
  const data = fs.readFileSync(file);
  if (data.length < 33 || data.readUInt32BE(0) !== 0x89504e47) throw new Error(`${file} is not a PNG`);
  let at = 8;
  let w = 0, h = 0, depth = 0, type = 0, interlace = 0;
  const idat: Buffer[] = [];
  for (let guard = 0; guard < 100_000 && at + 8 <= data.length; guard++) {
    const length = data.readUInt32BE(at);
    const kind = data.toString("latin1", at + 4, at + 8);
    const body = data.subarray(at + 8, at + 8 + length);
    if (kind === "IHDR") {
      w = body.readUInt32BE(0); h = body.readUInt32BE(4); depth = body[8]; type = body[9]; interlace = body[12];
    } else if (kind === "IDAT") idat.push(body);
    else if (kind === "IEND") break;
    at += 12 + length;
  }
  const channels = type === 2 ? 3 : type === 0 ? 1 : 0;
  if (channels === 0 || interlace !== 0 || !(depth === 8 || (depth === 1 && type === 0)) || w === 0 || h === 0) {
    throw new Error(`${file}: a PNG kind the thumbnailer does not read`);
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const rowBytes = depth === 1 ? Math.ceil(w / 8) : w * channels;
  const bpp = depth === 1 ? 1 : channels;
  const scale = Math.max(1, Math.ceil(w / width));
  const tw = Math.max(1, Math.floor(w / scale)), th = Math.max(1, Math.floor(h / scale));
  const sums = new Float64Array(tw * th);
  const counts = new Uint32Array(tw * th);
  let prior = Buffer.alloc(rowBytes);
  for (let y = 0; y < h; y++) {
    const start = y * (rowBytes + 1);
    const filter = raw[start];
    const row = Buffer.from(raw.subarray(start + 1, start + 1 + rowBytes));
    unfilter(filter, row, prior, bpp);
    prior = row;
    const ty = Math.min(th - 1, Math.floor(y / scale));
    for (let x = 0; x < w; x++) {
      let v: number;
      if (depth === 1) v = (row[x >> 3] >> (7 - (x & 7))) & 1 ? 255 : 0;
      else if (channels === 3) v = (row[x * 3] * 30 + row[x * 3 + 1] * 59 + row[x * 3 + 2] * 11) / 100;
      else v = row[x];
      const i = ty * tw + Math.min(tw - 1, Math.floor(x / scale));
      sums[i] += v;
      counts[i]++;
    }
  }
  const pixels = new Uint8Array(tw * th);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.round(sums[i] / Math.max(1, counts[i]));
  return encodeGrayPng(tw, th, pixels);
}

function unfilter(filter: number, row: Buffer, prior: Buffer, bpp: number): void {
  for (let i = 0; i < row.length; i++) {
    const a = i >= bpp ? row[i - bpp] : 0, b = prior[i], c = i >= bpp ? prior[i - bpp] : 0;
    switch (filter) {
      case 0: return;
      case 1: row[i] = (row[i] + a) & 0xff; break;
      case 2: row[i] = (row[i] + b) & 0xff; break;
      case 3: row[i] = (row[i] + ((a + b) >> 1)) & 0xff; break;
      case 4: {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        row[i] = (row[i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff;
        break;
      }
      default: throw new Error(`unknown PNG filter ${filter}`);
    }
  }
}
