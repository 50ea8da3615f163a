// YCbCr to RGB as JFIF 1.02 defines it (CCIR 601, full range):
//   R = Y + 1.402 (Cr - 128)
//   G = Y - 0.344136 (Cb - 128) - 0.714136 (Cr - 128)
//   B = Y + 1.772 (Cb - 128)
// in 16-bit fixed point, one table per term (4 KB in all). The green
// factors are taken to 5 places (0.34414, 0.71414) and rounded the way
// libjpeg does, so the results match djpeg exactly.

const HALF = 1 << 15;
const fix = (x: number) => Math.round(x * 65536);

export const crToR = new Int32Array(256);
export const cbToB = new Int32Array(256);
// Still scaled by 2^16: the two green terms are summed before rounding.
export const crToG = new Int32Array(256);
export const cbToG = new Int32Array(256);

for (let i = 0; i < 256; i++) {
  const x = i - 128;
  crToR[i] = (fix(1.402) * x + HALF) >> 16;
  cbToB[i] = (fix(1.772) * x + HALF) >> 16;
  crToG[i] = -fix(0.71414) * x;
  cbToG[i] = -fix(0.34414) * x + HALF;
}
