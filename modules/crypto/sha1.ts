// SHA-1 (FIPS 180-4 section 6.1) over Uint8Array, incremental so a caller can
// hash data as it arrives without concatenating it first.

const BLOCK = 64;

export class Sha1 {
  private readonly h = new Uint32Array(5);
  private readonly w = new Uint32Array(80);
  private readonly block = new Uint8Array(BLOCK);
  private blockLength = 0;
  // Total length in bytes; a double is exact up to 2^53, far beyond anything a device hashes.
  private total = 0;
  private finished = false;

  constructor() {
    this.reset();
  }

  reset(): this {
    this.h[0] = 0x67452301;
    this.h[1] = 0xefcdab89;
    this.h[2] = 0x98badcfe;
    this.h[3] = 0x10325476;
    this.h[4] = 0xc3d2e1f0;
    this.blockLength = 0;
    this.total = 0;
    this.finished = false;
    return this;
  }

  update(data: Uint8Array): this {
    if (this.finished) throw new Error("sha1: update after digest");
    let offset = 0;
    const length = data.length;
    this.total += length;
    if (this.blockLength > 0) {
      const take = Math.min(BLOCK - this.blockLength, length);
      this.block.set(data.subarray(0, take), this.blockLength);
      this.blockLength += take;
      offset = take;
      if (this.blockLength < BLOCK) return this;
      this.compress(this.block, 0);
      this.blockLength = 0;
    }
    // Whole blocks straight from the input, without copying them.
    while (length - offset >= BLOCK) {
      this.compress(data, offset);
      offset += BLOCK;
    }
    if (offset < length) {
      this.block.set(data.subarray(offset), 0);
      this.blockLength = length - offset;
    }
    return this;
  }

  digest(): Uint8Array {
    if (this.finished) throw new Error("sha1: digest called twice");
    this.finished = true;
    const bits = this.total * 8;
    const block = this.block;
    let n = this.blockLength;
    block[n++] = 0x80;
    if (n > BLOCK - 8) {
      block.fill(0, n);
      this.compress(block, 0);
      n = 0;
    }
    block.fill(0, n, BLOCK - 8);
    const high = Math.floor(bits / 0x100000000);
    const low = bits >>> 0;
    writeUint32(block, BLOCK - 8, high);
    writeUint32(block, BLOCK - 4, low);
    this.compress(block, 0);
    const out = new Uint8Array(20);
    for (let i = 0; i < 5; i++) writeUint32(out, i * 4, this.h[i]);
    return out;
  }

  private compress(data: Uint8Array, offset: number): void {
    const w = this.w;
    for (let t = 0; t < 16; t++) {
      const i = offset + t * 4;
      w[t] = (data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3];
    }
    for (let t = 16; t < 80; t++) {
      const x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16];
      w[t] = (x << 1) | (x >>> 31);
    }
    let a = this.h[0], b = this.h[1], c = this.h[2], d = this.h[3], e = this.h[4];
    for (let t = 0; t < 80; t++) {
      let f: number, k: number;
      if (t < 20) { f = (b & c) | (~b & d); k = 0x5a827999; }
      else if (t < 40) { f = b ^ c ^ d; k = 0x6ed9eba1; }
      else if (t < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8f1bbcdc; }
      else { f = b ^ c ^ d; k = 0xca62c1d6; }
      const temp = (((a << 5) | (a >>> 27)) + f + e + k + w[t]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = temp;
    }
    this.h[0] = (this.h[0] + a) | 0;
    this.h[1] = (this.h[1] + b) | 0;
    this.h[2] = (this.h[2] + c) | 0;
    this.h[3] = (this.h[3] + d) | 0;
    this.h[4] = (this.h[4] + e) | 0;
  }
}

function writeUint32(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value >>> 24;
  out[offset + 1] = (value >>> 16) & 0xff;
  out[offset + 2] = (value >>> 8) & 0xff;
  out[offset + 3] = value & 0xff;
}

export function sha1(data: Uint8Array): Uint8Array {
  return new Sha1().update(data).digest();
}
