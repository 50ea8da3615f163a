import type { Clock } from "../hal/clock.js";
import type { EngineCapabilities, EngineEvents, EngineFault, EnginePage, PrintEngine } from "../hal/engine.js";
import type { Log } from "../hal/log.js";
import type { SerialPort } from "../hal/serial.js";
import { RUN_MIXED } from "../pwg/decoder.js";
import {
  COVER_OPEN_BIT, INITIALIZE, PAPER_END_BITS, STATUS_OFFLINE, STATUS_PAPER, feedAndCut, feedDots, rasterHeader,
} from "./commands.js";

// A TTL-serial thermal receipt printer driven with ESC/POS raster commands.
// Decoded lines become 1-bit rows at the head's width (gray is thresholded or
// dithered), gathered into bands sent with GS v 0; runs of white become paper
// feeds, so a blank band costs a few bytes. Paper and cover are polled with
// DLE EOT and reported as engine faults.
//
// Written for an interpreter on a small core (XS on a Cortex-M0+ pays a
// hundred-odd cycles per interpreted operation): 1-bit rows move as bytes,
// and gray is dithered with a fixed 8 x 8 ordered pattern by ditherRow (below),
// which a board may replace with the same function in C (hosts/moddable/dither.c):
// even by runs, dithering in XS cost a gray receipt three times the head's time.

export interface ThermalConfig {
  // Dots across the head: 384 on 58 mm printers, 576 on 80 mm ones.
  headDots: number;
  dpi: number;
  // The longest page, in dots (a roll has no natural end).
  maxLength: number;
  // Ordered (8 x 8 Bayer) dithering for gray; otherwise a plain threshold.
  dither: boolean;
  // Gray values below this print black (without dithering).
  threshold: number;
  bandRows: number;
  // Paper fed after each page, in dots, and whether to cut there.
  pageGapDots: number;
  cut: boolean;
  statusPollMs: number;
  // The printer's receive buffer, and the slowest it turns rows (printed or
  // fed) into paper. With linesPerSecond > 0 the driver keeps its estimate of
  // what the printer still holds below the buffer and waits otherwise; 0 is
  // for a link slower than the printer (which then cannot fall behind).
  printerBufferBytes: number;
  linesPerSecond: number;
}

export const defaultThermalConfig: ThermalConfig = {
  headDots: 384,
  dpi: 203,
  maxLength: 8000,
  dither: true,
  threshold: 128,
  bandRows: 24,
  pageGapDots: 96,
  cut: false,
  statusPollMs: 1000,
  printerBufferBytes: 4096,
  linesPerSecond: 0,
};

const FAULT_WORDS: Record<EngineFault, string> = {
  "media-empty": "The paper roll is empty",
  "door-open": "The printer cover is open",
  "media-jam": "Paper jam",
};

// An answer to DLE EOT always has bits 1 and 4 set and bits 0 and 7 clear.
function isStatusByte(b: number): boolean {
  return (b & 0x93) === 0x12;
}

export class ThermalEngine implements PrintEngine {
  readonly capabilities: EngineCapabilities;
  readonly config: ThermalConfig;
  fault: EngineFault | undefined;
  pagesPrinted = 0;
  bytesSent = 0;
  private events: EngineEvents | undefined;
  private readonly rowBytes: number;
  private readonly band: Uint8Array;
  private bandFilled = 0;
  private readonly bandHeader = new Uint8Array(8);
  // Gray value v prints black at head dot x of paper row y when v is below
  // thresholds[(y & 7) * 8 + (x & 7)].
  private readonly thresholds: Uint8Array;
  private readonly ditherRow: DitherRow;
  // Paper rows of this page so far, white ones too: the pattern's row.
  private y = 0;
  // Pacing: when (by the monotonic clock) the printer will have turned all
  // it was sent into paper; rows of a line still owed while it catches up
  // (a copy of the line: the caller's is gone by then); what endPage and
  // endJob said while rows were owed.
  private busyUntil = 0;
  private held = 0;
  private readonly heldLine: Uint8Array;
  private heldView: Uint8Array | undefined;
  private pageEndOwed = false;
  private jobEndOwed = false;
  private paceTimer: unknown;
  private page: EnginePage | undefined;
  private offset = 0;
  private whiteRows = 0;
  // The UART's buffer is above its mark; line() has said "full" and waits.
  private serialFull = false;
  private waiting = false;
  private paperOut = false;
  private coverOpen = false;
  // Status queries sent and not yet answered, oldest first.
  private readonly asked: Array<"paper" | "offline"> = [];
  private pollTurn = 0;
  private pollTimer: unknown;

  // dither: ditherRow, or a native twin of it (the board's, in C).
  constructor(private readonly serial: SerialPort, private readonly clock: Clock, private readonly log: Log, config: Partial<ThermalConfig> = {}, dither: DitherRow = ditherRow) {
    this.config = { ...defaultThermalConfig, ...config };
    const c = this.config;
    this.rowBytes = Math.ceil(c.headDots / 8);
    this.band = new Uint8Array(this.rowBytes * c.bandRows);
    this.thresholds = c.dither ? bayerThresholds() : new Uint8Array(64).fill(c.threshold);
    this.ditherRow = dither;
    this.heldLine = new Uint8Array(c.linesPerSecond > 0 ? c.headDots : 0);
    const microns = (dots: number) => Math.round((dots / c.dpi) * 25_400);
    this.capabilities = {
      colorSpaces: ["sgray_8", "black_1"],
      resolutions: [{ x: c.dpi, y: c.dpi }],
      media: [{ name: "CUSTOM", widthMicrons: microns(c.headDots), heightMicrons: microns(c.maxLength), continuous: true }],
      maxWidth: c.headDots,
      maxHeight: c.maxLength,
    };
    serial.setEvents({ data: (bytes) => this.status(bytes), writable: () => this.drained() });
    this.poll();
  }

  // Stops the status polling (the engine is being shut down).
  close(): void {
    if (this.pollTimer !== undefined) this.clock.clearTimer(this.pollTimer);
    this.pollTimer = undefined;
    if (this.paceTimer !== undefined) this.clock.clearTimer(this.paceTimer);
    this.paceTimer = undefined;
  }

  get faultDescription(): string {
    return this.fault ? FAULT_WORDS[this.fault] : "";
  }

  setEvents(events: EngineEvents): void {
    this.events = events;
  }

  // ---- status ----

  private poll(): void {
    // Two unanswered questions mean the printer is not listening; do not pile up more.
    if (this.asked.length < 2) {
      const kind = this.pollTurn++ % 2 === 0 ? "paper" : "offline";
      this.asked.push(kind);
      this.serial.write(kind === "paper" ? STATUS_PAPER : STATUS_OFFLINE);
    }
    this.pollTimer = this.clock.setTimer(() => this.poll(), this.config.statusPollMs);
  }

  private status(bytes: Uint8Array): void {
    for (const b of bytes) {
      if (!isStatusByte(b)) continue;
      const kind = this.asked.shift();
      if (kind === "paper") this.paperOut = (b & PAPER_END_BITS) !== 0;
      else if (kind === "offline") this.coverOpen = (b & COVER_OPEN_BIT) !== 0;
    }
    const fault: EngineFault | undefined = this.paperOut ? "media-empty" : this.coverOpen ? "door-open" : undefined;
    if (fault === this.fault) return;
    this.fault = fault;
    this.log(fault ? "warn" : "info", fault ? `thermal: ${FAULT_WORDS[fault]}` : "thermal: ready again");
    this.events?.statusChanged();
    this.wake();
  }

  // ---- output ----

  private send(bytes: Uint8Array): void {
    this.bytesSent += bytes.length;
    if (!this.serial.write(bytes)) this.serialFull = true;
  }

  private drained(): void {
    this.serialFull = false;
    this.wake();
  }

  private wake(): void {
    if (!this.waiting || this.serialFull || this.fault || this.held > 0) return;
    this.waiting = false;
    this.events?.ready();
  }

  private flushBand(): void {
    if (this.bandFilled === 0) return;
    this.send(rasterHeader(this.bandHeader, this.rowBytes, this.bandFilled));
    this.send(this.bandFilled === this.config.bandRows ? this.band : this.band.subarray(0, this.bandFilled * this.rowBytes));
    this.owe(this.bandFilled);
    this.bandFilled = 0;
  }

  // The printer has rows more to print (or feed) before it is idle.
  private owe(rows: number): void {
    const rate = this.config.linesPerSecond;
    if (rate <= 0) return;
    const now = this.clock.monotonic();
    this.busyUntil = Math.max(this.busyUntil, now) + (rows * 1000) / rate;
  }

  // Milliseconds until the printer has room for one more band, by the
  // estimate that everything not yet printed is still in its buffer. Each
  // row is counted a byte longer (a band's header is 8 bytes for 24 rows) and
  // fed rows as raster rows, and 64 bytes are kept for status polls and
  // commands: an overestimate, so on the safe side.
  private paceWait(): number {
    const c = this.config;
    if (c.linesPerSecond <= 0) return 0;
    const perRow = this.rowBytes + 1;
    const room = c.printerBufferBytes - perRow * c.bandRows - 64;
    const heldMs = (room / perRow) * (1000 / c.linesPerSecond);
    return this.busyUntil - this.clock.monotonic() - heldMs;
  }

  private flushWhite(): void {
    while (this.whiteRows > 0) {
      const n = Math.min(255, this.whiteRows);
      this.send(feedDots(n));
      this.owe(n);
      this.whiteRows -= n;
    }
  }

  // ---- the engine ----

  beginJob(_jobId: string): void {
    this.pagesPrinted = 0;
    this.send(INITIALIZE);
  }

  beginPage(page: EnginePage): void {
    this.page = page;
    // Narrower pages are centred on the head.
    this.offset = Math.max(0, Math.floor((this.config.headDots - page.width) / 2));
    this.bandFilled = 0;
    this.whiteRows = 0;
    this.y = 0;
  }

  line(data: Uint8Array, repeat: number, runs?: Uint16Array): boolean {
    const page = this.page;
    if (!page) return true;
    if (this.isWhite(data, page, runs)) {
      // White rows: feed paper instead of sending dots.
      this.flushBand();
      this.whiteRows += repeat;
      this.y += repeat;
    } else {
      this.flushWhite();
      const left = this.rows(data, runs, repeat);
      if (left > 0) {
        // The printer is behind: keep the line and the rows still owed.
        this.heldLine.set(data);
        this.heldView = this.heldLine.subarray(0, data.length);
        this.held = left;
        this.pace();
      }
    }
    const more = !this.serialFull && !this.fault && this.held === 0;
    if (!more) this.waiting = true;
    return more;
  }

  // Puts up to repeat rows of the line into bands; returns how many are left
  // because a new band would not fit in the printer yet.
  private rows(data: Uint8Array, runs: Uint16Array | undefined, repeat: number): number {
    const page = this.page!;
    const rowBytes = this.rowBytes, pacing = this.config.linesPerSecond > 0;
    for (let r = 0; r < repeat; r++) {
      if (pacing && this.bandFilled === 0 && this.paceWait() > 0) return repeat - r;
      const base = this.bandFilled * rowBytes;
      if (page.colorSpace === "black_1") this.bitsToRow(data, page, base);
      else this.ditherRow(this.band, base, rowBytes, data, Math.min(page.width, this.config.headDots), this.offset, this.thresholds, this.y & 7);
      this.y++;
      if (++this.bandFilled === this.config.bandRows) this.flushBand();
    }
    return 0;
  }

  private pace(): void {
    if (this.paceTimer !== undefined) return;
    this.paceTimer = this.clock.setTimer(() => {
      this.paceTimer = undefined;
      this.released();
    }, Math.max(1, Math.ceil(this.paceWait())));
  }

  // The printer has caught up some: the owed rows (without runs: the same
  // dots, pixel by pixel), then whatever endPage and endJob were told meanwhile.
  private released(): void {
    if (this.held > 0 && this.heldView) {
      this.held = this.rows(this.heldView, undefined, this.held);
      if (this.held > 0) return this.pace();
      this.heldView = undefined;
    }
    if (this.pageEndOwed) {
      this.pageEndOwed = false;
      this.finishPage();
    }
    if (this.jobEndOwed) {
      this.jobEndOwed = false;
      this.finishJob();
    }
    this.wake();
  }

  private isWhite(data: Uint8Array, page: EnginePage, runs: Uint16Array | undefined): boolean {
    const white = page.colorSpace === "black_1" ? 0 : 0xff;
    const n = data.length;
    if (runs === undefined) {
      for (let i = 0; i < n; i++) if (data[i] !== white) return false;
      return true;
    }
    // A repeated byte is looked at once.
    let start = 0;
    for (let k = 0; start < n; k++) {
      const end = runs[k], stop = end & ~RUN_MIXED;
      if (end & RUN_MIXED) {
        for (let i = start; i < stop; i++) if (data[i] !== white) return false;
      } else if (data[start] !== white) return false;
      start = stop;
    }
    return true;
  }

  // A 1-bit line into the band at base, whole bytes at a time, centred.
  private bitsToRow(data: Uint8Array, page: EnginePage, base: number): void {
    const band = this.band;
    const rowBytes = this.rowBytes;
    band.fill(0, base, base + rowBytes);
    const width = Math.min(page.width, this.config.headDots);
    const bytes = (width + 7) >> 3;
    // Bits past the page's width are padding, whatever the client sent.
    const lastMask = (0xff00 >> (((width - 1) & 7) + 1)) & 0xff;
    const shift = this.offset & 7;
    const at = base + (this.offset >> 3);
    if (shift === 0) {
      band.set(bytes === data.length ? data : data.subarray(0, bytes), at);
      band[at + bytes - 1] &= lastMask;
      return;
    }
    let carry = 0;
    for (let i = 0; i < bytes; i++) {
      const b = i === bytes - 1 ? data[i] & lastMask : data[i];
      band[at + i] = carry | (b >> shift);
      carry = (b << (8 - shift)) & 0xff;
    }
    if (carry !== 0) band[at + bytes] = carry;
  }

  endPage(): void {
    if (this.held > 0) this.pageEndOwed = true;
    else this.finishPage();
  }

  private finishPage(): void {
    this.flushBand();
    this.flushWhite();
    const gap = this.config.cut ? this.config.pageGapDots : Math.min(255, this.config.pageGapDots);
    this.send(this.config.cut ? feedAndCut(gap) : feedDots(gap));
    this.owe(gap);
    this.page = undefined;
    this.pagesPrinted++;
  }

  endJob(aborted: boolean): void {
    if (aborted && this.held > 0) {
      // What was owed is not printed now.
      this.held = 0;
      this.heldView = undefined;
      this.pageEndOwed = false;
      if (this.paceTimer !== undefined) this.clock.clearTimer(this.paceTimer);
      this.paceTimer = undefined;
    }
    if (this.held > 0) {
      this.jobEndOwed = true;
      return;
    }
    this.finishJob(aborted);
  }

  private finishJob(aborted = false): void {
    if (aborted) {
      // Drop what is buffered in the printer, and push out what was printed.
      this.page = undefined;
      this.bandFilled = 0;
      this.whiteRows = 0;
      this.send(INITIALIZE);
      this.send(feedDots(Math.min(255, this.config.pageGapDots)));
    }
    this.waiting = false;
    const pages = this.pagesPrinted;
    // The job is done when its last byte has left for the printer.
    this.serial.flush(() => this.events?.jobFinished(pages));
  }
}

// The 8 x 8 Bayer matrix (each 2 x 2 step placed as 0 2 / 3 1, the finest
// step most significant, so mid-gray is a checkerboard) as gray
// thresholds 2, 6, ... 254: 0 prints all black, 255 none, v black at v/256 of
// the dots.
export function bayerThresholds(): Uint8Array {
  const out = new Uint8Array(64);
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      let index = 0;
      for (let bit = 1; bit <= 4; bit <<= 1) {
        const xb = (x & bit) !== 0, yb = (y & bit) !== 0;
        index = index * 4 + (yb ? (xb ? 1 : 3) : xb ? 2 : 0);
      }
      out[y * 8 + x] = index * 4 + 2;
    }
  }
  return out;
}

// One gray line into the band row at `at`: the row's rowBytes bytes cleared,
// then head dot d = x + offset black where data[x] < thresholds[phase * 8 +
// (d & 7)], for x below width. The reference, and what Node runs; the board
// binds hosts/moddable/dither.c, the same loop in C, which must print the
// same dots (tests/thermal.test.ts and the Pico runner's --compare check it).
// The caller keeps (width - 1 + offset) >> 3 below rowBytes.
export type DitherRow = (band: Uint8Array, at: number, rowBytes: number, data: Uint8Array, width: number, offset: number, thresholds: Uint8Array, phase: number) => void;

export function ditherRow(band: Uint8Array, at: number, rowBytes: number, data: Uint8Array, width: number, offset: number, thresholds: Uint8Array, phase: number): void {
  band.fill(0, at, at + rowBytes);
  const row = (phase & 7) << 3;
  for (let x = 0; x < width; x++) {
    const d = x + offset;
    if (data[x] < thresholds[row + (d & 7)]) band[at + (d >> 3)] |= 0x80 >> (d & 7);
  }
}
