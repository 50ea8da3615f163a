import { HEADER_BYTES, checkHeader, parseHeader, type HeaderLimits, type PageFormat, type PageHeader } from "./header.js";

// Streaming raster decoders (PWG Raster, and URF beside it). Bytes go in as they arrive, in
// chunks of any size; decoded lines come out one at a time with their repeat
// count, into one line buffer that is reused. Nothing else is kept: the
// decoder never holds more than the header, one line and the unread rest of
// the chunk it was given.

export interface RasterSink {
  beginPage(header: PageHeader, format: PageFormat, pageNumber: number): void;
  // The line is only valid during the call. Returns false when the sink is
  // full; the decoder then stops and waits for resume(). runs is given for
  // 1-byte units (gray and 1-bit): see RUN_MIXED.
  line(data: Uint8Array, repeat: number, runs?: Uint16Array): boolean;
  endPage(pageNumber: number): void;
}

export class RasterError extends Error {}

const enum Phase { Head, LineRepeat, LineData, Failed }

const SYNC = [0x52, 0x61, 0x53, 0x32]; // "RaS2"

// The line's runs as the document coded them, so a sink can handle a run of
// equal bytes once instead of byte by byte (on XS each byte costs about a
// hundred interpreted instructions; a run costs a handful). runs holds the end
// (exclusive) of each segment in order, the last one the line's length; a
// segment is one byte value repeated, unless its end has RUN_MIXED set
// (literal bytes). Segments may be shorter than the document's runs (a run
// split across chunks), never longer.
export const RUN_MIXED = 0x8000;
// Literal runs up to this many bytes are copied in a loop rather than with set.
const SHORT_RUN = 48;
// Runs of a 1-byte unit at least this long are one fill (see repeatUnit).
const FILL_BYTES = 64;
// In the 1-byte decoder a call of fill costs XS about what 6 bytes written
// one by one do (measured in the emulated Pico); expandRuns and decodeBytes
// have the 6 as a literal, since a module constant is a lookup per run there.

// The hot loop of a 1-byte-unit line (gray and 1-bit): as many whole runs
// as lie in chunk and in the line, from chunk[at[0]] into line[at[1]...],
// each run's end noted in runs[at[2]...] as decodeBytes notes it. at holds
// [i, pos, count, end, white]: the first three are read and written back,
// end is the line's length and white the value control 128 fills with. It
// stops before the first run that crosses the chunk's end or the line's
// (decodeBytes finishes that one, or fails), so it never reads or writes
// past chunk, end or the runs it is owed (count + end - pos fits in runs).
// This is the reference and what Node runs; the board binds the same loop in
// C (hosts/moddable/runs.c) with useRunExpander: in XS a run cost some 13,700
// cycles of a Cortex-M0+ (issue 22), in C a few dozen. They must decode the
// same bytes: the Pico runner's --compare and its hostile-line check say so.
export type ExpandRuns = (chunk: Uint8Array, line: Uint8Array, runs: Uint16Array, at: Uint32Array) => void;

export function expandRuns(chunk: Uint8Array, line: Uint8Array, runs: Uint16Array, at: Uint32Array): void {
  let i = at[0], pos = at[1], count = at[2];
  const end = at[3];
  const n = chunk.length;
  while (pos < end && i < n) {
    const control = chunk[i];
    if (control < 128) {
      const stop = pos + control + 1;
      if (stop > end || i + 1 === n) break;
      const value = chunk[i + 1];
      i += 2;
      if (control < 6) {
        do line[pos++] = value; while (pos < stop);
      } else {
        line.fill(value, pos, stop);
        pos = stop;
      }
      runs[count++] = pos;
    } else if (control === 128) {
      line.fill(at[4], pos, end);
      pos = end;
      i++;
      runs[count++] = end;
    } else {
      const bytes = 257 - control;
      if (bytes > end - pos || bytes >= n - i) break;
      i++;
      const stop = pos + bytes;
      if (bytes <= SHORT_RUN) {
        while (pos < stop) line[pos++] = chunk[i++];
      } else {
        line.set(chunk.subarray(i, i + bytes), pos);
        pos = stop;
        i += bytes;
      }
      runs[count++] = pos | RUN_MIXED;
    }
  }
  at[0] = i;
  at[1] = pos;
  at[2] = count;
}

// The board's native twin, when it has one (a module variable, not a
// constructor argument: the front ends pick the decoder, the board only its
// loop). Undefined until set: XS's preload makes a module variable that
// holds a function then read-only.
let expand: ExpandRuns | undefined;

export function useRunExpander(expander: ExpandRuns): void {
  expand = expander;
}

// The line coding PWG Raster shares with Apple's URF: per line a repeat byte,
// then runs where 0-127 repeat the next pixel, 129-255 copy literal pixels
// and 128 fills the rest with white. A format subclasses this with its own
// file and page headers (head()), and calls startLines() once a page's
// header is read and checked; the lines, the backpressure and the bounds
// are all here, once.
export abstract class RunLineDecoder {
  private phase = Phase.Head;
  private line = new Uint8Array(0);
  // The same memory as line, as 32-bit words (for repeat runs).
  private words = new Uint32Array(0);
  // The line as the sink sees it: one view per page, not one per line.
  private lineView = new Uint8Array(0);
  private runs = new Uint16Array(0);
  private runCount = 0;
  // expand's [i, pos, count, end, white].
  private readonly at = new Uint32Array(5);
  private lineBytes = 0;
  private linePos = 0;
  private lineRepeat = 0;
  private linesLeft = 0;
  private unitBytes = 1;
  private white = 0xff;
  protected pageNumber = 0;
  // A run split across chunks: the literal bytes still due, or the bytes a
  // repeat run covers and how many bytes of its unit have arrived.
  private runLiteralBytes = 0;
  private runRepeatBytes = 0;
  private runUnitFilled = 0;
  // The rest of a chunk not yet decoded while the sink is full.
  private held: Uint8Array | undefined;
  private blocked = false;
  bytesIn = 0;

  constructor(protected readonly sink: RasterSink, protected readonly limits: HeaderLimits) {}

  get pages(): number {
    return this.pageNumber;
  }

  // Reads header bytes from chunk[i...] and returns the new i; calls
  // startLines() when a page's header is complete (or fail()).
  protected abstract head(chunk: Uint8Array, i: number): number;
  // A page has ended: the next bytes are a page header again.
  protected abstract nextPage(): void;
  // The document ended between lines' worth of data: fail() unless the
  // header state is a clean end.
  protected abstract endInHead(): void;

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
    if (this.phase === Phase.Head) return this.endInHead();
    this.fail(`the document ended ${this.linesLeft} lines before the end of page ${this.pageNumber}`);
  }

  protected fail(message: string): void {
    this.phase = Phase.Failed;
    this.held = undefined;
    throw new RasterError(message);
  }

  private run(chunk: Uint8Array, start: number): boolean {
    let i = start;
    const n = chunk.length;
    while (i < n) {
      switch (this.phase) {
        case Phase.Head:
          i = this.head(chunk, i);
          break;
        case Phase.LineRepeat: {
          const repeat = chunk[i++] + 1;
          if (repeat > this.linesLeft) this.fail(`page ${this.pageNumber}: a line repeats past the end of the page`);
          this.lineRepeat = repeat;
          this.linePos = 0;
          this.runCount = 0;
          this.phase = Phase.LineData;
          break;
        }
        case Phase.LineData: {
          i = this.decodeLine(chunk, i);
          if (this.linePos < this.lineBytes) break;
          // One whole line: hand it over with its repeat count.
          this.linesLeft -= this.lineRepeat;
          const more = this.sink.line(this.lineView, this.lineRepeat, this.unitBytes === 1 ? this.runs : undefined);
          if (this.linesLeft === 0) {
            this.sink.endPage(this.pageNumber);
            this.phase = Phase.Head;
            this.nextPage();
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

  // A page whose header passed its checks: its lines come next.
  protected startLines(header: PageHeader, format: PageFormat): void {
    this.pageNumber++;
    this.lineBytes = header.bytesPerLine;
    // One buffer, grown only when a page needs a longer line than any before,
    // and a whole number of words long.
    if (this.line.length < this.lineBytes) {
      this.line = new Uint8Array((this.lineBytes + 3) & ~3);
      this.words = new Uint32Array(this.line.buffer);
      this.runs = new Uint16Array(this.line.length);
    }
    this.lineView = this.line.length === this.lineBytes ? this.line : this.line.subarray(0, this.lineBytes);
    this.unitBytes = format.unitBytes;
    this.white = format.white;
    this.at[3] = this.lineBytes;
    this.at[4] = format.white;
    this.linesLeft = header.height;
    this.runLiteralBytes = this.runRepeatBytes = this.runUnitFilled = 0;
    this.phase = Phase.LineRepeat;
    this.sink.beginPage(header, format, this.pageNumber);
  }

  // Decodes runs into the line buffer from chunk[i...]; returns the new i.
  // The position in the line lives in a local while runs follow each other
  // within the chunk, and goes back to this.linePos when the chunk or the line ends.
  private decodeLine(chunk: Uint8Array, i: number): number {
    if (this.runLiteralBytes > 0 || this.runRepeatBytes > 0) {
      i = this.finishSplitRun(chunk, i);
      if (this.runLiteralBytes > 0 || this.runRepeatBytes > 0) return i;
    }
    if (this.unitBytes === 1) return this.decodeBytes(chunk, i);
    const line = this.line;
    const unit = this.unitBytes;
    const end = this.lineBytes;
    const n = chunk.length;
    let pos = this.linePos;
    while (pos < end && i < n) {
      const control = chunk[i++];
      if (control === 128) {
        line.fill(this.white, pos, end);
        pos = end;
        break;
      }
      // Counted in bytes, not units: no division by the unit in the loop.
      const bytes = (control < 128 ? control + 1 : 257 - control) * unit;
      if (bytes > end - pos) this.fail(`page ${this.pageNumber}: a run of ${bytes / unit} pixels crosses the end of a line`);
      if (control < 128) {
        if (n - i < unit) {
          // The repeated unit itself is split across chunks.
          this.runRepeatBytes = bytes;
          this.runUnitFilled = 0;
          while (i < n) line[pos + this.runUnitFilled++] = chunk[i++];
          break;
        }
        for (let k = 0; k < unit; k++) line[pos + k] = chunk[i + k];
        i += unit;
        this.repeatUnit(pos, bytes);
        pos += bytes;
      } else {
        const take = Math.min(bytes, n - i);
        // A subarray is an object; short runs (most of them) copy by hand.
        if (take <= SHORT_RUN) {
          for (let k = 0; k < take; k++) line[pos + k] = chunk[i + k];
        } else {
          line.set(chunk.subarray(i, i + take), pos);
        }
        pos += take;
        i += take;
        if (take < bytes) {
          this.runLiteralBytes = bytes - take;
          break;
        }
      }
    }
    this.linePos = pos;
    return i;
  }

  // decodeLine for 1-byte units (the board's gray and 1-bit), noting each
  // run's end in runs. expand does the whole runs; the loop here takes what
  // it leaves: a run split across chunks, or one that crosses the line's end.
  private decodeBytes(chunk: Uint8Array, i: number): number {
    const line = this.line, runs = this.runs, at = this.at;
    at[0] = i;
    at[1] = this.linePos;
    at[2] = this.runCount;
    if (expand) expand(chunk, line, runs, at);
    else expandRuns(chunk, line, runs, at);
    i = at[0];
    let pos = at[1], count = at[2];
    const end = this.lineBytes;
    const n = chunk.length;
    // Any run expand left (it may stop early: this loop decodes every kind).
    while (pos < end && i < n) {
      const control = chunk[i++];
      if (control < 128) {
        const stop = pos + control + 1;
        if (stop > end || i === n) {
          if (stop > end) this.fail(`page ${this.pageNumber}: a run of ${control + 1} pixels crosses the end of a line`);
          // The byte to repeat is in the next chunk.
          this.runRepeatBytes = control + 1;
          this.runUnitFilled = 0;
          break;
        }
        const value = chunk[i++];
        if (control < 6) {
          do line[pos++] = value; while (pos < stop);
        } else {
          line.fill(value, pos, stop);
          pos = stop;
        }
        runs[count++] = pos;
      } else if (control === 128) {
        line.fill(this.white, pos, end);
        pos = end;
        runs[count++] = end;
        break;
      } else {
        const bytes = 257 - control;
        if (bytes > end - pos) this.fail(`page ${this.pageNumber}: a run of ${bytes} pixels crosses the end of a line`);
        const take = bytes < n - i ? bytes : n - i;
        const stop = pos + take;
        if (take <= SHORT_RUN) {
          while (pos < stop) line[pos++] = chunk[i++];
        } else {
          line.set(chunk.subarray(i, i + take), pos);
          pos = stop;
          i += take;
        }
        if (take > 0) runs[count++] = pos | RUN_MIXED;
        if (take < bytes) {
          this.runLiteralBytes = bytes - take;
          break;
        }
      }
    }
    this.linePos = pos;
    this.runCount = count;
    return i;
  }

  // Continues the run that the previous chunk ended in the middle of.
  private finishSplitRun(chunk: Uint8Array, i: number): number {
    const line = this.line;
    const n = chunk.length;
    if (this.runLiteralBytes > 0) {
      const take = Math.min(this.runLiteralBytes, n - i);
      for (let k = 0; k < take; k++) line[this.linePos + k] = chunk[i + k];
      this.linePos += take;
      this.runLiteralBytes -= take;
      if (take > 0) this.runs[this.runCount++] = this.linePos | RUN_MIXED;
      return i + take;
    }
    while (this.runUnitFilled < this.unitBytes) {
      if (i >= n) return i;
      line[this.linePos + this.runUnitFilled++] = chunk[i++];
    }
    this.repeatUnit(this.linePos, this.runRepeatBytes);
    this.linePos += this.runRepeatBytes;
    this.runs[this.runCount++] = this.linePos;
    this.runRepeatBytes = 0;
    this.runUnitFilled = 0;
    return i;
  }

  // The unit at line[at] has arrived; repeats it up to line[at + total].
  //
  // RGB runs by hand, not with copyWithin: in V8 every call of a typed-array
  // method from optimized code goes out to a C++ builtin, about 250
  // instructions before the first byte moves, and doubling the pattern of a
  // 128-pixel RGB run took up to 7 calls. That overhead was half of the
  // MuPDF RGB decode (measured with callgrind). Instead: bytes one at a time up
  // to a 4-aligned position, then whole 32-bit words through words (a view
  // of the line buffer, which is sized to whole words). Seen from an aligned
  // position the pattern repeats every 12 bytes, 3 words, whose bytes are
  // the unit's rotated by the phase r; the words are built from those bytes
  // in the machine's byte order and written 3 per turn.
  //
  // Long gray and 1-bit runs still take one fill: one call costs V8 about
  // what the word loop does, and in XS (the board, which takes only gray and
  // 1-bit) a native fill is far cheaper than any interpreted loop.
  private repeatUnit(at: number, total: number): void {
    const line = this.line;
    const unit = this.unitBytes;
    const stop = at + total;
    if (unit === 1 && total >= FILL_BYTES) {
      line.fill(line[at], at + 1, stop);
      return;
    }
    let k = at + unit;
    const wordStart = (k + 3) & ~3;
    const wordStop = stop & ~3;
    if (wordStart + 12 <= wordStop) {
      for (; k < wordStart; k++) line[k] = line[k - unit];
      // The bytes from wordStart on are p0 p1 p2 p0 p1 p2 ...
      let p0 = line[at], p1 = p0, p2 = p0;
      if (unit === 3) {
        const r = (wordStart - at) % 3;
        p0 = line[at + r];
        p1 = line[at + (r === 2 ? 0 : r + 1)];
        p2 = line[at + (r === 0 ? 2 : r - 1)];
      }
      const a = word(p0, p1, p2, p0), b = word(p1, p2, p0, p1), c = word(p2, p0, p1, p2);
      const words = this.words;
      let w = wordStart >> 2;
      const last = wordStop >> 2;
      for (; w + 3 <= last; w += 3) {
        words[w] = a;
        words[w + 1] = b;
        words[w + 2] = c;
      }
      if (w < last) words[w++] = a;
      if (w < last) words[w] = b;
      k = wordStop;
    }
    for (; k < stop; k++) line[k] = line[k - unit];
  }
}

// A streaming PWG Raster decoder (PWG 5102.4): the sync word, then per page
// a 1796-byte header and its lines.
export class PwgDecoder extends RunLineDecoder {
  private inSync = true;
  private readonly header = new Uint8Array(HEADER_BYTES);
  private filled = 0;

  protected head(chunk: Uint8Array, i: number): number {
    if (this.inSync) {
      if (chunk[i] !== SYNC[this.filled]) this.fail("not PWG raster: it does not start with \"RaS2\"");
      if (++this.filled === 4) {
        this.inSync = false;
        this.filled = 0;
      }
      return i + 1;
    }
    const take = Math.min(HEADER_BYTES - this.filled, chunk.length - i);
    this.header.set(chunk.subarray(i, i + take), this.filled);
    this.filled += take;
    if (this.filled === HEADER_BYTES) {
      const header = parseHeader(this.header);
      const format = checkHeader(header, this.limits);
      if (typeof format === "string") this.fail(`page ${this.pageNumber + 1}: ${format}`);
      this.startLines(header, format as PageFormat);
    }
    return i + take;
  }

  protected nextPage(): void {
    this.filled = 0;
  }

  protected endInHead(): void {
    if (this.inSync && this.filled === 0 && this.bytesIn === 0) return this.fail("the document is empty");
    if (this.inSync) return this.fail("the document ended inside the sync word");
    if (this.filled === 0) {
      if (this.pageNumber === 0) return this.fail("the document has no pages");
      return;
    }
    this.fail(`the document ended inside the header of page ${this.pageNumber + 1}`);
  }
}

// The 32-bit word whose bytes in memory are b0 b1 b2 b3, in this machine's
// byte order (the runs are bytes; words only move them faster).
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

function word(b0: number, b1: number, b2: number, b3: number): number {
  return LITTLE_ENDIAN ? b0 | (b1 << 8) | (b2 << 16) | (b3 << 24) : (b0 << 24) | (b1 << 16) | (b2 << 8) | b3;
}
