// The JPEG path in the bench (BENCH_ONLY=jpeg runs it alone): our decoder
// against libjpeg-turbo's djpeg on a large photo-like image and a PDF page,
// and the board's path (decode, place on a 384-dot roll, dither) in XS
// beside V8. djpeg is timed as a process (its start, a few ms, is measured
// on a 1-pixel JPEG and given beside); ours in a fresh Node process
// (v8-entry), the same measure.ts that runs in XS.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";

interface Spread { median: number; min: number; max: number; n: number }

export interface JpegBenchContext {
  root: string;
  inputs: string;
  rounds: number;
  say(message: string): void;
  spread(values: number[]): Spread;
}

// A photo stand-in with a photo's statistics for an encoder: smooth
// gradients, textures at several frequencies, sensor-like noise (seeded).
function photoPpm(width: number, height: number): Buffer {
  const head = Buffer.from(`P6\n${width} ${height}\n255\n`, "latin1");
  const body = Buffer.alloc(width * height * 3);
  let seed = 0x2545f491;
  const noise = () => {
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
    return ((seed >>> 0) % 25) - 12;
  };
  for (let y = 0; y < height; y++) {
    const v = y / height;
    for (let x = 0; x < width; x++) {
      const u = x / width;
      const texture = 30 * Math.sin(x * 0.07 + 3 * Math.sin(y * 0.013)) * Math.sin(y * 0.05) + 18 * Math.sin((x + y) * 0.21);
      const o = (y * width + x) * 3;
      body[o] = Math.max(0, Math.min(255, 120 + 90 * Math.sin(3 * u + 1) * Math.cos(2 * v) + texture + noise()));
      body[o + 1] = Math.max(0, Math.min(255, 110 + 80 * Math.sin(2 * u + 4 * v) + texture * 0.8 + noise()));
      body[o + 2] = Math.max(0, Math.min(255, 100 + 100 * Math.cos(5 * v - u) + texture * 0.6 + noise()));
    }
  }
  return Buffer.concat([head, body]);
}

function makeJpegs(ctx: JpegBenchContext): Array<{ name: string; file: string; width: number; height: number }> {
  const list: Array<{ name: string; file: string; width: number; height: number }> = [];
  const photo = (width: number, height: number) => {
    const file = path.join(ctx.inputs, `photo-${width}x${height}.jpg`);
    if (!fs.existsSync(file)) execFileSync("cjpeg", ["-quality", "90", "-outfile", file], { input: photoPpm(width, height), maxBuffer: 1 << 27 });
    list.push({ name: `photo-like ${width} x ${height}, 4:2:0, q90`, file, width, height });
  };
  photo(4000, 3000);
  photo(1600, 1200);
  const page = path.join(ctx.inputs, "page-letter-300dpi.jpg");
  if (!fs.existsSync(page)) {
    const ppm = path.join(ctx.inputs, "page-300dpi.ppm");
    execFileSync("gs", ["-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=ppmraw", "-r300", "-sPAPERSIZE=letter", "-dFIXEDMEDIA", "-dPDFFitPage",
      "-dFirstPage=1", "-dLastPage=1", `-sOutputFile=${ppm}`, "/usr/share/cups/data/default-testpage.pdf"]);
    execFileSync("cjpeg", ["-quality", "85", "-outfile", page, ppm]);
    fs.rmSync(ppm);
  }
  list.push({ name: "CUPS test page at 300 dpi (2550 x 3300), 4:2:0, q85", file: page, width: 2550, height: 3300 });
  const tiny = path.join(ctx.inputs, "tiny.jpg");
  if (!fs.existsSync(tiny)) execFileSync("cjpeg", ["-outfile", tiny], { input: Buffer.from("P5\n1 1\n255\n\x80", "latin1") });
  return list;
}

function djpegSeconds(args: string[], file: string): number {
  const start = performance.now();
  const r = spawnSync("djpeg", [...args, "-outfile", "/dev/null", file]);
  const seconds = (performance.now() - start) / 1000;
  if (r.status !== 0) throw new Error(`djpeg ${args.join(" ")}: ${r.stderr}`);
  return seconds;
}

type Timing = { seconds: number; lines: number; bytesOut: number };

function runEntry(script: string, request: object, file: string): Timing[] {
  const r = spawnSync(process.execPath, [script, JSON.stringify(request), file], { encoding: "utf8", maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${path.basename(script)}: ${r.stderr || r.stdout}`);
  return JSON.parse(r.stdout) as Timing[];
}

export async function jpegBench(ctx: JpegBenchContext): Promise<Record<string, unknown> | string> {
  for (const tool of ["cjpeg", "djpeg", "gs"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `${tool} is missing (apt-get install libjpeg-turbo-progs ghostscript)`;
  }
  fs.mkdirSync(ctx.inputs, { recursive: true });
  const jpegs = makeJpegs(ctx);
  const v8 = path.join(ctx.root, "build", "tools", "bench", "v8-entry.js");
  const xsDriver = path.join(ctx.root, "build", "tools", "bench", "xs-driver.js");
  const tiny = path.join(ctx.inputs, "tiny.jpg");
  const startup = ctx.spread(Array.from({ length: ctx.rounds }, () => djpegSeconds([], tiny)));
  const modes: Array<{ what: string; kind: string; djpeg: string[] }> = [
    { what: "full size, RGB", kind: "jpeg-rgb", djpeg: ["-dct", "int", "-nosmooth", "-rgb"] },
    { what: "full size, gray (luma only)", kind: "jpeg-gray", djpeg: ["-dct", "int", "-nosmooth", "-grayscale"] },
    { what: "placed on a 384-dot roll, gray (ours: 1/8 in the IDCT + area average; djpeg: -scale 1/8)", kind: "jpeg-receipt", djpeg: ["-dct", "int", "-nosmooth", "-grayscale", "-scale", "1/8"] },
  ];
  const rows: Array<Record<string, unknown>> = [];
  for (const jpeg of jpegs) {
    const mb = fs.statSync(jpeg.file).size / 1048576;
    for (const mode of modes) {
      if (mode.kind === "jpeg-receipt" && jpeg.width < 3072) continue;
      ctx.say(`jpeg: ${jpeg.name}, ${mode.what}: ${ctx.rounds} rounds, ours and djpeg in turn`);
      const ours: number[] = [], theirs: number[] = [];
      let lines = 0;
      djpegSeconds(mode.djpeg, jpeg.file);
      for (let round = 0; round < ctx.rounds; round++) {
        // One fresh process a round: 2 untimed decodes, then the mean of 3.
        const t = runEntry(v8, { task: { kind: mode.kind, input: jpeg.name }, warmups: 2, runs: 1, repeat: 3 }, jpeg.file)[0];
        ours.push(t.seconds);
        lines = t.lines;
        theirs.push(djpegSeconds(mode.djpeg, jpeg.file));
      }
      const o = ctx.spread(ours), d = ctx.spread(theirs);
      rows.push({
        input: jpeg.name, mode: mode.what, mb, megapixels: (jpeg.width * jpeg.height) / 1e6, lines,
        ours_s: o, djpeg_s: d, ratio: o.median / d.median,
        ours_mb_per_s: mb / o.median, djpeg_mb_per_s: mb / d.median,
        ours_mpx_per_s: (jpeg.width * jpeg.height) / 1e6 / o.median,
      });
    }
  }
  // The board's path in XS: the 1600 x 1200 photo to the roll, through the thermal driver.
  let xs: Record<string, unknown> | string;
  const small = jpegs.find((j) => j.width === 1600)!;
  try {
    ctx.say("jpeg: XS and V8, the 1600 x 1200 photo placed on a 384-dot roll and dithered");
    const request = { task: { kind: "jpeg-receipt-dither", input: small.name }, warmups: 1, runs: 3 };
    const x = runEntry(xsDriver, request, small.file);
    const v = runEntry(v8, { ...request, warmups: 5, runs: 5, repeat: 3 }, small.file);
    const xsS = ctx.spread(x.map((r) => r.seconds)), v8S = ctx.spread(v.map((r) => r.seconds));
    xs = { input: small.name, what: "decode (1/4 in the IDCT), place on 384 dots, thermal driver (dither, bands)", lines: x[0].lines,
      xs_s: xsS, v8_s: v8S, xs_vs_v8: xsS.median / v8S.median, xs_lines_per_s: x[0].lines / xsS.median };
  } catch (error) {
    xs = `xsnap does not run here (${String(error).split("\n")[0]})`;
  }
  return { djpeg_startup_s: startup, rows, xs };
}

function mmm(x: Spread, digits: number, unit = ""): string {
  return `${x.median.toFixed(digits)}${unit} (${x.min.toFixed(digits)}–${x.max.toFixed(digits)})`;
}

// The section's rows of the results table.
export function jpegTable(j: Record<string, any>): string[] {
  const rows: string[] = [];
  for (const r of j.rows) {
    rows.push(`| JPEG ${r.input} (${r.mb.toFixed(1)} MB, ${r.megapixels.toFixed(1)} Mpx), ${r.mode}: ours vs djpeg | ${mmm(r.ours_s, 3, " s")} vs ${mmm(r.djpeg_s, 3, " s")}, **ratio ${r.ratio.toFixed(2)}**; ${r.ours_mb_per_s.toFixed(1)} vs ${r.djpeg_mb_per_s.toFixed(1)} MB/s of JPEG in, ours ${r.ours_mpx_per_s.toFixed(1)} Mpx/s | context (djpeg: C + SIMD; its process start ${(j.djpeg_startup_s.median * 1000).toFixed(1)} ms is included) |`);
  }
  if (typeof j.xs === "string") rows.push(`| JPEG in XS | ${j.xs} | context |`);
  else rows.push(`| JPEG in XS: ${j.xs.input}, ${j.xs.what} | XS ${mmm(j.xs.xs_s, 2, " s")} (${j.xs.xs_lines_per_s.toFixed(0)} lines/s), V8 ${mmm(j.xs.v8_s, 3, " s")}, XS/V8 ${j.xs.xs_vs_v8.toFixed(1)} | context |`);
  return rows;
}
