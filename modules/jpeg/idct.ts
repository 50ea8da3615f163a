// The inverse DCT of one 8x8 block in integers: the Loeffler–Ligtenberg–
// Moschytz factorisation (12 multiplies per 1-D pass) with the cosine
// constants scaled by 2^13, columns first keeping 2 extra bits, then rows.
// These are the same arithmetic choices as libjpeg's "islow" IDCT, so the
// output matches `djpeg -dct int` sample for sample on valid data (the
// tests check it). Scaled outputs (1/2, 1/4) average the 8x8 result; 1/8 is
// the block's mean, which is the DC term alone.

const CONST_BITS = 13;
const PASS1_BITS = 2;
const F0_298 = 2446, F0_390 = 3196, F0_541 = 4433, F0_765 = 6270, F0_899 = 7373, F1_175 = 9633;
const F1_501 = 12299, F1_847 = 15137, F1_961 = 16069, F2_053 = 16819, F2_562 = 20995, F3_072 = 25172;

const COL_SHIFT = CONST_BITS - PASS1_BITS;
const COL_ROUND = 1 << (COL_SHIFT - 1);
const ROW_SHIFT = CONST_BITS + PASS1_BITS + 3;
// Rounding, and the +128 level shift of T.81 A.3.1, folded into one constant.
const ROW_ROUND = (1 << (ROW_SHIFT - 1)) + (128 << ROW_SHIFT);

const workspace = new Int32Array(64);

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

// coef: 64 dequantised coefficients in natural (row-major) order.
// Writes 8 rows of 8 samples to out at offset, stride apart.
export function idct8x8(coef: Int32Array, out: Uint8Array, offset: number, stride: number): void {
  const ws = workspace;
  for (let c = 0; c < 8; c++) {
    const i1 = coef[c + 8], i2 = coef[c + 16], i3 = coef[c + 24], i4 = coef[c + 32];
    const i5 = coef[c + 40], i6 = coef[c + 48], i7 = coef[c + 56];
    if ((i1 | i2 | i3 | i4 | i5 | i6 | i7) === 0) {
      // A column with only its DC term is flat (most columns of a photo).
      const dc = coef[c] << PASS1_BITS;
      ws[c] = ws[c + 8] = ws[c + 16] = ws[c + 24] = ws[c + 32] = ws[c + 40] = ws[c + 48] = ws[c + 56] = dc;
      continue;
    }
    const i0 = coef[c];
    let z1 = (i2 + i6) * F0_541;
    const t2 = z1 - i6 * F1_847;
    const t3 = z1 + i2 * F0_765;
    const t0 = (i0 + i4) * 8192;
    const t1 = (i0 - i4) * 8192;
    const t10 = t0 + t3, t13 = t0 - t3, t11 = t1 + t2, t12 = t1 - t2;
    z1 = i7 + i1;
    let z2 = i5 + i3, z3 = i7 + i3, z4 = i5 + i1;
    const z5 = (z3 + z4) * F1_175;
    z1 *= -F0_899;
    z2 *= -F2_562;
    z3 = z3 * -F1_961 + z5;
    z4 = z4 * -F0_390 + z5;
    const o0 = i7 * F0_298 + z1 + z3;
    const o1 = i5 * F2_053 + z2 + z4;
    const o2 = i3 * F3_072 + z2 + z3;
    const o3 = i1 * F1_501 + z1 + z4;
    ws[c] = (t10 + o3 + COL_ROUND) >> COL_SHIFT;
    ws[c + 56] = (t10 - o3 + COL_ROUND) >> COL_SHIFT;
    ws[c + 8] = (t11 + o2 + COL_ROUND) >> COL_SHIFT;
    ws[c + 48] = (t11 - o2 + COL_ROUND) >> COL_SHIFT;
    ws[c + 16] = (t12 + o1 + COL_ROUND) >> COL_SHIFT;
    ws[c + 40] = (t12 - o1 + COL_ROUND) >> COL_SHIFT;
    ws[c + 24] = (t13 + o0 + COL_ROUND) >> COL_SHIFT;
    ws[c + 32] = (t13 - o0 + COL_ROUND) >> COL_SHIFT;
  }
  for (let r = 0; r < 64; r += 8) {
    const i0 = ws[r], i1 = ws[r + 1], i2 = ws[r + 2], i3 = ws[r + 3];
    const i4 = ws[r + 4], i5 = ws[r + 5], i6 = ws[r + 6], i7 = ws[r + 7];
    let o = offset + (r >> 3) * stride;
    if ((i1 | i2 | i3 | i4 | i5 | i6 | i7) === 0) {
      const v = clamp((i0 * 8192 + ROW_ROUND) >> ROW_SHIFT);
      out[o] = out[o + 1] = out[o + 2] = out[o + 3] = out[o + 4] = out[o + 5] = out[o + 6] = out[o + 7] = v;
      continue;
    }
    let z1 = (i2 + i6) * F0_541;
    const t2 = z1 - i6 * F1_847;
    const t3 = z1 + i2 * F0_765;
    const t0 = (i0 + i4) * 8192;
    const t1 = (i0 - i4) * 8192;
    const t10 = t0 + t3, t13 = t0 - t3, t11 = t1 + t2, t12 = t1 - t2;
    z1 = i7 + i1;
    let z2 = i5 + i3, z3 = i7 + i3, z4 = i5 + i1;
    const z5 = (z3 + z4) * F1_175;
    z1 *= -F0_899;
    z2 *= -F2_562;
    z3 = z3 * -F1_961 + z5;
    z4 = z4 * -F0_390 + z5;
    const o0 = i7 * F0_298 + z1 + z3;
    const o1 = i5 * F2_053 + z2 + z4;
    const o2 = i3 * F3_072 + z2 + z3;
    const o3 = i1 * F1_501 + z1 + z4;
    out[o] = clamp((t10 + o3 + ROW_ROUND) >> ROW_SHIFT);
    out[o + 7] = clamp((t10 - o3 + ROW_ROUND) >> ROW_SHIFT);
    out[o + 1] = clamp((t11 + o2 + ROW_ROUND) >> ROW_SHIFT);
    out[o + 6] = clamp((t11 - o2 + ROW_ROUND) >> ROW_SHIFT);
    out[o + 2] = clamp((t12 + o1 + ROW_ROUND) >> ROW_SHIFT);
    out[o + 5] = clamp((t12 - o1 + ROW_ROUND) >> ROW_SHIFT);
    out[o + 3] = clamp((t13 + o0 + ROW_ROUND) >> ROW_SHIFT);
    out[o + 4] = clamp((t13 - o0 + ROW_ROUND) >> ROW_SHIFT);
  }
}

const full = new Uint8Array(64);

// The block reduced to size x size samples (size 4 or 2): each the rounded
// mean of the (8/size)^2 samples it stands for.
export function idctReduced(coef: Int32Array, size: number, out: Uint8Array, offset: number, stride: number): void {
  idct8x8(coef, full, 0, 8);
  const step = 8 / size;
  const shift = step === 2 ? 2 : 4;
  const half = 1 << (shift - 1);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let sum = 0;
      for (let dy = 0; dy < step; dy++) {
        const row = (y * step + dy) * 8 + x * step;
        for (let dx = 0; dx < step; dx++) sum += full[row + dx];
      }
      out[offset + y * stride + x] = (sum + half) >> shift;
    }
  }
}

// The block as one sample: DC / 8 + 128 (T.81 A.3.3: F(0,0) is 8 times the mean).
export function idctDcOnly(dc: number): number {
  return clamp(((dc + 4) >> 3) + 128);
}
