import type { Clock } from "../../modules/hal/clock.js";
import type { SerialEvents, SerialPort } from "../../modules/hal/serial.js";

// A thermal receipt printer as the driver sees it through its UART: it
// parses the ESC/POS byte stream into rows of dots on a paper roll, answers
// DLE EOT status queries, and can run out of paper or have its cover open.
// Used by the tests and by `npm start -- --engine thermal`.

export interface PrinterSpeed {
  bufferBytes: number;
  linesPerSecond: number;
  // Milliseconds, on the clock the bytes arrive by.
  now: () => number;
}

export class EscPosDevice {
  // Each printed or fed row of the roll, headDots wide, 1 = black.
  rows: Uint8Array[] = [];
  cuts: number[] = [];
  rasterCommands = 0;
  feedCommands = 0;
  paperOut = false;
  coverOpen = false;
  errors: string[] = [];
  private pending = new Uint8Array(0);
  private answer: ((byte: number) => void) | undefined;
  // With a speed set: the receive buffer's fill, the parsed commands not yet
  // turned into paper (their bytes and rows), and row-time not yet spent.
  private speed: PrinterSpeed | undefined;
  private level = 0;
  private work: Array<{ bytes: number; rows: number }> = [];
  private credit = 0;
  private drainedAt = 0;
  overrunBytes = 0;

  constructor(readonly headDots: number) {}

  // Makes the printer finite as real ones are: it holds bufferBytes and
  // prints (or feeds) linesPerSecond rows; bytes arriving to a full buffer
  // are lost (counted in overrunBytes, and an error), as on a UART without
  // flow control. Without this it takes anything at any speed.
  limitSpeed(speed: PrinterSpeed): void {
    this.speed = speed;
    this.drainedAt = speed.now();
  }

  private drain(speed: PrinterSpeed): void {
    const now = speed.now();
    this.credit += ((now - this.drainedAt) * speed.linesPerSecond) / 1000;
    this.drainedAt = now;
    while (this.work.length > 0) {
      const head = this.work[0];
      if (head.rows <= this.credit) {
        this.credit -= head.rows;
        this.level -= head.bytes;
        this.work.shift();
        continue;
      }
      const bytes = Math.floor((head.bytes * this.credit) / head.rows);
      head.bytes -= bytes;
      head.rows -= this.credit;
      this.level -= bytes;
      this.credit = 0;
      break;
    }
    // An idle printer does not save up time.
    if (this.work.length === 0) this.credit = 0;
  }

  onAnswer(answer: (byte: number) => void): void {
    this.answer = answer;
  }

  receive(bytes: Uint8Array): void {
    const speed = this.speed;
    if (speed) {
      this.drain(speed);
      const room = Math.max(0, speed.bufferBytes - this.level);
      if (bytes.length > room) {
        this.overrunBytes += bytes.length - room;
        this.errors.push(`receive buffer overrun: ${bytes.length - room} bytes lost`);
        bytes = bytes.subarray(0, room);
      }
      this.level += bytes.length;
    }
    const joined = new Uint8Array(this.pending.length + bytes.length);
    joined.set(this.pending, 0);
    joined.set(bytes, this.pending.length);
    let i = 0;
    for (;;) {
      const rowsBefore = this.rows.length;
      const used = this.command(joined, i);
      if (used === 0) break;
      if (speed) this.work.push({ bytes: used, rows: this.rows.length - rowsBefore });
      i += used;
    }
    this.pending = joined.slice(i);
  }

  private blank(): Uint8Array {
    return new Uint8Array(Math.ceil(this.headDots / 8));
  }

  // Parses one command at b[i]; returns its length, or 0 if it is incomplete.
  private command(b: Uint8Array, i: number): number {
    const left = b.length - i;
    if (left < 2) return 0;
    const [c0, c1] = [b[i], b[i + 1]];
    if (c0 === 0x1b && c1 === 0x40) return 2; // ESC @
    if (c0 === 0x1b && c1 === 0x4a) { // ESC J n
      if (left < 3) return 0;
      this.feedCommands++;
      for (let k = 0; k < b[i + 2]; k++) this.rows.push(this.blank());
      return 3;
    }
    if (c0 === 0x10 && c1 === 0x04) { // DLE EOT n
      if (left < 3) return 0;
      const n = b[i + 2];
      const status = 0x12 | (n === 4 && this.paperOut ? 0x60 : 0) | (n === 2 && this.coverOpen ? 0x04 : 0);
      this.answer?.(status);
      return 3;
    }
    if (c0 === 0x1d && c1 === 0x56) { // GS V 66 n
      if (left < 4) return 0;
      for (let k = 0; k < b[i + 3]; k++) this.rows.push(this.blank());
      this.cuts.push(this.rows.length);
      return 4;
    }
    if (c0 === 0x1d && c1 === 0x76) { // GS v 0 m xL xH yL yH d...
      if (left < 8) return 0;
      const width = b[i + 4] | (b[i + 5] << 8), height = b[i + 6] | (b[i + 7] << 8);
      if (left < 8 + width * height) return 0;
      this.rasterCommands++;
      if (width > Math.ceil(this.headDots / 8)) this.errors.push(`raster ${width} bytes wide on a ${this.headDots}-dot head`);
      for (let y = 0; y < height; y++) {
        const row = this.blank();
        row.set(b.subarray(i + 8 + y * width, i + 8 + (y + 1) * width).subarray(0, row.length));
        // No paper, no dots: the head runs dry.
        if (!this.paperOut) this.rows.push(row);
      }
      return 8 + width * height;
    }
    this.errors.push(`unknown command ${c0.toString(16)} ${c1.toString(16)}`);
    return 1;
  }

  // The roll as 8-bit gray (0 black, 255 white), one byte per dot.
  gray(): { width: number; height: number; pixels: Uint8Array } {
    const width = this.headDots, height = this.rows.length;
    const pixels = new Uint8Array(width * height).fill(255);
    this.rows.forEach((row, y) => {
      for (let x = 0; x < width; x++) if (row[x >> 3] & (0x80 >> (x & 7))) pixels[y * width + x] = 0;
    });
    return { width, height, pixels };
  }
}

// The UART between driver and printer: a transmit buffer of bufferBytes
// drained at the baud rate (10 bits a byte), so a fast driver is held back
// just as a real one is.
export class VirtualSerial implements SerialPort {
  private events: SerialEvents | undefined;
  private queue: Uint8Array[] = [];
  private queued = 0;
  private timer: unknown;
  private wantWritable = false;
  private flushes: Array<() => void> = [];

  constructor(private readonly device: EscPosDevice, private readonly clock: Clock, private readonly options: { baud: number; bufferBytes: number }) {
    device.onAnswer((byte) => this.clock.setTimer(() => this.events?.data(Uint8Array.of(byte)), 0));
  }

  setEvents(events: SerialEvents): void {
    this.events = events;
  }

  write(bytes: Uint8Array): boolean {
    this.queue.push(Uint8Array.from(bytes));
    this.queued += bytes.length;
    this.schedule();
    const room = this.queued < this.options.bufferBytes;
    if (!room) this.wantWritable = true;
    return room;
  }

  flush(done: () => void): void {
    if (this.queued === 0) this.clock.setTimer(done, 0);
    else this.flushes.push(done);
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = this.clock.setTimer(() => this.drain(), 10);
  }

  private drain(): void {
    this.timer = undefined;
    let budget = Math.max(1, Math.floor(this.options.baud / 10 / 100));
    while (budget > 0 && this.queue.length > 0) {
      const head = this.queue[0];
      const n = Math.min(budget, head.length);
      this.device.receive(head.subarray(0, n));
      budget -= n;
      this.queued -= n;
      if (n === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(n);
    }
    if (this.queue.length > 0) this.schedule();
    if (this.wantWritable && this.queued < this.options.bufferBytes / 2) {
      this.wantWritable = false;
      this.events?.writable();
    }
    if (this.queued === 0) for (const done of this.flushes.splice(0)) done();
  }
}
