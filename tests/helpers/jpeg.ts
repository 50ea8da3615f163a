import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { JpegDecoder, type JpegInfo, type JpegOutput } from "../../modules/jpeg/decoder.js";

// Decodes a JPEG through the streaming decoder, in chunks, and collects the
// rows: what the tests compare with djpeg.

export interface Decoded {
  info: JpegInfo;
  width: number;
  height: number;
  channels: number;
  pixels: Uint8Array;
}

export interface DecodeOptions {
  scale?: number;
  gray?: boolean;
  // Chunk sizes: a number, or a function giving the next size.
  chunk?: number | (() => number);
  // Columns of the reduced image to keep (default all).
  window?: (width: number) => [number, number];
  // Make the sink refuse every nth row (backpressure), resuming at once.
  refuseEvery?: number;
}

export function decode(bytes: Uint8Array, options: DecodeOptions = {}): Decoded {
  let out: Decoded | undefined;
  let plan: JpegOutput | undefined;
  let rows = 0;
  const decoder = new JpegDecoder({
    start(info) {
      const scale = options.scale ?? 1;
      const w = Math.ceil(info.width / scale);
      const [left, right] = options.window ? options.window(w) : [0, w];
      const gray = options.gray ?? info.components === 1;
      plan = { scale, left, right, gray };
      const channels = gray ? 1 : 3;
      out = { info: { ...info }, width: right - left, height: Math.ceil(info.height / scale), channels, pixels: new Uint8Array((right - left) * channels * Math.ceil(info.height / scale)) };
      return plan;
    },
    row(data, y) {
      const o = out!;
      if (data.length !== o.width * o.channels) throw new Error(`row ${y} has ${data.length} bytes`);
      o.pixels.set(data, y * o.width * o.channels);
      rows++;
      return !(options.refuseEvery && rows % options.refuseEvery === 0);
    },
  });
  const next = typeof options.chunk === "function" ? options.chunk : () => (options.chunk as number | undefined) ?? bytes.length;
  let i = 0;
  while (i < bytes.length) {
    const n = Math.max(1, Math.min(next(), bytes.length - i));
    let more = decoder.write(bytes.subarray(i, i + n));
    for (let guard = 0; !more; guard++) {
      if (guard > 100_000) throw new Error("the decoder never resumed");
      more = decoder.resume();
    }
    i += n;
  }
  decoder.end();
  if (!out) throw new Error("no image");
  return out;
}

// A PNM file (P5 or P6, maxval 255) as pixels.
export function readPnm(data: Buffer): { width: number; height: number; channels: number; pixels: Uint8Array } {
  let pos = 0;
  const token = () => {
    for (;;) {
      while (/\s/.test(String.fromCharCode(data[pos]))) pos++;
      if (data[pos] === 0x23) { while (data[pos] !== 0x0a) pos++; continue; }
      break;
    }
    const start = pos;
    while (!/\s/.test(String.fromCharCode(data[pos]))) pos++;
    return data.subarray(start, pos).toString("latin1");
  };
  const magic = token();
  const width = Number(token()), height = Number(token()), max = Number(token());
  if ((magic !== "P5" && magic !== "P6") || max !== 255) throw new Error(`unexpected PNM ${magic} ${max}`);
  pos++;
  const channels = magic === "P5" ? 1 : 3;
  return { width, height, channels, pixels: new Uint8Array(data.subarray(pos, pos + width * height * channels)) };
}

export function djpeg(file: string, args: string[]): { width: number; height: number; channels: number; pixels: Uint8Array } {
  return readPnm(execFileSync("djpeg", [...args, "-pnm", file], { maxBuffer: 1 << 28 }));
}

export interface Difference { max: number; mean: number; count: number }

export function compare(a: Uint8Array, b: Uint8Array): Difference {
  if (a.length !== b.length) throw new Error(`sizes differ: ${a.length} and ${b.length}`);
  let max = 0, sum = 0, count = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > max) max = d;
    if (d) count++;
    sum += d;
  }
  return { max, mean: sum / a.length, count };
}

// A scratch directory removed when the test ends.
export function scratch(teardown: (fn: () => void) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jpeg-test-"));
  teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// The test corpus: Ghostscript renders a real PDF to PPM, cjpeg encodes it
// at several qualities and samplings; made once per directory.
export function makeCorpus(dir: string, pdf: string, dpi = 40): Array<{ name: string; file: string }> {
  const ppm = path.join(dir, "page.ppm");
  execFileSync("gs", ["-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=ppmraw", `-r${dpi}`, "-dFirstPage=1", "-dLastPage=1", `-sOutputFile=${ppm}`, pdf]);
  const list: Array<{ name: string; file: string }> = [];
  const make = (name: string, args: string[]) => {
    const file = path.join(dir, `${name}.jpg`);
    execFileSync("cjpeg", [...args, "-outfile", file, ppm], { stdio: ["ignore", "pipe", "pipe"] });
    list.push({ name, file });
  };
  make("q90-444", ["-quality", "90", "-sample", "1x1"]);
  make("q75-422", ["-quality", "75", "-sample", "2x1"]);
  make("q50-420", ["-quality", "50", "-sample", "2x2"]);
  make("q95-440", ["-quality", "95", "-sample", "1x2"]);
  make("q20-420-restart", ["-quality", "20", "-sample", "2x2", "-restart", "3B"]);
  make("q85-420-restart-rows", ["-quality", "85", "-restart", "1"]);
  make("q80-gray", ["-quality", "80", "-grayscale"]);
  make("q100-444-optimized", ["-quality", "100", "-sample", "1x1", "-optimize"]);
  make("q70-rgb", ["-quality", "70", "-rgb"]);
  return list;
}

// An APP1 EXIF segment's body: "Exif\0\0", a TIFF header, IFD0 with one entry (Orientation).
export function exifBody(orientation: number, little: boolean): Uint8Array {
  const tiff = little
    ? [0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, orientation, 0, 0, 0, 0, 0, 0, 0]
    : [0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0];
  return Uint8Array.from([0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff]);
}

// The JPEG with an APP1 EXIF segment giving orientation, right after SOI.
export function withOrientation(jpeg: Uint8Array, orientation: number, little = true): Uint8Array {
  const body = exifBody(orientation, little);
  const out = new Uint8Array(jpeg.length + body.length + 4);
  out.set(jpeg.subarray(0, 2), 0);
  out.set([0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 255], 2);
  out.set(body, 6);
  out.set(jpeg.subarray(2), 6 + body.length);
  return out;
}
