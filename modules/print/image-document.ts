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

// Where the image goes on the page.
export function placeImage(info: JpegInfo, p: ImagePlacement): Layout {
  const [dx, dy] = imageDpi(info);
  const naturalW = (info.width / dx) * p.xDpi, naturalH = (info.height / dy) * p.yDpi;
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

const enum State { Header, Image, Finished, Failed }

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
    return this.jpeg.bufferBytes + columns + this.across.length * 2 + this.sum.length * 4 + this.lineOut.length * 2 + this.errors.length * 4;
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
        if (this.pendingRow && !this.take(this.pendingRow, this.pendingIndex)) return false;
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
    const layout = placeImage(info, p);
    this.layout = layout;
    const cs = p.colorSpace;
    const bits = cs === "srgb_8" ? 24 : cs === "sgray_8" ? 8 : 1;
    const header: PageHeader = {
      width: layout.pageWidth, height: layout.pageHeight, xDpi: p.xDpi, yDpi: p.yDpi,
      bitsPerColor: cs === "black_1" ? 1 : 8, bitsPerPixel: bits, bytesPerLine: Math.ceil((layout.pageWidth * bits) / 8),
      colorOrder: 0, colorSpaceCode: cs === "srgb_8" ? CS_SRGB : cs === "sgray_8" ? CS_SGRAY : CS_BLACK, numColors: cs === "srgb_8" ? 3 : 1,
      pageSize: [Math.round((layout.pageWidth * 72) / p.xDpi), Math.round((layout.pageHeight * 72) / p.yDpi)],
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
    if (cs === "black_1") {
      this.errors = new Int16Array(layout.pageWidth + 2);
      this.errorsNext = new Int16Array(layout.pageWidth + 2);
    }

    const window = decodeWindow(info, layout);
    const { scale, left: winLeft, right: winRight } = window;
    this.scale = scale;
    this.reducedHeight = Math.ceil(info.height / scale);
    const kx = info.width / scale / layout.width;
    this.rowsPerDot = info.height / scale / layout.height;
    this.buildColumns(layout, kx, winLeft, winRight);
    this.across = new Uint16Array((layout.x1 - layout.x0) * this.channels);
    this.sum = new Uint32Array((layout.x1 - layout.x0) * this.channels);
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
    if (!this.topDone) {
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
      // The page row is complete.
      const more = this.emit();
      this.y++;
      if (this.y === layout.y1) {
        const bottom = layout.pageHeight - layout.y1;
        const last = bottom > 0 ? this.sink.line(this.white, bottom) : more;
        this.sink.endPage(1);
        this.state = State.Finished;
        if (!last) return this.hold(undefined, 0);
        return true;
      }
      if (!more) return this.hold(data, j);
    }
    return true;
  }

  private hold(data: Uint8Array | undefined, j: number): boolean {
    this.pendingRow = data;
    this.pendingIndex = j;
    this.blocked = true;
    return false;
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

  // The summed rows as one page line: white margins, the image between.
  private emit(): boolean {
    const layout = this.layout!;
    const sum = this.sum, weight = this.sumWeight || 1, half = weight >> 1;
    const line = this.lineOut;
    if (this.placement.colorSpace === "black_1") {
      this.dither(line, layout, sum, weight);
    } else {
      const at = layout.x0 * this.channels;
      for (let i = 0; i < sum.length; i++) line[at + i] = ((sum[i] + half) / weight) | 0;
    }
    sum.fill(0);
    this.sumWeight = 0;
    return this.sink.line(line, 1);
  }

  // Floyd–Steinberg over the image's columns (7/16 right, 3/16, 5/16,
  // 1/16 below, in 16ths of a level); 1 bits are black.
  private dither(line: Uint8Array, layout: Layout, sum: Uint32Array, weight: number): void {
    line.fill(0);
    const here = this.errors, below = this.errorsNext;
    below.fill(0);
    let right = 0;
    const half = weight >> 1;
    for (let i = 0; i < sum.length; i++) {
      const x = layout.x0 + i;
      const value = ((sum[i] + half) / weight | 0) + ((here[x + 1] + right) >> 4);
      let error = value;
      if (value < 128) line[x >> 3] |= 0x80 >> (x & 7);
      else error = value - 255;
      right = error * 7;
      below[x] += error * 3;
      below[x + 1] += error * 5;
      below[x + 2] += error;
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
