import type { EngineColorSpace } from "../hal/engine.js";
import { JpegDecoder, JpegError, type JpegInfo, type JpegOutput } from "../jpeg/decoder.js";
import { RasterError, type RasterSink } from "../pwg/decoder.js";
import { CS_BLACK, CS_SGRAY, CS_SRGB, checkHeader, type HeaderLimits, type PageFormat, type PageHeader } from "../pwg/header.js";
import type { DecoderFactory, DocumentDecoder } from "./source.js";

// A JPEG document (IPP document-format image/jpeg) as one page for the
// engine: the image decoded as it streams, scaled by area averaging and
// placed on the page per IPP print-scaling (PWG 5100.13 / 5100.16):
//   fit       the whole image inside the page, centred, white margins;
//   fill      the page covered, the image centred and cropped;
//   none      the image at its own density (JFIF, else 72 dpi), centred, cropped;
//   auto-fit  fit if the image is larger than the page (or fidelity is asked), else none;
//   auto      as auto-fit, but fill instead of fit on a borderless page.
// On a roll (continuous) the page is as long as the placed image, up to heightDots.
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

export interface ImagePlacement {
  scaling: "auto" | "auto-fit" | "fill" | "fit" | "none";
  // The page at the engine's resolution; for a roll (continuous media) the
  // height follows the image and heightDots is the longest page.
  widthDots: number;
  heightDots: number;
  xDpi: number;
  yDpi: number;
  colorSpace: EngineColorSpace;
  continuous?: boolean;
  // The page has no unprintable margins ("auto" then fills rather than fits).
  borderless?: boolean;
  // ipp-attribute-fidelity: "auto" and "auto-fit" scale even a small image.
  fidelity?: boolean;
  // The largest page buffer spent on turning a photo upright (EXIF
  // Orientation); default 64 KB. A turned image cannot stream: every page
  // row needs a source column, so the placed image is kept whole (at 1 bit
  // a dot for black_1, 1 byte for sgray_8, 3 for srgb_8). Over the budget it
  // prints as stored.
  orientBufferBytes?: number;
}

// Density assumed when the JPEG gives none (EXIF's and most cameras' default).
const DEFAULT_DPI = 72;

export interface Layout {
  pageWidth: number;
  pageHeight: number;
  // The placed image in page dots; may extend past the page (cropped).
  left: number;
  top: number;
  width: number;
  height: number;
  // The part of the page the image covers, whole dots.
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  mode: "fit" | "fill" | "none";
}

function imageDpi(info: JpegInfo): [number, number] {
  if (info.densityUnit === 1) return [info.xDensity, info.yDensity];
  if (info.densityUnit === 2) return [info.xDensity * 2.54, info.yDensity * 2.54];
  return [DEFAULT_DPI, DEFAULT_DPI];
}

const DEFAULT_ORIENT_BUFFER = 64 * 1024;

// Where the image goes on the page; upright (orientation 5 to 8 turn it a
// quarter, so its width and height swap) unless told to take it as stored.
export function placeImage(info: JpegInfo, p: ImagePlacement, upright = true): Layout {
  const [dx, dy] = imageDpi(info);
  const turned = upright && info.orientation >= 5;
  const naturalW = turned ? (info.height / dy) * p.xDpi : (info.width / dx) * p.xDpi;
  const naturalH = turned ? (info.width / dx) * p.yDpi : (info.height / dy) * p.yDpi;
  const pageW = p.widthDots;
  const maxH = p.heightDots;
  const larger = naturalW > pageW || naturalH > maxH;
  let mode: Layout["mode"];
  if (p.scaling === "fit" || p.scaling === "fill" || p.scaling === "none") mode = p.scaling;
  else if (p.fidelity || larger) mode = p.scaling === "auto" && p.borderless ? "fill" : "fit";
  else mode = "none";
  // Scale factors from the natural size: across, and down the (longest) page.
  const across = pageW / naturalW, down = maxH / naturalH;
  let k = 1;
  if (p.continuous) {
    // A roll is as long as it needs: fit and fill both take the width, fit
    // shrinks further only to stay within the longest page.
    if (mode === "fit") k = Math.min(across, down);
    else if (mode === "fill") k = across;
  } else if (mode === "fit") {
    k = Math.min(across, down);
  } else if (mode === "fill") {
    k = Math.max(across, down);
  }
  const width = naturalW * k, height = naturalH * k;
  const pageH = p.continuous ? Math.max(1, Math.min(maxH, Math.round(height))) : maxH;
  const left = (pageW - width) / 2, top = (pageH - height) / 2;
  let x0 = Math.max(0, Math.round(left)), x1 = Math.min(pageW, Math.round(left + width));
  let y0 = Math.max(0, Math.round(top)), y1 = Math.min(pageH, Math.round(top + height));
  // An image placed smaller than a dot still gets one.
  if (x1 <= x0) { x0 = Math.min(x0, pageW - 1); x1 = x0 + 1; }
  if (y1 <= y0) { y0 = Math.min(y0, pageH - 1); y1 = y0 + 1; }
  return { pageWidth: pageW, pageHeight: pageH, left, top, width, height, x0, x1, y0, y1, mode };
}

// What the JPEG decoder is asked for: the largest IDCT reduction that still
// leaves at least one source pixel per placed dot each way, and the columns
// of the reduced image that reach the page. The width kept is under two
// source pixels per dot it covers (under 2 x the page width), except when
// even 1/8 leaves more (an image over 16 times the page width: then
// width / 8, at most 2048 with the 16384-pixel limit).
export function decodeWindow(info: JpegInfo, layout: Layout): { scale: number; left: number; right: number } {
  const perDotX = info.width / layout.width, perDotY = info.height / layout.height;
  let scale = 8;
  while (scale > 1 && (scale > perDotX || scale > perDotY)) scale >>= 1;
  const reducedW = Math.ceil(info.width / scale);
  const kx = info.width / scale / layout.width;
  const srcLeft = (layout.x0 - layout.left) * kx, srcRight = (layout.x1 - layout.left) * kx;
  const left = Math.max(0, Math.min(reducedW - 1, Math.floor(srcLeft)));
  const right = Math.max(left + 1, Math.min(reducedW, Math.ceil(srcRight)));
  return { scale, left, right };
}

// EXIF Orientation (TIFF 6.0): where the stored image's row 0 and column 0
// appear when it is shown upright. The page is laid out upright; the
// resampler works in the stored image's frame, so the page's rectangles are
// taken into that frame: flip across, flip down, then for 5 to 8 swap the axes.
function flips(orientation: number): { flipX: boolean; flipY: boolean; swap: boolean } {
  return {
    flipX: orientation === 2 || orientation === 3 || orientation === 6 || orientation === 7,
    flipY: orientation === 3 || orientation === 4 || orientation === 7 || orientation === 8,
    swap: orientation >= 5,
  };
}

// The upright page's layout seen from the stored image's frame.
export function storedFrame(layout: Layout, orientation: number): Layout {
  const { flipX, flipY, swap } = flips(orientation);
  const W = layout.pageWidth, H = layout.pageHeight;
  let left = layout.left, top = layout.top, x0 = layout.x0, x1 = layout.x1, y0 = layout.y0, y1 = layout.y1;
  if (flipX) { left = W - (left + layout.width); [x0, x1] = [W - x1, W - x0]; }
  if (flipY) { top = H - (top + layout.height); [y0, y1] = [H - y1, H - y0]; }
  if (!swap) return { ...layout, left, top, x0, x1, y0, y1 };
  return { pageWidth: H, pageHeight: W, left: top, top: left, width: layout.height, height: layout.width, x0: y0, x1: y1, y0: x0, y1: x1, mode: layout.mode };
}

const enum State { Header, Image, Turning, Finished, Failed }

class JpegDocument implements DocumentDecoder {
  private readonly jpeg: JpegDecoder;
  private state = State.Header;
  private page = 0;
  private layout: Layout | undefined;
  private channels = 1;
  private lineOut = new Uint8Array(0);
  private white = new Uint8Array(0);
  // Reduced image geometry: the decoder's scale and first column kept.
  private scale = 1;
  private reducedHeight = 0;
  private rowsPerDot = 1;
  // Per placed column: first source pixel (in the decoder's window), how
  // many, and the weights (in 1/256) of the first and last of them.
  private colFirst = new Int32Array(0);
  private colCount = new Int32Array(0);
  private colWFirst = new Int32Array(0);
  private colWLast = new Int32Array(0);
  private colTotal = new Int32Array(0);
  // One source row averaged across, and the rows summed down.
  private across = new Uint16Array(0);
  private sum = new Uint32Array(0);
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
    const columns = this.colFirst.length * 4 * 5;
    return this.jpeg.bufferBytes + columns + this.across.length * 2 + this.sum.length * 4 + this.lineOut.length * 2 + this.errors.length * 4 + this.turnBuffer.length;
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
    this.white = new Uint8Array(header.bytesPerLine);
    this.white.fill(f.white);
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
    this.across = new Uint16Array(regionWidth * this.channels);
    this.sum = new Uint32Array(regionWidth * this.channels);
    this.y = layout.y0;
    this.state = State.Image;
    this.page = 1;
    this.sink.beginPage(header, f, 1);
    return { scale, left: winLeft, right: winRight, gray: this.channels === 1 };
  }

  private buildColumns(layout: Layout, kx: number, winLeft: number, winRight: number): void {
    const n = layout.x1 - layout.x0;
    const span = winRight - winLeft;
    this.colFirst = new Int32Array(n);
    this.colCount = new Int32Array(n);
    this.colWFirst = new Int32Array(n);
    this.colWLast = new Int32Array(n);
    this.colTotal = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const x = layout.x0 + i;
      const a = clipStart((x - layout.left) * kx - winLeft, span);
      const b = clipEnd((x + 1 - layout.left) * kx - winLeft, a, span);
      const first = Math.floor(a), last = Math.ceil(b) - 1;
      this.colFirst[i] = first;
      this.colCount[i] = last - first + 1;
      const wFirst = Math.max(1, Math.round((Math.min(b, first + 1) - a) * 256));
      const wLast = last > first ? Math.max(1, Math.round((b - last) * 256)) : 0;
      this.colWFirst[i] = wFirst;
      this.colWLast[i] = wLast;
      this.colTotal[i] = wFirst + wLast + 256 * Math.max(0, last - first - 1);
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
      if (layout.y0 > 0 && !this.sink.line(this.white, layout.y0)) return this.hold(data, j);
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
    const last = bottom > 0 ? this.sink.line(this.white, bottom) : more;
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
      if (d.y0 > 0 && !this.sink.line(this.white, d.y0)) return this.hold(undefined, 0);
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
    const ch = this.channels, across = this.across;
    const first = this.colFirst, count = this.colCount, wf = this.colWFirst, wl = this.colWLast, total = this.colTotal;
    for (let i = 0, o = 0; i < first.length; i++, o += ch) {
      const f = first[i], n = count[i], t = total[i];
      for (let c = 0; c < ch; c++) {
        let s = data[f * ch + c] * wf[i];
        if (n > 1) {
          for (let k = 1; k < n - 1; k++) s += data[(f + k) * ch + c] * 256;
          s += data[(f + n - 1) * ch + c] * wl[i];
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
  private dither(dest: Uint8Array, at: number, x0: number, sum: Uint32Array, weight: number): void {
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
