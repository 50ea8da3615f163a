import { cbToB, cbToG, crToG, crToR } from "./color.js";
import { JpegError } from "./errors.js";
import { EntropyReader, STARVED } from "./entropy.js";
import type { HuffmanTable } from "./huffman.js";
import { idct8x8, idctDcOnly, idctHalf, idctQuarter } from "./idct.js";
import {
  DEFAULT_LIMITS, adobeTransform, exifOrientation, parseFrame, parseHuffmanTables, parseJfif, parseQuantTables, parseScan,
  samplingName, type Frame, type JpegInfo, type JpegLimits,
} from "./segments.js";

// A streaming baseline JPEG decoder (ITU T.81, JFIF). Bytes go in as they
// arrive, in chunks split anywhere; rows come out one MCU row at a time from
// buffers sized when the scan starts. What is kept: the tables (about 10 KB
// for the usual two DC and two AC Huffman tables, 512 bytes of quantisers),
// one MCU row of the output window per component, and while an MCU's bytes
// straddle two chunks, those bytes (at most CARRY_BYTES).
//
// The output is bounded by what the caller asks for, not by the image: at
// the start of the scan the sink picks a reduction (1, 2, 4 or 8, done in the
// IDCT: block means computed from the coefficients, 1/8 the DC term alone)
// and the columns it needs; blocks outside those columns are entropy-decoded
// (they must be, to find the next one) but never transformed or stored.
//
// Suspension: an MCU is decoded from a saved state; if the bytes run out in
// the middle, the state is restored and the MCU's bytes wait in the carry
// buffer for the next chunk. Restart markers (DRI/RSTn) are followed.
// Refused with a JpegError: progressive, arithmetic, lossless, hierarchical,
// 12-bit, CMYK/YCCK, DNL, components in separate scans.

export interface JpegOutput {
  // The image comes out reduced by this factor: 1, 2, 4 or 8.
  scale: number;
  // The columns delivered, [left, right) of the reduced image's ceil(width / scale).
  left: number;
  right: number;
  // One byte per pixel (luma) rather than three (RGB).
  gray: boolean;
}

export interface JpegSink {
  // All headers have been read, before the first row: the sink decides the output.
  start(info: JpegInfo): JpegOutput;
  // Row y of the reduced image, (right - left) pixels. Valid until the
  // decoder continues; returning false stops it until resume().
  row(data: Uint8Array, y: number): boolean;
}

export { JpegError } from "./errors.js";
export type { JpegInfo, JpegLimits } from "./segments.js";

const enum Phase { Soi, SoiSecond, Marker, MarkerCode, Length, LengthSecond, Segment, Entropy, Done, Failed }

// The largest segment read whole: a DHT with four full tables is 4 x 273 bytes.
const SEGMENT_BYTES = 1100;
// An MCU of up to 10 blocks is at most about 2.2 KB of codes (64 codes of
// at most 16 + 11 bits a block), twice that if every byte is a stuffed 0xFF;
// more than this is refused as corrupt. (It was 8 KB, room a 96 KB board's
// heap does not have beside the page's rows.)
const CARRY_BYTES = 4608;

interface Plane {
  // Which component, and how it maps onto output pixels.
  comp: number;
  samples: Uint8Array;
  width: number;
  // First stored block column, and the end (exclusive).
  firstBlock: number;
  endBlock: number;
  // log2 of the horizontal and vertical upsampling (0 or 1).
  hShift: number;
  vShift: number;
}

export class JpegDecoder {
  private phase = Phase.Soi;
  // The IDCT's scratch, one per decoder (see idct8x8).
  private readonly idctScratch = new Int32Array(64);
  private marker = 0;
  private segmentLeft = 0;
  private segmentFill = 0;
  private segmentKeep = 0;
  private readonly segment = new Uint8Array(SEGMENT_BYTES);
  private readonly quant = [new Uint16Array(64), new Uint16Array(64), new Uint16Array(64), new Uint16Array(64)];
  private quantDefined = 0;
  // Made when a DHT defines them (most files use two of each): 1.4 KB a DC table, 3.4 KB an AC one.
  private readonly dcTables: Array<HuffmanTable | undefined> = [undefined, undefined, undefined, undefined];
  private readonly acTables: Array<HuffmanTable | undefined> = [undefined, undefined, undefined, undefined];
  private frame: Frame | undefined;
  private restartInterval = 0;
  private transform = -1;
  private scans = 0;
  private afterScan = false;
  readonly info: JpegInfo = { width: 0, height: 0, components: 1, sampling: "", densityUnit: 0, xDensity: 1, yDensity: 1, orientation: 1 };

  // ---- the scan's geometry, set at SOS ----
  private scale = 1;
  private blockSize = 8;
  private left = 0;
  private right = 0;
  private gray = false;
  private outHeight = 0;
  private mcusPerLine = 0;
  private mcuRows = 0;
  private mcuX = 0;
  private mcuY = 0;
  private planes: Plane[] = [];
  // Per component: its plane, or undefined when it is decoded but not kept.
  private planeOf: Array<Plane | undefined> = [];
  private line = new Uint8Array(0);
  // The same memory, clamping what is stored to 0..255 (no compare per sample).
  private clamped = new Uint8ClampedArray(0);
  // Views of plane 0's lines, for gray output without a copy.
  private lumaRows: Uint8Array[] = [];
  private readonly reader = new EntropyReader();
  // Rows of the current MCU row delivered, and how many it has.
  private rowInMcu = 0;
  private rowsInMcu = 0;
  private emitting = false;
  rowsOut = 0;

  // ---- the entropy data ----
  private readonly carry = new Uint8Array(CARRY_BYTES);
  private carryLength = 0;
  // While reading from carry: how many of its bytes came before the current chunk's.
  private carryOld = 0;

  // ---- the chunk being decoded ----
  private input: Uint8Array = new Uint8Array(0);
  // A chunk arrived since the reader last looked at one.
  private newInput = false;
  private inPos = 0;
  private blocked = false;
  bytesIn = 0;

  constructor(private readonly sink: JpegSink, private readonly limits: JpegLimits = DEFAULT_LIMITS) {}

  // Bytes of sample and input buffers held now (the tables aside):
  // the MCU row of each kept component, the output row, the carry, the segment.
  get bufferBytes(): number {
    let n = this.line.length + CARRY_BYTES + SEGMENT_BYTES;
    for (const p of this.planes) n += p.samples.length;
    return n;
  }

  // The whole image has come out (EOI seen).
  get done(): boolean {
    return this.phase === Phase.Done;
  }

  // Decodes what it can of chunk. Returns false when the sink is full: the
  // rest of chunk is kept (not copied) until resume().
  write(chunk: Uint8Array): boolean {
    if (this.phase === Phase.Done || this.phase === Phase.Failed) return true;
    if (this.blocked) throw new JpegError("write while the decoder waits for resume()");
    this.bytesIn += chunk.length;
    this.input = chunk;
    this.inPos = 0;
    this.newInput = true;
    return this.guard();
  }

  resume(): boolean {
    if (!this.blocked) return true;
    this.blocked = false;
    return this.guard();
  }

  // The input ended: anything short of EOI after the whole image is an error.
  end(): void {
    if (this.phase === Phase.Done || this.phase === Phase.Failed) return;
    this.phase = Phase.Failed;
    if (this.bytesIn === 0) throw new JpegError("the document is empty");
    if (!this.frame || this.scans === 0) throw new JpegError("the JPEG ended before its image data");
    if (this.rowsOut < this.outHeight) throw new JpegError(`the JPEG stopped short: ${this.rowsOut} of ${this.outHeight} rows`);
    throw new JpegError("the JPEG ended without its EOI marker");
  }

  private guard(): boolean {
    try {
      return this.run();
    } catch (error) {
      this.phase = Phase.Failed;
      this.input = this.reader.src = new Uint8Array(0);
      if (error instanceof JpegError) throw error;
      if (error === STARVED) throw new JpegError("decoder bug: starved outside an MCU");
      throw error;
    }
  }

  private run(): boolean {
    for (;;) {
      if (this.phase === Phase.Entropy) {
        if (!this.scan()) return false;
        if (this.phase === Phase.Entropy) return true;
        continue;
      }
      if (this.inPos >= this.input.length) return true;
      if (this.phase === Phase.Done || this.phase === Phase.Failed) return true;
      this.inPos = this.headerBytes(this.input, this.inPos, this.input.length);
    }
  }

  // ---- markers and segments ----

  // Consumes header bytes from data[i..n) until the scan starts or they run out.
  private headerBytes(data: Uint8Array, i: number, n: number): number {
    while (i < n) {
      switch (this.phase) {
        case Phase.Soi:
          if (data[i++] !== 0xff) throw new JpegError("not a JPEG: it does not start with the SOI marker");
          this.phase = Phase.SoiSecond;
          break;
        case Phase.SoiSecond:
          if (data[i++] !== 0xd8) throw new JpegError("not a JPEG: it does not start with the SOI marker");
          this.phase = Phase.Marker;
          break;
        case Phase.Marker: {
          const b = data[i++];
          if (b === 0xff) this.phase = Phase.MarkerCode;
          // Bytes between the scan and the next marker are skipped, as libjpeg does.
          else if (!this.afterScan) throw new JpegError(`expected a marker, found 0x${b.toString(16)}`);
          break;
        }
        case Phase.MarkerCode: {
          const code = data[i++];
          if (code === 0xff) break;
          if (code === 0x00 && this.afterScan) { this.phase = Phase.Marker; break; }
          this.startMarker(code);
          break;
        }
        case Phase.Length:
          this.segmentLeft = data[i++] << 8;
          this.phase = Phase.LengthSecond;
          break;
        case Phase.LengthSecond: {
          const length = this.segmentLeft | data[i++];
          if (length < 2) throw new JpegError(`marker 0x${this.marker.toString(16)} has length ${length}`);
          this.startSegment(length - 2);
          if (this.segmentLeft === 0) this.endSegment();
          break;
        }
        case Phase.Segment: {
          const take = Math.min(this.segmentLeft, n - i);
          const keep = Math.min(take, this.segmentKeep - this.segmentFill);
          if (keep > 0) {
            this.segment.set(data.subarray(i, i + keep), this.segmentFill);
            this.segmentFill += keep;
          }
          i += take;
          this.segmentLeft -= take;
          if (this.segmentLeft === 0) this.endSegment();
          break;
        }
        default:
          return i;
      }
      const phase = this.phase as Phase;
      if (phase === Phase.Entropy || phase === Phase.Done) return i;
    }
    return i;
  }

  private startMarker(code: number): void {
    this.marker = code;
    if (code === 0xd9) {
      if (this.scans === 0) throw new JpegError("the JPEG ends (EOI) before any image data");
      if (this.rowsOut < this.outHeight) throw new JpegError(`the JPEG ends (EOI) after ${this.rowsOut} of ${this.outHeight} rows`);
      // Whatever follows EOI (a second image of an MPF file, padding) is ignored.
      this.phase = Phase.Done;
      return;
    }
    if (code === 0xd8) throw new JpegError("a second SOI marker inside the JPEG");
    // Standalone markers: RSTn outside a scan and TEM carry nothing.
    if ((code >= 0xd0 && code <= 0xd7) || code === 0x01) { this.phase = Phase.Marker; return; }
    this.phase = Phase.Length;
  }

  private startSegment(length: number): void {
    const m = this.marker;
    this.segmentLeft = length;
    this.segmentFill = 0;
    // Read whole: the segments decoding needs. Their start only: APP0
    // (JFIF), APP1 (EXIF), APP14 (Adobe). Skipped: the rest (COM, other APPn).
    const whole = m === 0xdb || m === 0xc4 || m === 0xdd || m === 0xda || (m >= 0xc0 && m <= 0xcf && m !== 0xc8 && m !== 0xcc);
    if (whole) {
      if (length > SEGMENT_BYTES) throw new JpegError(`marker 0x${m.toString(16)}: a ${length}-byte segment (at most ${SEGMENT_BYTES})`);
      this.segmentKeep = length;
    } else if (m === 0xe0 || m === 0xe1 || m === 0xee) {
      this.segmentKeep = Math.min(length, SEGMENT_BYTES);
    } else if (m === 0xdc) {
      throw new JpegError("unsupported JPEG: a DNL marker");
    } else if (m === 0xcc) {
      throw new JpegError("unsupported JPEG: arithmetic coding (DAC)");
    } else {
      this.segmentKeep = 0;
    }
    this.phase = Phase.Segment;
  }

  private endSegment(): void {
    const m = this.marker;
    const s = this.segment.subarray(0, this.segmentFill);
    this.phase = Phase.Marker;
    if (m === 0xdb) {
      parseQuantTables(s, this.quant);
      for (let i = 0; i < s.length;) {
        this.quantDefined |= 1 << (s[i] & 3);
        i += (s[i] >> 4) === 0 ? 65 : 129;
      }
    } else if (m === 0xc4) {
      parseHuffmanTables(s, this.dcTables, this.acTables);
    } else if (m === 0xdd) {
      if (s.length < 2) throw new JpegError("DRI segment too short");
      this.restartInterval = (s[0] << 8) | s[1];
    } else if (m === 0xe0) {
      parseJfif(s, this.info);
    } else if (m === 0xe1) {
      const o = exifOrientation(s);
      if (o !== 1) this.info.orientation = o;
    } else if (m === 0xee) {
      this.transform = adobeTransform(s);
    } else if (m === 0xda) {
      this.startScan(s);
    } else if (m >= 0xc0 && m <= 0xcf) {
      if (this.frame) throw new JpegError("a second frame header (SOF) in the JPEG");
      this.frame = parseFrame(m, s, this.limits);
    }
  }

  // ---- the scan ----

  private startScan(s: Uint8Array): void {
    const frame = this.frame;
    if (!frame) throw new JpegError("a scan (SOS) before the frame header (SOF)");
    if (this.scans > 0) throw new JpegError("unsupported JPEG: more than one scan");
    parseScan(s, frame, this.dcTables, this.acTables);
    for (const c of frame.components) {
      if (!(this.quantDefined & (1 << c.quant))) throw new JpegError(`component ${c.id} uses quantisation table ${c.quant}, which was not defined`);
    }
    this.scans++;
    const info = this.info;
    info.width = frame.width;
    info.height = frame.height;
    info.components = frame.components.length as 1 | 3;
    info.sampling = samplingName(frame);
    const out = this.sink.start(info);
    const scale = out.scale;
    if (scale !== 1 && scale !== 2 && scale !== 4 && scale !== 8) throw new JpegError(`bad output scale ${scale}`);
    const outWidth = Math.ceil(frame.width / scale);
    if (!(out.left >= 0 && out.left < out.right && out.right <= outWidth) || (out.left | 0) !== out.left || (out.right | 0) !== out.right) {
      throw new JpegError(`bad output columns ${out.left}..${out.right} of ${outWidth}`);
    }
    this.scale = scale;
    this.blockSize = 8 / scale;
    this.left = out.left;
    this.right = out.right;
    this.outHeight = Math.ceil(frame.height / scale);
    const n = frame.components.length;
    // Adobe's transform flag, else libjpeg's convention of components named R, G, B.
    const ids = frame.components.map((c) => c.id);
    const rgb = n === 3 && (this.transform === 0 || (this.transform === -1 && ids[0] === 0x52 && ids[1] === 0x47 && ids[2] === 0x42));
    this.gray = out.gray;
    this.rgbSource = rgb;
    this.mcusPerLine = Math.ceil(frame.width / (8 * frame.hMax));
    this.mcuRows = Math.ceil(frame.height / (8 * frame.vMax));
    const bs = this.blockSize;
    this.planes = [];
    this.planeOf = [];
    for (let ci = 0; ci < n; ci++) {
      const c = frame.components[ci];
      // Gray from YCbCr is the luma alone: the chroma is decoded but dropped.
      if (out.gray && n === 3 && !rgb && ci > 0) { this.planeOf.push(undefined); continue; }
      const hShift = frame.hMax / c.h === 2 ? 1 : 0, vShift = frame.vMax / c.v === 2 ? 1 : 0;
      const firstCol = out.left >> hShift, endCol = (out.right + (1 << hShift) - 1) >> hShift;
      const firstBlock = Math.floor(firstCol / bs), endBlock = Math.ceil(endCol / bs);
      const width = (endBlock - firstBlock) * bs;
      const plane: Plane = { comp: ci, samples: new Uint8Array(width * c.v * bs), width, firstBlock, endBlock, hShift, vShift };
      this.planes.push(plane);
      this.planeOf.push(plane);
    }
    const pixels = out.right - out.left;
    // Gray from luma alone goes out straight from the MCU row: no output row to hold.
    const direct = out.gray && this.planes.length === 1;
    this.clamped = new Uint8ClampedArray(direct ? 0 : pixels * (out.gray ? 1 : 3));
    this.line = new Uint8Array(this.clamped.buffer);
    const luma = this.planes[0];
    this.lumaRows = [];
    for (let y = 0; y < frame.vMax * bs; y++) {
      const start = y * luma.width + out.left - luma.firstBlock * bs;
      this.lumaRows.push(luma.samples.subarray(start, start + pixels));
    }
    this.mcuX = this.mcuY = 0;
    this.reader.start(this.restartInterval);
    this.carryLength = 0;
    this.newInput = true;
    this.phase = Phase.Entropy;
  }

  private rgbSource = false;

  // Decodes MCUs from the input (and the carry). Returns false when the sink
  // is full; the phase stays Entropy when the input ran out.
  private scan(): boolean {
    const reader = this.reader;
    if (this.emitting && !this.emitRows()) return false;
    for (;;) {
      if (this.newInput) {
        this.newInput = false;
        if (this.carryLength > 0) {
          // The bytes of an MCU that did not fit in the last chunk, then this chunk's.
          const take = Math.min(CARRY_BYTES - this.carryLength, this.input.length - this.inPos);
          this.carry.set(this.input.subarray(this.inPos, this.inPos + take), this.carryLength);
          this.carryOld = this.carryLength;
          this.carryLength += take;
          reader.src = this.carry;
          reader.pos = 0;
          reader.srcEnd = this.carryLength;
        } else {
          reader.src = this.input;
          reader.pos = this.inPos;
          reader.srcEnd = this.input.length;
        }
      }
      const r = this.mcus();
      if (r === MCU_BLOCKED) return false;
      if (r === MCU_SCAN_END) {
        this.endScan();
        return true;
      }
      // Starved: keep the unfinished MCU's bytes for the next chunk.
      if (reader.src === this.carry) {
        const from = reader.pos;
        if (this.carryOld + (this.input.length - this.inPos) <= this.carryLength) {
          // The whole chunk is in the carry: keep the MCU's bytes, take the next chunk.
          this.carry.copyWithin(0, from, this.carryLength);
          this.carryLength -= from;
          this.inPos = this.input.length;
          reader.src = this.input;
          return true;
        }
        // The carry is full and the MCU still incomplete.
        if (from === 0) throw new JpegError(`corrupt JPEG data: an MCU longer than ${CARRY_BYTES} bytes`);
        // Keep the old bytes from the MCU's start; the chunk's are appended again.
        this.carry.copyWithin(0, from, this.carryOld);
        this.carryLength = this.carryOld - from;
        this.newInput = true;
        continue;
      }
      const rest = this.input.length - reader.pos;
      if (rest > CARRY_BYTES) throw new JpegError(`corrupt JPEG data: an MCU longer than ${CARRY_BYTES} bytes`);
      this.carry.set(this.input.subarray(reader.pos), 0);
      this.carryLength = rest;
      this.inPos = this.input.length;
      return true;
    }
  }

  private endScan(): void {
    const reader = this.reader;
    // The bits left are padding; what follows is markers.
    this.reader.discard();
    this.afterScan = true;
    this.phase = Phase.Marker;
    if (reader.src === this.carry) {
      const from = reader.pos, old = this.carryOld;
      this.carryLength = 0;
      reader.src = this.input;
      // The carry's own bytes first, then the chunk from where it was.
      if (from < old) this.headerBytes(this.carry, from, old);
    } else {
      this.inPos = reader.pos;
    }
  }

  // MCUs until the input runs out, the sink fills up, or the scan ends.
  private mcus(): number {
    const frame = this.frame!;
    const reader = this.reader;
    const total = this.mcuRows;
    while (this.mcuY < total) {
      reader.save();
      try {
        this.mcu(frame);
      } catch (error) {
        if (error !== STARVED) throw error;
        reader.restore();
        return MCU_STARVED;
      }
      if (reader.src === this.carry && reader.pos >= this.carryOld) {
        // Past the carried bytes: read the chunk itself again.
        this.inPos += reader.pos - this.carryOld;
        this.carryLength = 0;
        reader.src = this.input;
        reader.pos = this.inPos;
        reader.srcEnd = this.input.length;
      }
      if (++this.mcuX === this.mcusPerLine) {
        this.mcuX = 0;
        this.rowInMcu = 0;
        this.rowsInMcu = Math.min(frame.vMax * this.blockSize, this.outHeight - this.rowsOut);
        this.mcuY++;
        this.emitting = true;
        if (!this.emitRows()) return MCU_BLOCKED;
      }
    }
    return MCU_SCAN_END;
  }

  private mcu(frame: Frame): void {
    const reader = this.reader;
    if (!reader.beginMcu()) {
      const done = this.mcuY * this.mcusPerLine + this.mcuX;
      throw new JpegError(`corrupt JPEG data: the scan ends after ${done} of ${this.mcusPerLine * this.mcuRows} MCUs`);
    }
    const comps = frame.components;
    const bs = this.blockSize;
    for (let ci = 0; ci < comps.length; ci++) {
      const c = comps[ci];
      const plane = this.planeOf[ci];
      const dc = this.dcTables[c.dcTable]!, ac = this.acTables[c.acTable]!, q = this.quant[c.quant];
      for (let by = 0; by < c.v; by++) {
        for (let bx = 0; bx < c.h; bx++) {
          const col = this.mcuX * c.h + bx;
          const keep = plane !== undefined && col >= plane.firstBlock && col < plane.endBlock;
          reader.block(dc, ac, q, ci, keep, keep && bs !== 1);
          if (!keep) continue;
          const p = plane!;
          const at = by * bs * p.width + (col - p.firstBlock) * bs;
          const coef = reader.coef;
          if (bs === 1 || reader.nonZeroCount === 0) {
            // A flat block (most of a photo's chroma, much of its luma): one value.
            const v = idctDcOnly(coef[0]);
            if (bs === 1) p.samples[at] = v;
            else for (let y = 0, o = at; y < bs; y++, o += p.width) p.samples.fill(v, o, o + bs);
          } else if (bs === 8) idct8x8(coef, p.samples, at, p.width, this.idctScratch);
          else if (bs === 4) idctHalf(coef, p.samples, at, p.width);
          else idctQuarter(coef, p.samples, at, p.width);
          reader.clearCoef();
        }
      }
    }
  }

  // ---- output ----

  // The current MCU row's rows to the sink, from rowInMcu on.
  private emitRows(): boolean {
    while (this.rowInMcu < this.rowsInMcu) {
      const y = this.rowInMcu++;
      const data = this.gray && this.planes.length === 1 ? this.lumaRows[y] : this.convert(y);
      const more = this.sink.row(data, this.rowsOut++);
      if (!more) {
        this.blocked = true;
        return false;
      }
    }
    this.emitting = false;
    return true;
  }

  // Row y of the MCU row as RGB (or gray from RGB), upsampling chroma by repetition.
  private convert(y: number): Uint8Array {
    const line = this.line;
    const left = this.left, right = this.right;
    const bs = this.blockSize;
    const planes = this.planes;
    if (planes.length === 1) {
      // A gray image as RGB.
      const row = this.lumaRows[y];
      for (let x = 0, o = 0; x < row.length; x++, o += 3) line[o] = line[o + 1] = line[o + 2] = row[x];
      return line;
    }
    const p0 = planes[0], p1 = planes[1], p2 = planes[2];
    const s0 = p0.samples, s1 = p1.samples, s2 = p2.samples;
    const base0 = y * p0.width - p0.firstBlock * bs;
    const base1 = (y >> p1.vShift) * p1.width - p1.firstBlock * bs;
    const base2 = (y >> p2.vShift) * p2.width - p2.firstBlock * bs;
    const h1 = p1.hShift, h2 = p2.hShift;
    if (this.rgbSource) {
      for (let x = left, o = 0; x < right; x++) {
        const r = s0[base0 + x], g = s1[base1 + (x >> h1)], b = s2[base2 + (x >> h2)];
        if (this.gray) line[o++] = (r * 19595 + g * 38470 + b * 7471 + 32768) >> 16;
        else { line[o++] = r; line[o++] = g; line[o++] = b; }
      }
      return line;
    }
    const out = this.clamped;
    for (let x = left, o = 0; x < right; x++, o += 3) {
      const lum = s0[base0 + x], cb = s1[base1 + (x >> h1)], cr = s2[base2 + (x >> h2)];
      out[o] = lum + crToR[cr];
      out[o + 1] = lum + ((cbToG[cb] + crToG[cr]) >> 16);
      out[o + 2] = lum + cbToB[cb];
    }
    return line;
  }
}

const MCU_STARVED = 0;
const MCU_BLOCKED = 1;
const MCU_SCAN_END = 2;
