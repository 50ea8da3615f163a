// The measurements that run in both engines: bench.ts runs this file in a
// fresh Node process (V8, tools/bench/v8-entry.ts) and bundles it with
// esbuild into xsnap (XS, tools/bench/xs-entry.ts), so both run the very same
// code on the very same bytes. Only modules/ is imported, nothing from Node.
import { ThermalEngine } from "../../modules/escpos/thermal-engine.js";
import type { Clock } from "../../modules/hal/clock.js";
import type { EnginePage } from "../../modules/hal/engine.js";
import type { SerialPort } from "../../modules/hal/serial.js";
import { JpegDecoder } from "../../modules/jpeg/decoder.js";
import { jpegDocument } from "../../modules/print/image-document.js";
import { PwgDecoder, type RasterSink } from "../../modules/pwg/decoder.js";
import type { PageFormat, PageHeader } from "../../modules/pwg/header.js";

export interface Timing {
  seconds: number;
  lines: number;
  // Decoded bytes handed out (line length times repeat): the work of expanding runs.
  bytesOut: number;
}

// The bytes as a network source hands them over: 64 KB pieces (views, not copies).
const CHUNK = 65536;
const LIMITS = { maxWidth: 20_000, maxHeight: 40_000 };

class CountingSink implements RasterSink {
  lines = 0;
  bytesOut = 0;
  beginPage(): void {}
  line(data: Uint8Array, repeat: number): boolean {
    this.lines += repeat;
    this.bytesOut += data.length * repeat;
    return true;
  }
  endPage(): void {}
}

// The decoder alone, lines handed to a sink that only counts them.
export function decode(bytes: Uint8Array, now: () => number): Timing {
  const sink = new CountingSink();
  const start = now();
  const decoder = new PwgDecoder(sink, LIMITS);
  for (let o = 0; o < bytes.length; o += CHUNK) decoder.write(bytes.subarray(o, o + CHUNK));
  decoder.end();
  return { seconds: (now() - start) / 1000, lines: sink.lines, bytesOut: sink.bytesOut };
}

// A serial port that takes everything at once, and a clock that never fires:
// the thermal driver's own work, without the UART.
const serial: SerialPort = { setEvents() {}, write: () => true, flush: (done) => done() };
const clock: Clock = { monotonic: () => 0, wall: () => 0, setTimer: () => 0, defer: () => {}, clearTimer() {} };

// As the spooler does: each decoded line straight into the engine.
class EngineSink implements RasterSink {
  lines = 0;
  bytesOut = 0;
  constructor(private readonly engine: ThermalEngine) {}
  beginPage(header: PageHeader, format: PageFormat): void {
    this.engine.beginPage({ width: header.width, height: header.height, xDpi: header.xDpi, yDpi: header.yDpi, colorSpace: format.colorSpace, bytesPerLine: header.bytesPerLine });
  }
  line(data: Uint8Array, repeat: number, runs?: Uint16Array): boolean {
    this.lines += repeat;
    this.bytesOut += data.length * repeat;
    return this.engine.line(data, repeat, runs);
  }
  endPage(): void {
    this.engine.endPage();
  }
}

// A gray job through the decoder into the 58 mm thermal driver (384 dots,
// the 8 x 8 ordered dither of ditherRow, bands of 24 rows): the board's whole
// print path after the network, with the TypeScript run loop and dither the
// boards replace with C (hosts/moddable/runs.c, dither.c).
export function decodeAndDither(bytes: Uint8Array, now: () => number): Timing {
  const engine = new ThermalEngine(serial, clock, () => {}, { headDots: 384, dpi: 203, maxLength: 40_000 });
  const sink = new EngineSink(engine);
  const start = now();
  engine.beginJob("bench");
  const decoder = new PwgDecoder(sink, LIMITS);
  for (let o = 0; o < bytes.length; o += CHUNK) decoder.write(bytes.subarray(o, o + CHUNK));
  decoder.end();
  engine.endJob(false);
  return { seconds: (now() - start) / 1000, lines: sink.lines, bytesOut: sink.bytesOut };
}

// The dithering alone, on the worst line for it: 384 gray pixels, none
// white (a white line is a paper feed and costs almost nothing).
export function ditherOnly(lines: number, now: () => number): Timing {
  const engine = new ThermalEngine(serial, clock, () => {}, { headDots: 384, dpi: 203, maxLength: lines + 1 });
  const page: EnginePage = { width: 384, height: lines, xDpi: 203, yDpi: 203, colorSpace: "sgray_8", bytesPerLine: 384 };
  const line = new Uint8Array(384);
  for (let x = 0; x < 384; x++) line[x] = (x * 5 + 40) & 0xff;
  const start = now();
  engine.beginJob("bench");
  engine.beginPage(page);
  for (let y = 0; y < lines; y++) engine.line(line, 1);
  engine.endPage();
  engine.endJob(false);
  return { seconds: (now() - start) / 1000, lines, bytesOut: lines * 384 };
}

// A JPEG decoded at full size, RGB (or gray: the luma alone), rows to a sink that counts them.
export function jpegDecode(bytes: Uint8Array, gray: boolean, now: () => number, scale = 1): Timing {
  let lines = 0, bytesOut = 0;
  const start = now();
  const decoder = new JpegDecoder({
    start: (info) => ({ scale, left: 0, right: Math.ceil(info.width / scale), gray }),
    row: (data) => { lines++; bytesOut += data.length; return true; },
  });
  for (let o = 0; o < bytes.length; o += CHUNK) decoder.write(bytes.subarray(o, o + CHUNK));
  decoder.end();
  return { seconds: (now() - start) / 1000, lines, bytesOut };
}

// A JPEG placed on a 58 mm roll (384 dots at 203 dpi, fit, gray) and, when
// dither, printed by the thermal driver: the board's path for a photo.
export function jpegReceipt(bytes: Uint8Array, dither: boolean, now: () => number): Timing {
  const engine = new ThermalEngine(serial, clock, () => {}, { headDots: 384, dpi: 203, maxLength: 40_000 });
  const sink: RasterSink & { lines: number; bytesOut: number } = dither ? new EngineSink(engine) : new CountingSink();
  const start = now();
  engine.beginJob("bench");
  const doc = jpegDocument({ scaling: "fit", widthDots: 384, heightDots: 40_000, xDpi: 203, yDpi: 203, colorSpace: "sgray_8", continuous: true })(sink, { maxWidth: 384, maxHeight: 40_000 });
  for (let o = 0; o < bytes.length; o += CHUNK) doc.write(bytes.subarray(o, o + CHUNK));
  doc.end();
  engine.endJob(false);
  return { seconds: (now() - start) / 1000, lines: sink.lines, bytesOut: sink.bytesOut };
}

export type Task = { kind: "decode"; input: string } | { kind: "dither-job"; input: string } | { kind: "dither-only"; lines: number }
  | { kind: "jpeg-rgb" | "jpeg-gray" | "jpeg-receipt" | "jpeg-receipt-dither"; input: string; scale?: number };

// Runs one task `runs` times after `warmups` untimed runs; every time is
// kept. Each timed run does the task `repeat` times and reports the time of
// one: V8 finishes a 2-page input in a few milliseconds, too short to time
// alone on a busy machine.
export function runTask(task: Task, bytes: Uint8Array | undefined, warmups: number, runs: number, now: () => number, repeat = 1): Timing[] {
  const once = (): Timing => {
    if (task.kind === "dither-only") return ditherOnly(task.lines, now);
    if (!bytes) throw new Error(`no bytes for ${task.input}`);
    if (task.kind === "jpeg-rgb" || task.kind === "jpeg-gray") return jpegDecode(bytes, task.kind === "jpeg-gray", now, task.scale);
    if (task.kind === "jpeg-receipt" || task.kind === "jpeg-receipt-dither") return jpegReceipt(bytes, task.kind === "jpeg-receipt-dither", now);
    return task.kind === "decode" ? decode(bytes, now) : decodeAndDither(bytes, now);
  };
  for (let i = 0; i < warmups; i++) once();
  const times: Timing[] = [];
  for (let i = 0; i < runs; i++) {
    const first = once();
    let seconds = first.seconds;
    for (let r = 1; r < repeat; r++) seconds += once().seconds;
    times.push({ seconds: seconds / repeat, lines: first.lines, bytesOut: first.bytesOut });
  }
  return times;
}
