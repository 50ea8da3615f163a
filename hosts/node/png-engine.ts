import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import type { EngineCapabilities, EngineEvents, EngineFault, EnginePage, PrintEngine } from "../../modules/hal/engine.js";
import type { Log } from "../../modules/hal/log.js";
import { OFFICE_CAPABILITIES } from "../../modules/print/office-capabilities.js";

// The simulator's print engine: every page becomes a PNG a person can open.
// Rows are deflated as they arrive, so a page is never held whole; the
// deflater's backpressure (and an optional pages-per-minute pace) make the
// engine "full", which pauses the decoder and, through it, the client.

export const FAULT_DESCRIPTIONS: Record<EngineFault, string> = {
  "media-empty": "Out of paper in tray 1",
  "media-jam": "Paper jam in the output path",
  "door-open": "The cover is open",
};

// Rows are gathered into batches this big before going to the deflater.
const BATCH_BYTES = 256 * 1024;
// How far (in lines) the paced engine may run ahead of the paper.
const PACE_SLACK_LINES = 64;
// Paced, a sheet is out of the printer only after its trailing part has
// crossed the output path (fuser to tray, here half a sheet long): a page is
// printed, and a job done, that long after its last line was imaged, as on a
// real sheet printer, where a job is still 'processing' when its last byte is in.
const OUTPUT_PATH_SHEETS = 0.5;

export interface PngEngineOptions {
  outDir: string;
  // Pages per minute; 0 prints as fast as the data comes.
  pagesPerMinute: number;
  capabilities?: EngineCapabilities;
  log: Log;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

// A whole 8-bit gray image as PNG bytes, for small pictures (a receipt).
export function encodeGrayPng(width: number, height: number, pixels: Uint8Array): Buffer {
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", zlib.deflateSync(raw)), chunk("IEND", new Uint8Array(0))]);
}

class PageWriter {
  private readonly fd: number;
  private readonly deflate = zlib.createDeflate({ level: 3 });
  private batch: Buffer;
  private filled = 0;
  private readonly rowBytes: number;
  private readonly invert: boolean;
  readonly done: Promise<void>;

  constructor(readonly file: string, readonly page: EnginePage, onDrain: () => void) {
    this.fd = fs.openSync(file, "w");
    // PNG gray 1-bit has 0 = black; PWG black_1 has 1 = black, so those rows flip.
    this.invert = page.colorSpace === "black_1";
    const [depth, type] = page.colorSpace === "srgb_8" ? [8, 2] : page.colorSpace === "sgray_8" ? [8, 0] : [1, 0];
    this.rowBytes = page.bytesPerLine + 1;
    this.batch = Buffer.allocUnsafe(Math.max(BATCH_BYTES, this.rowBytes));
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(page.width, 0);
    ihdr.writeUInt32BE(page.height, 4);
    ihdr[8] = depth;
    ihdr[9] = type;
    fs.writeSync(this.fd, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    fs.writeSync(this.fd, chunk("IHDR", ihdr));
    this.deflate.on("data", (data: Buffer) => fs.writeSync(this.fd, chunk("IDAT", data)));
    this.deflate.on("drain", onDrain);
    this.done = new Promise((resolve, reject) => {
      this.deflate.on("end", () => {
        fs.writeSync(this.fd, chunk("IEND", new Uint8Array(0)));
        fs.closeSync(this.fd);
        resolve();
      });
      this.deflate.on("error", reject);
    });
  }

  // Returns false when the deflater wants us to wait for drain.
  rows(data: Uint8Array, repeat: number): boolean {
    let more = true;
    for (let r = 0; r < repeat; r++) {
      if (this.filled + this.rowBytes > this.batch.length) more = this.flush() && more;
      const at = this.filled;
      this.batch[at] = 0; // filter: none
      if (this.invert) for (let i = 0; i < data.length; i++) this.batch[at + 1 + i] = ~data[i] & 0xff;
      else this.batch.set(data, at + 1);
      this.filled += this.rowBytes;
    }
    return more;
  }

  private flush(): boolean {
    if (this.filled === 0) return true;
    // The deflater keeps the buffer until it has read it: hand this one over
    // and start a new one (one allocation per batch, not per row).
    const full = this.batch.subarray(0, this.filled);
    this.batch = Buffer.allocUnsafe(this.batch.length);
    this.filled = 0;
    return this.deflate.write(full);
  }

  finish(): Promise<void> {
    this.flush();
    this.deflate.end();
    return this.done;
  }

  discard(): void {
    this.deflate.destroy();
    try { fs.closeSync(this.fd); } catch { /* already closed */ }
    fs.rmSync(this.file, { force: true });
  }
}

export class PngEngine implements PrintEngine {
  readonly capabilities: EngineCapabilities;
  fault: EngineFault | undefined;
  pagesPrinted = 0;
  readonly pageFiles: string[] = [];
  private events: EngineEvents | undefined;
  private jobId = "";
  private pageNumber = 0;
  private writer: PageWriter | undefined;
  private finishing: Array<Promise<void>> = [];
  private full = false;
  private waitTimer: NodeJS.Timeout | undefined;
  // Pacing: when the current page started and how many of its lines are in.
  private pageStartedAt = 0;
  private linesIn = 0;

  constructor(private readonly options: PngEngineOptions) {
    const capabilities = options.capabilities ?? OFFICE_CAPABILITIES;
    // Slowed down with --ppm, the simulator states that speed as its rating.
    this.capabilities = options.pagesPerMinute > 0 ? { ...capabilities, pagesPerMinute: options.pagesPerMinute } : capabilities;
    fs.mkdirSync(options.outDir, { recursive: true });
  }

  get faultDescription(): string {
    return this.fault ? FAULT_DESCRIPTIONS[this.fault] : "";
  }

  setEvents(events: EngineEvents): void {
    this.events = events;
  }

  setFault(fault: EngineFault | undefined): void {
    if (fault === this.fault) return;
    this.fault = fault;
    this.options.log(fault ? "warn" : "info", fault ? `engine: ${FAULT_DESCRIPTIONS[fault]}` : "engine: fault cleared");
    this.events?.statusChanged();
    if (!fault) this.wake();
  }

  beginJob(jobId: string): void {
    this.jobId = jobId.replace(/[^a-zA-Z0-9_-]/g, "_");
    this.pageNumber = 0;
    this.pagesPrinted = 0;
    this.finishing = [];
  }

  beginPage(page: EnginePage): void {
    this.pageNumber++;
    const file = path.join(this.options.outDir, `job-${this.jobId}-page-${this.pageNumber}.png`);
    this.writer = new PageWriter(file, page, () => this.wake());
    this.pageStartedAt = performance.now();
    this.linesIn = 0;
  }

  line(data: Uint8Array, repeat: number): boolean {
    const writer = this.writer;
    if (!writer) return true;
    // Faulted: the line is taken (the decoder has moved past it) but nothing
    // more is until the fault clears.
    const more = writer.rows(data, repeat);
    this.linesIn += repeat;
    if (this.fault || !more) return this.block();
    const wait = this.paceWaitMs(writer.page.height);
    if (wait > 0) {
      this.block();
      this.waitTimer = setTimeout(() => { this.waitTimer = undefined; this.wake(); }, wait);
      return false;
    }
    return true;
  }

  // When the sheet just ended reaches the tray (0: not paced, at once).
  private sheetOutAt(): number {
    if (this.options.pagesPerMinute <= 0) return 0;
    const sheetMs = 60_000 / this.options.pagesPerMinute;
    return Math.max(performance.now(), this.pageStartedAt + sheetMs) + sheetMs * OUTPUT_PATH_SHEETS;
  }

  private until(at: number): Promise<void> {
    const wait = at - performance.now();
    return wait > 0 ? new Promise((resolve) => setTimeout(resolve, Math.ceil(wait))) : Promise.resolve();
  }

  // How long until the paper catches up with the lines taken so far.
  private paceWaitMs(height: number): number {
    if (this.options.pagesPerMinute <= 0) return 0;
    const msPerLine = 60_000 / this.options.pagesPerMinute / height;
    const due = this.pageStartedAt + (this.linesIn - PACE_SLACK_LINES) * msPerLine;
    return Math.max(0, Math.ceil(due - performance.now()));
  }

  private block(): false {
    this.full = true;
    return false;
  }

  private wake(): void {
    if (!this.full || this.fault || this.waitTimer) return;
    this.full = false;
    this.events?.ready();
  }

  endPage(): void {
    const writer = this.writer;
    if (!writer) return;
    this.writer = undefined;
    const number = this.pageNumber;
    // Pages deflate side by side but come out in order, as from a printer.
    // An ended deflater never emits 'drain' again, so if its last write left
    // us full, the page's completion is what makes room.
    const written = writer.finish();
    const out = this.sheetOutAt();
    // The page is imaged once written: the next page's lines need not wait for
    // this sheet's way to the tray.
    if (out > 0) written.then(() => this.wake(), () => {});
    const previous = this.finishing.at(-1) ?? Promise.resolve();
    this.finishing.push(previous.then(() => written).then(() => this.until(out)).then(() => {
      this.pagesPrinted++;
      this.pageFiles.push(writer.file);
      this.options.log("info", `engine: page ${number} of job ${this.jobId} written to ${writer.file}`);
      this.wake();
    }));
  }

  endJob(aborted: boolean): void {
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
    this.full = false;
    if (aborted && this.writer) {
      this.writer.discard();
      this.writer = undefined;
    }
    Promise.allSettled(this.finishing).then(() => this.events?.jobFinished(this.pagesPrinted));
  }
}
