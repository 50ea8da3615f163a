import { HEADER_BYTES, checkHeader, parseHeader, type HeaderLimits, type PageFormat, type PageHeader } from "./header.js";

// A streaming PWG Raster decoder (PWG 5102.4). Bytes go in as they arrive, in
// chunks of any size; decoded lines come out one at a time with their repeat
// count, into one line buffer that is reused. Nothing else is kept: the
// decoder never holds more than the header, one line and the unread rest of
// the chunk it was given.

export interface RasterSink {
  beginPage(header: PageHeader, format: PageFormat, pageNumber: number): void;
  // The line is only valid during the call. Returns false when the sink is
  // full; the decoder then stops and waits for resume().
  line(data: Uint8Array, repeat: number): boolean;
  endPage(pageNumber: number): void;
}

export class RasterError extends Error {}

const enum Phase { Sync, Header, LineRepeat, LineData, Failed }

const SYNC = [0x52, 0x61, 0x53, 0x32]; // "RaS2"
// Runs up to this many bytes are copied in a loop rather than with set/fill.
const SHORT_RUN = 48;

export class PwgDecoder {
  private phase = Phase.Sync;
  private readonly header = new Uint8Array(HEADER_BYTES);
  private filled = 0;
  private line = new Uint8Array(0);
  // The line as the sink sees it: one view per page, not one per line.
  private lineView = new Uint8Array(0);
  private lineBytes = 0;
  private linePos = 0;
  private lineRepeat = 0;
  private linesLeft = 0;
  private unitBytes = 1;
  private white = 0xff;
  private pageNumber = 0;
  // A run split across chunks: what kind, and how many units are still due.
  private runLiteralUnits = 0;
  private runRepeatUnits = 0;
  private runUnitFilled = 0;
  // The rest of a chunk not yet decoded while the sink is full.
  private held: Uint8Array | undefined;
  private blocked = false;
  bytesIn = 0;

  constructor(private readonly sink: RasterSink, private readonly limits: HeaderLimits) {}

  get pages(): number {
    return this.pageNumber;
  }

  // Decodes what it can of chunk. Returns false when the sink filled up: the
  // rest of chunk is kept (not copied) until resume(), so the caller must not
  // reuse chunk's memory and should stop reading meanwhile.
  write(chunk: Uint8Array): boolean {
    if (this.phase === Phase.Failed) return true;
    if (this.blocked) throw new RasterError("write while the decoder is waiting for resume()");
    this.bytesIn += chunk.length;
    return this.run(chunk, 0);
  }

  // Continues after the sink made room. Returns false if it filled up again.
  resume(): boolean {
    this.blocked = false;
    const held = this.held;
    if (!held) return true;
    this.held = undefined;
    return this.run(held, 0);
  }

  // The document ended: anything but a clean page boundary is an error.
  end(): void {
    if (this.phase === Phase.Failed) return;
    if (this.phase === Phase.Sync && this.filled === 0 && this.bytesIn === 0) return this.fail("the document is empty");
    if (this.phase === Phase.Sync) return this.fail("the document ended inside the sync word");
    if (this.phase === Phase.Header && this.filled === 0) {
      if (this.pageNumber === 0) return this.fail("the document has no pages");
      return;
    }
    if (this.phase === Phase.Header) return this.fail(`the document ended inside the header of page ${this.pageNumber + 1}`);
    this.fail(`the document ended ${this.linesLeft} lines before the end of page ${this.pageNumber}`);
  }

  private fail(message: string): void {
    this.phase = Phase.Failed;
    this.held = undefined;
    throw new RasterError(message);
  }

  private run(chunk: Uint8Array, start: number): boolean {
    let i = start;
    const n = chunk.length;
    while (i < n) {
      switch (this.phase) {
        case Phase.Sync: {
          if (chunk[i] !== SYNC[this.filled]) this.fail("not PWG raster: it does not start with \"RaS2\"");
          i++;
          if (++this.filled === 4) {
            this.phase = Phase.Header;
            this.filled = 0;
          }
          break;
        }
        case Phase.Header: {
          const take = Math.min(HEADER_BYTES - this.filled, n - i);
          this.header.set(chunk.subarray(i, i + take), this.filled);
          this.filled += take;
          i += take;
          if (this.filled === HEADER_BYTES) this.startPage();
          break;
        }
        case Phase.LineRepeat: {
          const repeat = chunk[i++] + 1;
          if (repeat > this.linesLeft) this.fail(`page ${this.pageNumber}: a line repeats past the end of the page`);
          this.lineRepeat = repeat;
          this.linePos = 0;
          this.phase = Phase.LineData;
          break;
        }
        case Phase.LineData: {
          i = this.decodeLine(chunk, i);
          if (this.linePos < this.lineBytes) break;
          // One whole line: hand it over with its repeat count.
          this.linesLeft -= this.lineRepeat;
          const more = this.sink.line(this.lineView, this.lineRepeat);
          if (this.linesLeft === 0) {
            this.sink.endPage(this.pageNumber);
            this.phase = Phase.Header;
            this.filled = 0;
          } else {
            this.phase = Phase.LineRepeat;
          }
          if (!more) {
            if (i < n) this.held = chunk.subarray(i);
            this.blocked = true;
            return false;
          }
          break;
        }
        default:
          return true;
      }
    }
    return true;
  }

  private startPage(): void {
    const header = parseHeader(this.header);
    const format = checkHeader(header, this.limits);
    if (typeof format === "string") this.fail(`page ${this.pageNumber + 1}: ${format}`);
    const checked = format as PageFormat;
    this.pageNumber++;
    this.lineBytes = header.bytesPerLine;
    // One buffer, grown only when a page needs a longer line than any before.
    if (this.line.length < this.lineBytes) this.line = new Uint8Array(this.lineBytes);
    this.lineView = this.line.length === this.lineBytes ? this.line : this.line.subarray(0, this.lineBytes);
    this.unitBytes = checked.unitBytes;
    this.white = checked.white;
    this.linesLeft = header.height;
    this.runLiteralUnits = this.runRepeatUnits = this.runUnitFilled = 0;
    this.phase = Phase.LineRepeat;
    this.sink.beginPage(header, checked, this.pageNumber);
  }

  // Decodes runs into the line buffer from chunk[i...]; returns the new i.
  private decodeLine(chunk: Uint8Array, i: number): number {
    const line = this.line;
    const unit = this.unitBytes;
    const end = this.lineBytes;
    const n = chunk.length;
    while (this.linePos < end) {
      if (this.runLiteralUnits > 0) {
        // Literal units: copy as many bytes as this chunk has.
        const want = this.runLiteralUnits * unit - this.runUnitFilled;
        const take = Math.min(want, n - i);
        if (take <= 0) return i;
        // A subarray is an object; short runs (most of them) copy by hand.
        if (take <= SHORT_RUN) {
          let at = this.linePos;
          for (let k = i, stop = i + take; k < stop; k++) line[at++] = chunk[k];
        } else {
          line.set(chunk.subarray(i, i + take), this.linePos);
        }
        this.linePos += take;
        i += take;
        const done = this.runUnitFilled + take;
        this.runLiteralUnits -= Math.floor(done / unit);
        this.runUnitFilled = done % unit;
        continue;
      }
      if (this.runRepeatUnits > 0) {
        // The repeated unit arrives byte by byte into the line, then is copied.
        while (this.runUnitFilled < unit) {
          if (i >= n) return i;
          line[this.linePos + this.runUnitFilled++] = chunk[i++];
        }
        const count = this.runRepeatUnits;
        const at = this.linePos;
        const total = count * unit;
        if (total <= SHORT_RUN) {
          for (let k = at + unit; k < at + total; k++) line[k] = line[k - unit];
        } else if (unit === 1) line.fill(line[at], at + 1, at + count);
        else {
          // Double the filled span each pass instead of copying unit by unit.
          let filled = unit;
          while (filled < total) {
            const copy = Math.min(filled, total - filled);
            line.copyWithin(at + filled, at, at + copy);
            filled += copy;
          }
        }
        this.linePos += count * unit;
        this.runRepeatUnits = 0;
        this.runUnitFilled = 0;
        continue;
      }
      if (i >= n) return i;
      const control = chunk[i++];
      const unitsLeft = (end - this.linePos) / unit;
      if (control === 128) {
        line.fill(this.white, this.linePos, end);
        this.linePos = end;
      } else if (control < 128) {
        const count = control + 1;
        if (count > unitsLeft) this.fail(`page ${this.pageNumber}: a run of ${count} pixels crosses the end of a line`);
        this.runRepeatUnits = count;
      } else {
        const count = 257 - control;
        if (count > unitsLeft) this.fail(`page ${this.pageNumber}: a run of ${count} pixels crosses the end of a line`);
        this.runLiteralUnits = count;
      }
    }
    return i;
  }
}
