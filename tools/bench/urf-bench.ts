// The URF path in the bench (BENCH_ONLY=urf runs it alone): one PDF page,
// rendered by Ghostscript to URF and to PWG Raster with the same rasterizer,
// each decoded in memory in turn (A B A B). The two decoders share their line
// code, so the figures show what URF's headers cost or save; the decoded
// pixels are checked to be the same before anything is timed.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { PwgDecoder, type RasterSink } from "../../modules/pwg/decoder.js";
import { UrfDecoder } from "../../modules/urf/decoder.js";

interface Spread { median: number; min: number; max: number; n: number }
interface Options {
  inputs: string;
  pdf: string;
  rounds: number;
  say: (message: string) => void;
  spread: (values: number[]) => Spread;
}
export interface UrfRow { space: string; urfBytes: number; pwgBytes: number; lines: number; urfMs: Spread; pwgMs: Spread }

const LIMITS = { maxWidth: 20_000, maxHeight: 40_000 };

// Decodes bytes in 64 KB chunks as the network would hand them over; returns
// the time and a checksum of every line, so the two formats can be compared.
function decode(make: (sink: RasterSink) => UrfDecoder | PwgDecoder, bytes: Uint8Array): { ms: number; lines: number; sum: number } {
  let lines = 0, sum = 0;
  const sink: RasterSink = {
    beginPage() {}, endPage() {},
    line(data, repeat) {
      lines += repeat;
      // A cheap order-sensitive sum: a few bytes per line, so it barely shows in the time.
      for (let i = 0; i < data.length; i += 61) sum = (sum * 31 + data[i] * repeat) | 0;
      return true;
    },
  };
  const start = performance.now();
  const decoder = make(sink);
  for (let o = 0; o < bytes.length; o += 65536) decoder.write(bytes.subarray(o, o + 65536));
  decoder.end();
  return { ms: performance.now() - start, lines, sum };
}

export function urfBench(o: Options): UrfRow[] | string {
  if (!fs.existsSync(o.pdf)) return `${o.pdf} is missing`;
  const help = execFileSync("gs", ["-h"], { encoding: "utf8" });
  if (!/\burf\b/.test(help)) return "this Ghostscript has no urf device";
  fs.mkdirSync(o.inputs, { recursive: true });
  const rows: UrfRow[] = [];
  for (const [space, code] of [["gray 8", 18], ["RGB 24", 19]] as const) {
    const render = (device: string, ext: string) => {
      const file = path.join(o.inputs, `urf-bench-${code}.${ext}`);
      if (!fs.existsSync(file)) {
        execFileSync("gs", ["-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", `-sDEVICE=${device}`, "-r300", `-dcupsColorSpace=${code}`, "-dcupsBitsPerColor=8",
          "-sPAPERSIZE=letter", "-dFIXEDMEDIA", "-dPDFFitPage", "-dFirstPage=1", "-dLastPage=1", `-sOutputFile=${file}`, o.pdf], { stdio: "pipe" });
      }
      return new Uint8Array(fs.readFileSync(file));
    };
    const urf = render("urf", "urf");
    const pwg = render("pwgraster", "pwg");
    const asUrf = (sink: RasterSink) => new UrfDecoder(sink, LIMITS);
    const asPwg = (sink: RasterSink) => new PwgDecoder(sink, LIMITS);
    const a = decode(asUrf, urf), b = decode(asPwg, pwg);
    if (a.lines !== b.lines || a.sum !== b.sum) return `${space}: the URF and PWG renders decode differently (${a.lines} and ${b.lines} lines)`;
    for (let i = 0; i < 3; i++) { decode(asUrf, urf); decode(asPwg, pwg); }
    o.say(`decoding one page of ${space} as URF and as PWG: ${o.rounds} rounds in turn`);
    const urfMs: number[] = [], pwgMs: number[] = [];
    for (let i = 0; i < o.rounds; i++) {
      urfMs.push(decode(asUrf, urf).ms);
      pwgMs.push(decode(asPwg, pwg).ms);
    }
    rows.push({ space, urfBytes: urf.length, pwgBytes: pwg.length, lines: a.lines, urfMs: o.spread(urfMs), pwgMs: o.spread(pwgMs) });
  }
  return rows;
}

export function urfTable(rows: UrfRow[]): string[] {
  const ms = (s: Spread) => `${s.median.toFixed(2)} ms (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
  return rows.flatMap((r) => [
    `| URF ${r.space}, one letter page at 300 dpi (${r.lines} lines, ${(r.urfBytes / 1024).toFixed(0)} KB) | ${ms(r.urfMs)} | same pixels as PWG |`,
    `| PWG ${r.space}, the same render (${(r.pwgBytes / 1024).toFixed(0)} KB) | ${ms(r.pwgMs)} | URF ÷ PWG ${(r.urfMs.median / r.pwgMs.median).toFixed(2)} |`,
  ]);
}
