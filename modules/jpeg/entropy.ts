import { JpegError } from "./errors.js";
import type { HuffmanTable } from "./huffman.js";

// The entropy-coded data of a baseline scan (T.81 F.2.2): a bit reader over
// the bytes it is given (0xFF 0x00 unstuffed, stopping at a marker), the
// DC predictions, restart markers, and one block's coefficients at a time.
// The decoder decodes an MCU from a saved state: when the bytes run out in
// the middle, STARVED is thrown and restore() puts everything back as it
// was before the MCU, to be tried again with more bytes.

// T.81 figure A.6: the natural index of the k-th coefficient in zigzag order.
const ZIGZAG = new Uint8Array(64);
{
  let k = 0;
  for (let s = 0; s < 15; s++) {
    for (let i = 0; i < 8; i++) {
      const j = s - i;
      if (j < 0 || j > 7) continue;
      // Even diagonals run up and to the right, odd ones down and to the left.
      ZIGZAG[k++] = s % 2 === 0 ? j * 8 + i : i * 8 + j;
    }
  }
}

// Thrown (not an Error, nothing allocated) when an MCU needs bytes that have not arrived.
export const STARVED = { starved: true };

export class EntropyReader {
  // The bytes being read: src[pos..srcEnd).
  src: Uint8Array = new Uint8Array(0);
  pos = 0;
  srcEnd = 0;
  private acc = 0;
  private nbits = 0;
  // A marker stopped the reader: it feeds zero bits (fake of the bits held).
  private atMarker = false;
  private fake = 0;
  private readonly preds = new Int32Array(3);
  private readonly savedPreds = new Int32Array(3);
  private restartInterval = 0;
  private restartsToGo = 0;
  // The block just decoded, dequantised, in natural order, and where its AC terms are.
  readonly coef = new Int32Array(64);
  private readonly nonZero = new Uint8Array(64);
  nonZeroCount = 0;

  // A new scan.
  start(restartInterval: number): void {
    this.restartInterval = restartInterval;
    this.restartsToGo = restartInterval;
    this.preds.fill(0);
    this.discard();
  }

  // The bits held are padding (the scan's end).
  discard(): void {
    this.acc = this.nbits = this.fake = 0;
    this.atMarker = false;
  }

  // The position, bits and predictions before an MCU: numbers only.
  private savedPos = 0;
  private savedAcc = 0;
  private savedBits = 0;
  private savedFake = 0;
  private savedMarker = false;
  private savedRestarts = 0;

  save(): void {
    this.savedPos = this.pos;
    this.savedAcc = this.acc;
    this.savedBits = this.nbits;
    this.savedFake = this.fake;
    this.savedMarker = this.atMarker;
    this.savedRestarts = this.restartsToGo;
    this.savedPreds.set(this.preds);
  }

  restore(): void {
    this.pos = this.savedPos;
    this.acc = this.savedAcc;
    this.nbits = this.savedBits;
    this.fake = this.savedFake;
    this.atMarker = this.savedMarker;
    this.restartsToGo = this.savedRestarts;
    this.preds.set(this.savedPreds);
    // The block cut short left coefficients that clearCoef does not know of.
    this.coef.fill(0);
    this.nonZeroCount = 0;
  }


  // Before each MCU: the restart marker when one is due; false when the
  // scan's data ended (a marker, and no real bits left) before this MCU.
  beginMcu(): boolean {
    if (this.restartInterval > 0) {
      if (this.restartsToGo === 0) this.restart();
      this.restartsToGo--;
    }
    if (this.atMarker) {
      if (this.fake > this.nbits) this.fake = this.nbits;
      if (this.nbits === this.fake) return false;
    }
    return true;
  }

  clearCoef(): void {
    const coef = this.coef;
    coef[0] = 0;
    const nz = this.nonZero;
    for (let i = 0, n = this.nonZeroCount; i < n; i++) coef[nz[i]] = 0;
    this.nonZeroCount = 0;
  }


  // One 8x8 block's coefficients (T.81 F.2.2), dequantised into coef in
  // natural order when keep; AC terms are not stored at 1/8 scale.
  // The bit buffer lives in locals here and goes back to the fields only
  // around a refill: XS pays for every property access, and this loop runs
  // once per coefficient. A refill that runs out throws STARVED, and the
  // caller restores the fields as they were before the MCU.
  block(dcTable: HuffmanTable, acTable: HuffmanTable, q: Uint16Array, ci: number, keep: boolean, storeAc: boolean): void {
    let acc = this.acc, nbits = this.nbits;
    if (nbits < 16) {
      this.nbits = nbits;
      this.fill();
      acc = this.acc;
      nbits = this.nbits;
    }
    let e = dcTable.lookahead[(acc >> (nbits - 9)) & 511];
    if (e === 0) e = slowSymbol(dcTable, acc, nbits);
    nbits -= e >> 8;
    const t = e & 255;
    let pred = this.preds[ci];
    if (t !== 0) {
      if (t > 11) throw new JpegError("corrupt JPEG data: a DC difference of more than 11 bits");
      if (nbits < t) {
        this.nbits = nbits;
        this.fill();
        acc = this.acc;
        nbits = this.nbits;
      }
      nbits -= t;
      const v = (acc >> nbits) & ((1 << t) - 1);
      pred += v < 1 << (t - 1) ? v - (1 << t) + 1 : v;
      this.preds[ci] = pred;
    }
    const coef = this.coef;
    if (keep) coef[0] = pred * q[0];
    const nz = this.nonZero;
    const look = acTable.lookahead, fastAc = acTable.fastAc;
    let n = 0;
    for (let k = 1; k < 64;) {
      if (nbits < 16) {
        this.nbits = nbits;
        this.fill();
        acc = this.acc;
        nbits = this.nbits;
      }
      const peek = (acc >> (nbits - 9)) & 511;
      const fast = fastAc[peek];
      if (fast !== 0) {
        nbits -= fast & 255;
        k += (fast >> 8) & 15;
        if (k > 63) throw new JpegError("corrupt JPEG data: a coefficient past the end of a block");
        if (storeAc) {
          const z = ZIGZAG[k];
          coef[z] = (fast >> 16) * q[k];
          nz[n++] = z;
        }
        k++;
        continue;
      }
      e = look[peek];
      if (e === 0) e = slowSymbol(acTable, acc, nbits);
      nbits -= e >> 8;
      const s = e & 15, r = (e >> 4) & 15;
      if (s === 0) {
        if (r !== 15) break;
        k += 16;
        continue;
      }
      k += r;
      if (k > 63) throw new JpegError("corrupt JPEG data: a coefficient past the end of a block");
      if (nbits < s) {
        this.nbits = nbits;
        this.fill();
        acc = this.acc;
        nbits = this.nbits;
      }
      nbits -= s;
      if (storeAc) {
        let v = (acc >> nbits) & ((1 << s) - 1);
        if (v < 1 << (s - 1)) v += 1 - (1 << s);
        const z = ZIGZAG[k];
        coef[z] = v * q[k];
        nz[n++] = z;
      }
      k++;
    }
    this.acc = acc;
    this.nbits = nbits;
    this.nonZeroCount = n;
  }

  private restart(): void {
    // Bits left before the marker are padding.
    this.acc = this.nbits = this.fake = 0;
    this.atMarker = false;
    const src = this.src;
    for (;;) {
      if (this.pos + 1 >= this.srcEnd) throw STARVED;
      const a = src[this.pos], b = src[this.pos + 1];
      if (a === 0xff && b === 0xff) { this.pos++; continue; }
      if (a === 0xff && b >= 0xd0 && b <= 0xd7) break;
      throw new JpegError(`corrupt JPEG data: no restart marker after ${this.restartInterval} MCUs`);
    }
    this.pos += 2;
    this.preds.fill(0);
    this.restartsToGo = this.restartInterval;
  }

  // ---- bits (T.81 F.2.2.5: 0xFF is followed by a stuffed 0x00 in the data) ----

  // At least 24 bits in acc (up to 31), or STARVED; after a marker, zeros.
  // The caller has put its nbits back; acc's bits above nbits are ignored.
  private fill(): void {
    const src = this.src;
    while (this.nbits <= 23) {
      let b = 0;
      if (!this.atMarker) {
        const pos = this.pos;
        if (pos >= this.srcEnd) throw STARVED;
        b = src[pos];
        if (b === 0xff) {
          if (pos + 1 >= this.srcEnd) throw STARVED;
          if (src[pos + 1] === 0) {
            this.pos = pos + 2;
          } else {
            this.atMarker = true;
            b = 0;
          }
        } else {
          this.pos = pos + 1;
        }
      }
      if (this.atMarker) {
        if (this.fake > this.nbits) this.fake = this.nbits;
        this.fake += 8;
      }
      this.acc = ((this.acc & 0x7fffff) << 8) | b;
      this.nbits += 8;
    }
  }

}

// A code longer than the lookahead (T.81 F.2.2.3): (length << 8) | symbol.
function slowSymbol(t: HuffmanTable, acc: number, nbits: number): number {
  const code16 = (acc >> (nbits - 16)) & 0xffff;
  const maxCode = t.maxCode;
  for (let l = 10; l <= 16; l++) {
    const code = code16 >> (16 - l);
    if (code <= maxCode[l]) return (l << 8) | t.symbols[t.valueOffset[l] + code];
  }
  throw new JpegError("corrupt JPEG data: a bit pattern that is no Huffman code");
}

