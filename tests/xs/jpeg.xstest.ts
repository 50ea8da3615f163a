import test from "./harness.js";
import {
  SMALL_JPEG_EIGHTH_RGB_FNV, SMALL_JPEG_GRAY_FNV, SMALL_JPEG_HALF_RGB_FNV, SMALL_JPEG_HEIGHT, SMALL_JPEG_PLACED_FNV, SMALL_JPEG_QUARTER_GRAY_FNV,
  SMALL_JPEG_RGB_FNV, SMALL_JPEG_TURNED_FNV, SMALL_JPEG_WIDTH,
} from "../helpers/small-jpeg.js";
import { decodeChecksum, placedChecksum } from "../helpers/small-jpeg-run.js";

// The JPEG decoder inside XS: the embedded 99 x 140 4:2:0 JPEG (with
// restart markers) decodes to the same samples as djpeg and as Node.

test("a small JPEG decodes in XS to djpeg's RGB samples, in 1-byte and uneven chunks", (t) => {
  for (const sizes of [[1], [7, 300, 2, 1000]]) {
    const r = decodeChecksum(false, sizes);
    t.is(r.width, SMALL_JPEG_WIDTH);
    t.is(r.height, SMALL_JPEG_HEIGHT);
    t.is(r.rows, SMALL_JPEG_HEIGHT);
    t.is(r.hash, SMALL_JPEG_RGB_FNV);
  }
});

test("the same JPEG decodes in XS to djpeg's gray samples", (t) => {
  t.is(decodeChecksum(true, [64]).hash, SMALL_JPEG_GRAY_FNV);
});

test("placed on a 384-dot roll and dithered, the page in XS is the page Node makes", (t) => {
  const r = placedChecksum();
  t.is(r.lines, r.height);
  t.is(r.hash, SMALL_JPEG_PLACED_FNV);
});

test("reduced decodes (1/2, 1/4, 1/8, in floating point) give Node's samples in XS", (t) => {
  t.is(decodeChecksum(false, [50], 2).hash, SMALL_JPEG_HALF_RGB_FNV);
  t.is(decodeChecksum(true, [50], 4).hash, SMALL_JPEG_QUARTER_GRAY_FNV);
  t.is(decodeChecksum(false, [50], 8).hash, SMALL_JPEG_EIGHTH_RGB_FNV);
});

test("marked EXIF orientation 6, the page comes out turned upright as in Node", (t) => {
  const r = placedChecksum(6);
  t.is(r.height, 272);
  t.is(r.lines, 272);
  t.is(r.hash, SMALL_JPEG_TURNED_FNV);
});

export { runAll } from "./harness.js";
