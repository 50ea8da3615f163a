import { JpegError } from "./errors.js";

// A Huffman table as T.81 Annex C builds it from a DHT segment (BITS, the
// number of codes of each length 1..16, then HUFFVAL): a 9-bit lookahead
// table for the short codes that make up nearly all of a scan, and the
// per-length limits of F.2.2.3 for the rest.

export const LOOKAHEAD_BITS = 9;

export class HuffmanTable {
  // lookahead[peek of 9 bits] = (code length << 8) | symbol, 0 where the code is longer.
  readonly lookahead = new Uint16Array(1 << LOOKAHEAD_BITS);
  // maxCode[l]: the largest code of length l, -1 if none; valueOffset[l]
  // turns a code of length l into an index into symbols.
  readonly maxCode = new Int32Array(17);
  readonly valueOffset = new Int32Array(17);
  readonly symbols = new Uint8Array(256);
  // For AC tables: where a code and the value bits after it both fit in the
  // lookahead, the decoded coefficient at once: value * 65536 + (run << 8)
  // + bits used; 0 where they do not fit. Most coefficients of a photo take
  // this path, one table read instead of a symbol and then its bits.
  readonly fastAc: Int32Array;
  defined = false;

  // ac: an AC table, which gets the fastAc table (2 KB); DC tables do without.
  constructor(readonly ac: boolean) {
    this.fastAc = new Int32Array(ac ? 1 << LOOKAHEAD_BITS : 0);
  }

  // counts: 16 bytes; symbols: their total. Throws JpegError on a table
  // that is not a prefix code (more codes of a length than fit).
  load(counts: Uint8Array, values: Uint8Array): void {
    let total = 0;
    for (let l = 0; l < 16; l++) total += counts[l];
    if (total > 256 || values.length < total) throw new JpegError("a Huffman table has more than 256 codes");
    this.symbols.set(values.subarray(0, total));
    this.lookahead.fill(0);
    this.maxCode.fill(-1);
    let code = 0, k = 0;
    for (let l = 1; l <= 16; l++) {
      const n = counts[l - 1];
      this.valueOffset[l] = k - code;
      if (n > 0) {
        // Codes of length l are code .. code+n-1; they must fit in l bits.
        if (code + n > 1 << l) throw new JpegError("a Huffman table is not a valid prefix code");
        if (l <= LOOKAHEAD_BITS) {
          for (let i = 0; i < n; i++) {
            const shift = LOOKAHEAD_BITS - l;
            const first = (code + i) << shift;
            const entry = (l << 8) | values[k + i];
            this.lookahead.fill(entry, first, first + (1 << shift));
          }
        }
        this.maxCode[l] = code + n - 1;
        code += n;
        k += n;
      }
      code <<= 1;
    }
    if (!this.ac) {
      this.defined = true;
      return;
    }
    this.fastAc.fill(0);
    for (let peek = 0; peek < 1 << LOOKAHEAD_BITS; peek++) {
      const e = this.lookahead[peek];
      if (e === 0) continue;
      const length = e >> 8, rs = e & 255, size = rs & 15;
      if (size === 0 || length + size > LOOKAHEAD_BITS) continue;
      const bits = (peek >> (LOOKAHEAD_BITS - length - size)) & ((1 << size) - 1);
      const value = bits < 1 << (size - 1) ? bits - (1 << size) + 1 : bits;
      this.fastAc[peek] = value * 65536 + ((rs >> 4) << 8) + length + size;
    }
    this.defined = true;
  }
}
