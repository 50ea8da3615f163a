import { JpegDecoder, JpegError, type JpegInfo, type JpegOutput } from "../jpeg/decoder.js";
import { RasterError, type RasterSink } from "../pwg/decoder.js";
import { CS_BLACK, CS_SGRAY, CS_SRGB, checkHeader, type HeaderLimits, type PageFormat, type PageHeader } from "../pwg/header.js";
import {
  DEFAULT_ORIENT_BUFFER, decodeWindow, flips, placeImage, storedFrame, type ImagePlacement, type Layout,
} from "./image-placement.js";
import type { DecoderFactory, DocumentDecoder } from "./source.js";

export type { ImagePlacement } from "./image-placement.js";

// A JPEG document (IPP document-format image/jpeg) as one page for the
// engine: the image decoded as it streams, scaled by area averaging and
// placed on the page per IPP print-scaling (image-placement.ts).
//
// Area averaging rather than bilinear: the usual case is a phone photo
// several times wider than the head, where bilinear skips source pixels
// (aliasing, moiré on fine texture) and averaging takes every one into
// account; upscaled it degrades to pixel replication with blended edges,
// which suits a thermal head. The JPEG decoder first reduces by 1/2, 1/4 or
// 1/8 in the IDCT, to no less than the placed size, and keeps only the
// columns that land on the page: its row buffer is bounded by the page
// (at most twice the placed width, or width / 8 of the image for the very largest).
//
// black_1 is Floyd–Steinberg dithered here, once; sgray_8 goes out as gray
// (the thermal engine dithers gray itself, and passes black_1 through).
// An image turned by EXIF Orientation is kept whole in a page buffer (within
// ImagePlacement.orientBufferBytes) and sent upright once decoded.

const enum State { Header, Image, Turning, Finished, Failed }

class JpegDocument implements DocumentDecoder {
  private readonly jpeg: JpegDecoder;
  private state = State.Header;
  private page = 0;
  private layout: Layout | undefined;
  private channels = 1;
  private lineOut = new Uint8Array(0);
  private whiteByte = 0xff;
  // Reduced image geometry: the decoder's scale and first column kept.
  private scale = 1;
  private reducedHeight = 0;
  private rowsPerDot = 1;
  // Per placed column, four entries: how far its first source pixel (in the
  // decoder's window) is past the previous column's, how many pixels, and the
  // weights (in 1/256) of the first and last of them, each less one so that
  // 256 fits a byte. Bytes, not 32-bit numbers: at 1,240 columns the tables
  // were 25 KB of a 96 KB heap. Uint16 only when a step or count passes 255
  // (under 8 placed dots from a window of up to 2,048 pixels).
  private columns: Uint8Array | Uint16Array = new Uint8Array(0);
  // One source row averaged across, and the rows summed down.
  private across = new Uint8Array(0);
  private sum: Uint16Array | Uint32Array = new Uint32Array(0);
  private sumWeight = 0;
  // The page row being built, and the source row being taken in.
  private y = 0;
  private topDone = false;
  private pendingRow: Uint8Array | undefined;
  private pendingIndex = 0;
  private acrossDone = false;
  private errors = new Int16Array(0);
  private errorsNext = new Int16Array(0);
  private blocked = false;
  // The page upright, and the frame the resampler works in (the same, or the
  // stored image's when turning it upright through turnBuffer).
  private display: Layout | undefined;
  private orientation = 1;
  private turn = flips(1);
  private turnBuffer = new Uint8Array(0);
  private turnRowBytes = 0;
  private outY = 0;

  constructor(private readonly sink: RasterSink, private readonly limits: HeaderLimits, private readonly placement: ImagePlacement) {
    this.jpeg = new JpegDecoder({
      start: (info) => this.start(info),
      row: (data, y) => this.row(data, y),
    });
  }

  get pages(): number {
    return this.page;
  }

  // The buffers held for this document: the decoder's and the page's (all sized by the page).
  get bufferBytes(): number {
    return this.jpeg.bufferBytes + this.columns.byteLength + this.across.byteLength + this.sum.byteLength + this.lineOut.length + this.errors.length * 4 + this.turnBuffer.length;
  }

  // The per-column tables alone (what a page's width costs beyond its rows).
  get tableBytes(): number {
    return this.columns.byteLength;
  }

  // try/catch in place rather than a guard taking a closure: these run for every chunk.
  write(chunk: Uint8Array): boolean {
    if (this.state === State.Failed) return true;
    try {
      return this.jpeg.write(chunk);
    } catch (error) {
      throw this.failed(error);
    }
  }

  resume(): boolean {
    if (this.state === State.Failed) return true;
    try {
      if (this.blocked) {
        this.blocked = false;
        if (this.state === State.Turning) {
          if (!this.turnOut()) return false;
        } else if (this.pendingRow && !this.take(this.pendingRow, this.pendingIndex)) {
          return false;
        }
      }
      return this.jpeg.resume();
    } catch (error) {
      throw this.failed(error);
    }
  }

  end(): void {
    if (this.state === State.Failed) return;
    try {
      this.jpeg.end();
    } catch (error) {
      throw this.failed(error);
    }
    if (this.state !== State.Finished) throw this.failed(new RasterError("the JPEG ended before its page was complete"));
  }

  // Decoder errors become RasterErrors: the spooler answers invalid_document.
  private failed(error: unknown): unknown {
    this.state = State.Failed;
    return error instanceof JpegError ? new RasterError(`JPEG: ${error.message}`) : error;
  }

  // ---- the page ----

  private start(info: JpegInfo): JpegOutput {
    const p = this.placement;
    const cs = p.colorSpace;
    const bits = cs === "srgb_8" ? 24 : cs === "sgray_8" ? 8 : 1;
    // Upright if the page buffer that takes fits the budget; else as stored.
    let orientation = info.orientation;
    let display = placeImage(info, p, true);
    if (orientation !== 1) {
      const { swap } = flips(orientation);
      const across = swap ? display.y1 - display.y0 : display.x1 - display.x0;
      const down = swap ? display.x1 - display.x0 : display.y1 - display.y0;
      const rowBytes = Math.ceil((across * bits) / 8);
      if (rowBytes * down <= (p.orientBufferBytes ?? DEFAULT_ORIENT_BUFFER)) {
        this.turnBuffer = new Uint8Array(rowBytes * down);
        this.turnRowBytes = rowBytes;
      } else {
        orientation = 1;
        display = placeImage(info, p, false);
      }
    }
    this.orientation = orientation;
    this.turn = flips(orientation);
    this.display = display;
    const layout = orientation === 1 ? display : storedFrame(display, orientation);
    this.layout = layout;
    const header: PageHeader = {
      width: display.pageWidth, height: display.pageHeight, xDpi: p.xDpi, yDpi: p.yDpi,
      bitsPerColor: cs === "black_1" ? 1 : 8, bitsPerPixel: bits, bytesPerLine: Math.ceil((display.pageWidth * bits) / 8),
      colorOrder: 0, colorSpaceCode: cs === "srgb_8" ? CS_SRGB : cs === "sgray_8" ? CS_SGRAY : CS_BLACK, numColors: cs === "srgb_8" ? 3 : 1,
      pageSize: [Math.round((display.pageWidth * 72) / p.xDpi), Math.round((display.pageHeight * 72) / p.yDpi)],
      totalPageCount: 1, pageSizeName: "",
    };
    const format = checkHeader(header, this.limits);
    if (typeof format === "string") throw new RasterError(`the page for the JPEG: ${format}`);
    const f = format as PageFormat;
    this.lineOut = new Uint8Array(header.bytesPerLine);
    this.lineOut.fill(f.white);
    this.whiteByte = f.white;
    this.channels = cs === "srgb_8" ? 3 : 1;
    const regionWidth = layout.x1 - layout.x0;
    if (cs === "black_1") {
      this.errors = new Int16Array(regionWidth + 2);
      this.errorsNext = new Int16Array(regionWidth + 2);
    }

    const window = decodeWindow(info, layout);
    const { scale, left: winLeft, right: winRight } = window;
    this.scale = scale;
    this.reducedHeight = Math.ceil(info.height / scale);
    const kx = info.width / scale / layout.width;
    this.rowsPerDot = info.height / scale / layout.height;
    this.buildColumns(layout, kx, winLeft, winRight);
    // A row's average across its columns is a level (0-255). Summed down the
    // rows it needs 32 bits when a dot spans more than a source row; when
    // it spans less (an image placed larger), the weights of its one or two
    // rows add to at most 257 (each rounded from a share of 256), and 255 x
    // 257 fits 16 bits: half the page's widest buffer, where a small photo
    // placed on A4 is the common case.
    this.across = new Uint8Array(regionWidth * this.channels);
    this.sum = this.rowsPerDot < 1 ? new Uint16Array(regionWidth * this.channels) : new Uint32Array(regionWidth * this.channels);
    this.y = layout.y0;
    this.state = State.Image;
    this.page = 1;
    this.sink.beginPage(header, f, 1);
    return { scale, left: winLeft, right: winRight, gray: this.channels === 1 };
  }

  private buildColumns(layout: Layout, kx: number, winLeft: number, winRight: number): void {
    const n = layout.x1 - layout.x0;
    const span = winRight - winLeft;
    // Twice over the columns, the same arithmetic: first the widest entry,
    // to size the table, then the entries.
    let widest = 0;
    for (let pass = 0; pass < 2; pass++) {
      const table = pass === 0 ? undefined : widest > 255 ? new Uint16Array(n * 4) : new Uint8Array(n * 4);
      let previous = 0;
      for (let i = 0; i < n; i++) {
        const x = layout.x0 + i;
        const a = clipStart((x - layout.left) * kx - winLeft, span);
        const b = clipEnd((x + 1 - layout.left) * kx - winLeft, a, span);
        // a grows with x (each step is monotonic), so the steps are never negative.
        const first = Math.floor(a), last = Math.ceil(b) - 1;
        const step = first - previous, count = last - first + 1;
        previous = first;
        if (!table) {
          widest = Math.max(widest, step, count);
          continue;
        }
        const wFirst = Math.max(1, Math.round((Math.min(b, first + 1) - a) * 256));
        const wLast = last > first ? Math.max(1, Math.round((b - last) * 256)) : 1;
        const k = i * 4;
        table[k] = step;
        table[k + 1] = count;
        table[k + 2] = wFirst - 1;
        table[k + 3] = wLast - 1;
      }
      if (table) this.columns = table;
    }
  }

  // A reduced source row from the decoder. False: the engine is full; the
  // row (still valid) is finished on resume().
  private row(data: Uint8Array, index: number): boolean {
    if (this.state !== State.Image) return true;
    this.acrossDone = false;
    return this.take(data, index);
  }

  private take(data: Uint8Array, j: number): boolean {
    const layout = this.layout!;
    const turning = this.orientation !== 1;
    if (!this.topDone && !turning) {
      this.topDone = true;
      if (layout.y0 > 0 && !this.sink.line(this.lineOut, layout.y0)) return this.hold(data, j);
    }
    while (this.y < layout.y1) {
      const a = clipStart((this.y - layout.top) * this.rowsPerDot, this.reducedHeight);
      const b = clipEnd((this.y + 1 - layout.top) * this.rowsPerDot, a, this.reducedHeight);
      if (j + 1 <= a) return true;
      const w = Math.round((Math.min(b, j + 1) - Math.max(a, j)) * 256);
      if (w > 0 && j < b) {
        if (!this.acrossDone) {
          this.averageAcross(data);
          this.acrossDone = true;
        }
        const sum = this.sum, across = this.across;
        for (let i = 0; i < sum.length; i++) sum[i] += across[i] * w;
        this.sumWeight += w;
      }
      if (b > j + 1) return true;
      // The row of the placed image is complete.
      const more = this.emit();
      this.y++;
      if (this.y === layout.y1) {
        if (turning) {
          this.state = State.Turning;
          this.outY = this.display!.y0;
          return this.turnOut();
        }
        return this.finishPage(more);
      }
      if (!more) return this.hold(data, j);
    }
    return true;
  }

  // The bottom margin and the page's end, after its last image row (more: the sink's last answer).
  private finishPage(more: boolean): boolean {
    const d = this.display!;
    const bottom = d.pageHeight - d.y1;
    // The line buffer, all white again, is the margin (no white line is kept beside it).
    if (bottom > 0) this.lineOut.fill(this.whiteByte);
    const last = bottom > 0 ? this.sink.line(this.lineOut, bottom) : more;
    this.sink.endPage(1);
    this.state = State.Finished;
    return last ? true : this.hold(undefined, 0);
  }

  private hold(data: Uint8Array | undefined, j: number): boolean {
    this.pendingRow = data;
    this.pendingIndex = j;
    this.blocked = true;
    return false;
  }

  // The turned image, whole in turnBuffer (in the stored frame), out as upright page rows.
  private turnOut(): boolean {
    const d = this.display!;
    if (!this.topDone) {
      this.topDone = true;
      if (d.y0 > 0 && !this.sink.line(this.lineOut, d.y0)) return this.hold(undefined, 0);
    }
    let more = true;
    while (this.outY < d.y1) {
      this.turnedLine(this.outY++);
      more = this.sink.line(this.lineOut, 1);
      if (!more && this.outY < d.y1) return this.hold(undefined, 0);
    }
    return this.finishPage(more);
  }

  // Page row Y of the upright page from the buffer: each dot's place in the stored frame.
  private turnedLine(Y: number): void {
    const d = this.display!, s = this.layout!;
    const { flipX, flipY, swap } = this.turn;
    const line = this.lineOut, buffer = this.turnBuffer, rowBytes = this.turnRowBytes, ch = this.channels;
    const bitsOut = this.placement.colorSpace === "black_1";
    if (bitsOut) line.fill(0);
    const fy = flipY ? d.pageHeight - 1 - Y : Y;
    for (let X = d.x0; X < d.x1; X++) {
      const fx = flipX ? d.pageWidth - 1 - X : X;
      const col = (swap ? fy : fx) - s.x0, row = (swap ? fx : fy) - s.y0;
      if (bitsOut) {
        if (buffer[row * rowBytes + (col >> 3)] & (0x80 >> (col & 7))) line[X >> 3] |= 0x80 >> (X & 7);
      } else {
        const from = row * rowBytes + col * ch;
        for (let c = 0; c < ch; c++) line[X * ch + c] = buffer[from + c];
      }
    }
  }

  private averageAcross(data: Uint8Array): void {
    const ch = this.channels, across = this.across, cols = this.columns;
    let f = 0;
    for (let k = 0, o = 0; k < cols.length; k += 4, o += ch) {
      f += cols[k];
      const n = cols[k + 1], wf = cols[k + 2] + 1, wl = cols[k + 3] + 1;
      const t = n > 1 ? wf + wl + 256 * (n - 2) : wf;
      for (let c = 0; c < ch; c++) {
        let s = data[f * ch + c] * wf;
        if (n > 1) {
          for (let j = 1; j < n - 1; j++) s += data[(f + j) * ch + c] * 256;
          s += data[(f + n - 1) * ch + c] * wl;
        }
        across[o + c] = ((s + (t >> 1)) / t) | 0;
      }
    }
  }

  // The summed rows as one row of the placed image: into the page line
  // (white margins around it) and to the sink, or into the turn buffer.
  private emit(): boolean {
    const layout = this.layout!;
    const turning = this.orientation !== 1;
    const sum = this.sum, weight = this.sumWeight || 1, half = weight >> 1;
    const dest = turning ? this.turnBuffer : this.lineOut;
    const at = turning ? (this.y - layout.y0) * this.turnRowBytes : 0;
    const x0 = turning ? 0 : layout.x0;
    if (this.placement.colorSpace === "black_1") {
      if (!turning) dest.fill(0);
      this.dither(dest, at, x0, sum, weight);
    } else {
      const from = at + x0 * this.channels;
      for (let i = 0; i < sum.length; i++) dest[from + i] = ((sum[i] + half) / weight) | 0;
    }
    sum.fill(0);
    this.sumWeight = 0;
    return turning ? true : this.sink.line(this.lineOut, 1);
  }

  // Floyd–Steinberg along the row (7/16 right, 3/16, 5/16, 1/16 below, in
  // 16ths of a level), errors indexed by the row's dot + 1; 1 bits are
  // black, set from bit x0 of dest[at].
  private dither(dest: Uint8Array, at: number, x0: number, sum: Uint16Array | Uint32Array, weight: number): void {
    const here = this.errors, below = this.errorsNext;
    below.fill(0);
    let right = 0;
    const half = weight >> 1;
    for (let i = 0; i < sum.length; i++) {
      const value = ((sum[i] + half) / weight | 0) + ((here[i + 1] + right) >> 4);
      let error = value;
      const x = x0 + i;
      if (value < 128) dest[at + (x >> 3)] |= 0x80 >> (x & 7);
      else error = value - 255;
      right = error * 7;
      below[i] += error * 3;
      below[i + 1] += error * 5;
      below[i + 2] += error;
    }
    this.errors = below;
    this.errorsNext = here;
  }
}

// A dot's span of source pixels [a, b), clipped to the source [0, limit)
// and never empty.
function clipStart(a: number, limit: number): number {
  return Math.max(0, Math.min(a, limit - 1 / 256));
}

function clipEnd(b: number, a: number, limit: number): number {
  return Math.min(limit, Math.max(b, a + 1 / 256));
}

export function jpegDocument(placement: ImagePlacement): DecoderFactory {
  return (sink, limits) => new JpegDocument(sink, limits, placement);
}
