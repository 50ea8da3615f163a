import type { Clock } from "../hal/clock.js";
import type { EngineCapabilities, EngineEvents, EngineFault, EnginePage, PrintEngine } from "../hal/engine.js";
import type { Log } from "../hal/log.js";
import type { SerialPort } from "../hal/serial.js";
import {
  COVER_OPEN_BIT, INITIALIZE, PAPER_END_BITS, STATUS_OFFLINE, STATUS_PAPER, feedAndCut, feedDots, rasterHeader,
} from "./commands.js";

// A TTL-serial thermal receipt printer driven with ESC/POS raster commands.
// Decoded lines become 1-bit rows at the head's width (gray is thresholded or
// dithered), gathered into bands sent with GS v 0; runs of white become paper
// feeds, so a blank band costs a few bytes. Paper and cover are polled with
// DLE EOT and reported as engine faults.

export interface ThermalConfig {
  // Dots across the head: 384 on 58 mm printers, 576 on 80 mm ones.
  headDots: number;
  dpi: number;
  // The longest page, in dots (a roll has no natural end).
  maxLength: number;
  // Floyd–Steinberg error diffusion for gray; otherwise a plain threshold.
  dither: boolean;
  // Gray values below this print black (without dithering).
  threshold: number;
  bandRows: number;
  // Paper fed after each page, in dots, and whether to cut there.
  pageGapDots: number;
  cut: boolean;
  statusPollMs: number;
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
  private readonly row: Uint8Array;
  private readonly bandHeader = new Uint8Array(8);
  private errorsThis: Int16Array;
  private errorsNext: Int16Array;
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

  constructor(private readonly serial: SerialPort, private readonly clock: Clock, private readonly log: Log, config: Partial<ThermalConfig> = {}) {
    this.config = { ...defaultThermalConfig, ...config };
    const c = this.config;
    this.rowBytes = Math.ceil(c.headDots / 8);
    this.band = new Uint8Array(this.rowBytes * c.bandRows);
    this.row = new Uint8Array(this.rowBytes);
    this.errorsThis = new Int16Array(c.headDots + 2);
    this.errorsNext = new Int16Array(c.headDots + 2);
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
    if (!this.waiting || this.serialFull || this.fault) return;
    this.waiting = false;
    this.events?.ready();
  }

  private flushBand(): void {
    if (this.bandFilled === 0) return;
    this.send(rasterHeader(this.bandHeader, this.rowBytes, this.bandFilled));
    this.send(this.bandFilled === this.config.bandRows ? this.band : this.band.subarray(0, this.bandFilled * this.rowBytes));
    this.bandFilled = 0;
  }

  private flushWhite(): void {
    while (this.whiteRows > 0) {
      const n = Math.min(255, this.whiteRows);
      this.send(feedDots(n));
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
    this.errorsThis.fill(0);
    this.errorsNext.fill(0);
  }

  line(data: Uint8Array, repeat: number): boolean {
    const page = this.page;
    if (!page) return true;
    if (this.isWhite(data, page)) {
      // White rows: feed paper instead of sending dots.
      this.flushBand();
      this.whiteRows += repeat;
      this.errorsThis.fill(0);
    } else {
      this.flushWhite();
      for (let r = 0; r < repeat; r++) {
        this.toDots(data, page);
        this.band.set(this.row, this.bandFilled * this.rowBytes);
        if (++this.bandFilled === this.config.bandRows) this.flushBand();
      }
    }
    const more = !this.serialFull && !this.fault;
    if (!more) this.waiting = true;
    return more;
  }

  private isWhite(data: Uint8Array, page: EnginePage): boolean {
    const white = page.colorSpace === "black_1" ? 0 : 0xff;
    for (let i = 0; i < data.length; i++) if (data[i] !== white) return false;
    return true;
  }

  // One source line into this.row: 1 = a black dot, centred on the head.
  private toDots(data: Uint8Array, page: EnginePage): void {
    const row = this.row;
    row.fill(0);
    const offset = this.offset;
    const width = Math.min(page.width, this.config.headDots);
    if (page.colorSpace === "black_1") {
      for (let x = 0; x < width; x++) {
        if (data[x >> 3] & (0x80 >> (x & 7))) row[(x + offset) >> 3] |= 0x80 >> ((x + offset) & 7);
      }
      return;
    }
    if (!this.config.dither) {
      const threshold = this.config.threshold;
      for (let x = 0; x < width; x++) if (data[x] < threshold) row[(x + offset) >> 3] |= 0x80 >> ((x + offset) & 7);
      return;
    }
    // Floyd–Steinberg: each pixel's rounding error goes 7/16 right, and
    // 3/16, 5/16, 1/16 to the row below (the arrays hold 16ths of a gray
    // level, indexed x + 1).
    // The error going right and the last two pixels' errors stay in locals,
    // and each slot of the row below is written once, when its three shares
    // are known: below[x] = e(x-2) + 5 e(x-1) + 3 e(x). The same sums as
    // adding each share into the array, with a third of the array accesses
    // (which is what an interpreter like XS pays for; see the bench).
    const here = this.errorsThis, below = this.errorsNext;
    let right = 0, e1 = 0, e2 = 0;
    for (let x = 0; x < width; x++) {
      const value = data[x] + ((here[x + 1] + right) >> 4);
      let error = value;
      if (value < 128) row[(x + offset) >> 3] |= 0x80 >> ((x + offset) & 7);
      else error = value - 255;
      right = error * 7;
      below[x] = e2 + 5 * e1 + 3 * error;
      e2 = e1;
      e1 = error;
    }
    below[width] = e2 + 5 * e1;
    below[width + 1] = e1;
    this.errorsThis = below;
    this.errorsNext = here;
  }

  endPage(): void {
    this.flushBand();
    this.flushWhite();
    this.send(this.config.cut ? feedAndCut(this.config.pageGapDots) : feedDots(Math.min(255, this.config.pageGapDots)));
    this.page = undefined;
    this.pagesPrinted++;
  }

  endJob(aborted: boolean): void {
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
