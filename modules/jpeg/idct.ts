// The inverse DCT of one 8x8 block in integers: the Loeffler–Ligtenberg–
// Moschytz factorisation (12 multiplies per 1-D pass) with the cosine
// constants scaled by 2^13, columns first keeping 2 extra bits, then rows.
// These are the same arithmetic choices as libjpeg's "islow" IDCT, so the
// output matches `djpeg -dct int` sample for sample on valid data (the
// tests check it). Reduced outputs (1/2, 1/4) are means of the 8x8 result
// computed from the coefficients; 1/8 is the block's mean, the DC term alone.

const CONST_BITS = 13;
const PASS1_BITS = 2;
const F0_298 = 2446, F0_390 = 3196, F0_541 = 4433, F0_765 = 6270, F0_899 = 7373, F1_175 = 9633;
const F1_501 = 12299, F1_847 = 15137, F1_961 = 16069, F2_053 = 16819, F2_562 = 20995, F3_072 = 25172;

const COL_SHIFT = CONST_BITS - PASS1_BITS;
const COL_ROUND = 1 << (COL_SHIFT - 1);
const ROW_SHIFT = CONST_BITS + PASS1_BITS + 3;
// Rounding, and the +128 level shift of T.81 A.3.1, folded into one constant.
const ROW_ROUND = (1 << (ROW_SHIFT - 1)) + (128 << ROW_SHIFT);

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

// coef: 64 dequantised coefficients in natural (row-major) order.
// Writes 8 rows of 8 samples to out at offset, stride apart. ws is 64
// entries of scratch the caller owns: a module-level buffer would be frozen
// in flash once the module is preloaded on the board.
export function idct8x8(coef: Int32Array, out: Uint8Array, offset: number, stride: number, ws: Int32Array): void {
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

// Reduced outputs: each sample is the mean of the 8x8 IDCT over its
// (8/size)^2 pixels, computed from the coefficients directly. The mean of a
// cosine cos((2x+1)u pi/16) over a run of x is a constant per u and run, so
// the reduction is two small matrix products; the symmetry of the runs about
// the block's centre (b_u(n-1-q) = (-1)^u b_u(q)) halves them, and some
// columns vanish (the 4-run means of even u > 0; the 2-run means of u = 4).
// In floating point: the exact mean, rounded once.

// 1/2 (4x4): H2[u * 2 + q] = C(u) / 2 * (cos((4q+1) u pi/16) + cos((4q+3) u pi/16)), q = 0, 1.
const H2 = new Float64Array(16);
// 1/4 (2x2): H4[u] = C(u) / 4 * sum over x = 0..3 of cos((2x+1) u pi/16), half 0.
const H4 = new Float64Array(8);
for (let u = 0; u < 8; u++) {
  const c = u === 0 ? Math.SQRT1_2 : 1;
  const cos = (x: number) => Math.cos(((2 * x + 1) * u * Math.PI) / 16);
  for (let q = 0; q < 2; q++) H2[u * 2 + q] = (c / 2) * (cos(2 * q) + cos(2 * q + 1));
  H4[u] = (c / 4) * (cos(0) + cos(1) + cos(2) + cos(3));
}

const rows2 = new Float64Array(32);

function sample(v: number): number {
  const r = Math.round(v + 128);
  return r < 0 ? 0 : r > 255 ? 255 : r;
}

// The block as 4x4 samples, each the mean of 2x2 pixels.
export function idctHalf(coef: Int32Array, out: Uint8Array, offset: number, stride: number): void {
  // Rows: for each frequency row v, its 4 means across.
  for (let v = 0; v < 8; v++) {
    const r = v * 8;
    const f0 = coef[r], f1 = coef[r + 1], f2 = coef[r + 2], f3 = coef[r + 3], f5 = coef[r + 5], f6 = coef[r + 6], f7 = coef[r + 7];
    const o = v * 4;
    if ((f1 | f2 | f3 | f5 | f6 | f7) === 0) {
      rows2[o] = rows2[o + 1] = rows2[o + 2] = rows2[o + 3] = f0 * H2[0];
      continue;
    }
    for (let q = 0; q < 2; q++) {
      const even = f0 * H2[q] + f2 * H2[4 + q] + f6 * H2[12 + q];
      const odd = f1 * H2[2 + q] + f3 * H2[6 + q] + f5 * H2[10 + q] + f7 * H2[14 + q];
      rows2[o + q] = even + odd;
      rows2[o + 3 - q] = even - odd;
    }
  }
  // Columns: for each of the 4 across, its 4 means down; (1/4 of the 2-D IDCT's scale).
  for (let x = 0; x < 4; x++) {
    const g0 = rows2[x], g1 = rows2[4 + x], g2 = rows2[8 + x], g3 = rows2[12 + x], g5 = rows2[20 + x], g6 = rows2[24 + x], g7 = rows2[28 + x];
    for (let q = 0; q < 2; q++) {
      const even = g0 * H2[q] + g2 * H2[4 + q] + g6 * H2[12 + q];
      const odd = g1 * H2[2 + q] + g3 * H2[6 + q] + g5 * H2[10 + q] + g7 * H2[14 + q];
      out[offset + q * stride + x] = sample((even + odd) / 4);
      out[offset + (3 - q) * stride + x] = sample((even - odd) / 4);
    }
  }
}

// The block as 2x2 samples, each the mean of a 4x4 quadrant: only u, v in {0, 1, 3, 5, 7} count.
export function idctQuarter(coef: Int32Array, out: Uint8Array, offset: number, stride: number): void {
  let e0 = 0, o0 = 0, e1 = 0, o1 = 0;
  for (let v = 0; v < 8; v++) {
    if (v > 0 && (v & 1) === 0) continue;
    const r = v * 8;
    const even = coef[r] * H4[0];
    const odd = coef[r + 1] * H4[1] + coef[r + 3] * H4[3] + coef[r + 5] * H4[5] + coef[r + 7] * H4[7];
    // Left half (even + odd) and right half (even - odd) of row v, weighted down.
    if (v === 0) {
      e0 = (even + odd) * H4[0];
      e1 = (even - odd) * H4[0];
    } else {
      o0 += (even + odd) * H4[v];
      o1 += (even - odd) * H4[v];
    }
  }
  out[offset] = sample((e0 + o0) / 4);
  out[offset + 1] = sample((e1 + o1) / 4);
  out[offset + stride] = sample((e0 - o0) / 4);
  out[offset + stride + 1] = sample((e1 - o1) / 4);
}

// The block as one sample: DC / 8 + 128 (T.81 A.3.3: F(0,0) is 8 times the mean).
export function idctDcOnly(dc: number): number {
  return clamp(((dc + 4) >> 3) + 128);
}
