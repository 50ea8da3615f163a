import test from "ava";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { JpegDecoder, JpegError } from "../modules/jpeg/decoder.js";
import { exifOrientation } from "../modules/jpeg/segments.js";
import { compare, decode, djpeg, exifBody, makeCorpus, scratch, withOrientation } from "./helpers/jpeg.js";
import { which } from "./helpers/peers.js";
import { SeededRandom } from "./helpers/seeded-random.js";
import {
  SMALL_JPEG_EIGHTH_RGB_FNV, SMALL_JPEG_GRAY_FNV, SMALL_JPEG_HALF_RGB_FNV, SMALL_JPEG_PLACED_FNV, SMALL_JPEG_QUARTER_GRAY_FNV, SMALL_JPEG_RGB_FNV,
  SMALL_JPEG_TURNED_FNV, fnv1a,
} from "./helpers/small-jpeg.js";
import { decodeChecksum, placedChecksum, smallJpeg } from "./helpers/small-jpeg-run.js";

// Our decoder against libjpeg-turbo's djpeg on real images: JPEGs that ship
// in Debian packages and ones cjpeg makes from a PDF page Ghostscript
// renders, at several qualities, samplings and restart intervals.
//
// Tolerance at full size: none. The IDCT is the same integer
// Loeffler–Ligtenberg–Moschytz factorisation with 13-bit constants as
// djpeg's "-dct int", colour conversion uses the same fixed-point tables, and
// -nosmooth upsamples chroma by repetition as we do; every sample is equal
// (max abs error 0), which the tests assert.
// Reduced (1/2, 1/4, 1/8): we average the full 8x8 result (1/8: the DC term),
// djpeg runs a smaller IDCT on the low coefficients and scales chroma in
// the IDCT instead of repeating it. The luma plane differs by a rounding
// (mean < 1, 0.62 seen; max 64, 43 seen at sharp text edges, allowed); RGB of subsampled images more
// at colour edges (mean < 4).

const PDF = "/usr/share/cups/data/default-testpage.pdf";
const missing = ["djpeg", "cjpeg", "gs"].filter((c) => !which(c));
const title = (t: string) => (missing.length ? `${t} (skipped: ${missing.join(", ")} not installed)` : t);
const peerTest = missing.length || !fs.existsSync(PDF) ? test.skip : test;

let dir = "";
let corpus: Array<{ name: string; file: string }> = [];

test.before(() => {
  if (missing.length || !fs.existsSync(PDF)) return;
  dir = fs.mkdtempSync("/tmp/jpeg-corpus-");
  corpus = makeCorpus(dir, PDF);
});

test.after.always(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

// JPEGs that installed packages bring under /usr (CUPS's smiley, documentation images, test
// data); baseline ones are compared with djpeg, progressive ones must be refused.
function installedJpegs(): string[] {
  const found = spawnSync("find", ["/usr/share", "/usr/lib", "-xdev", "(", "-iname", "*.jpg", "-o", "-iname", "*.jpeg", ")", "-size", "-4M"], { encoding: "utf8" }).stdout;
  return found.split("\n").filter((f) => f).slice(0, 40);
}

function isProgressive(file: string): boolean {
  const b = fs.readFileSync(file);
  for (let i = 2; i + 3 < b.length;) {
    if (b[i] !== 0xff) return false;
    const m = b[i + 1];
    if (m === 0xc2 || m === 0xca) return true;
    if (m === 0xc0 || m === 0xc1 || m === 0xda) return false;
    i += 2 + ((b[i + 2] << 8) | b[i + 3]);
  }
  return false;
}

peerTest(title("every corpus JPEG decodes to exactly djpeg -dct int -nosmooth, in RGB and in gray"), (t) => {
  const files = [...corpus, ...installedJpegs().filter((f) => !isProgressive(f)).map((f) => ({ name: path.basename(f), file: f }))];
  t.true(files.length >= 9);
  for (const { name, file } of files) {
    const bytes = new Uint8Array(fs.readFileSync(file));
    const ours = decode(bytes, { gray: false });
    const ref = djpeg(file, ["-dct", "int", "-nosmooth", "-rgb"]);
    t.is(ours.width, ref.width, name);
    t.is(ours.height, ref.height, name);
    const d = compare(ours.pixels, ref.pixels);
    t.is(d.max, 0, `${name} (${ours.info.sampling}): ${d.count} samples differ, max ${d.max}`);
    const gray = decode(bytes, { gray: true });
    const grayRef = djpeg(file, ["-dct", "int", "-nosmooth", "-grayscale"]);
    t.is(compare(gray.pixels, grayRef.pixels).max, 0, `${name} gray`);
  }
});

peerTest(title("reduced decoding (1/2, 1/4, 1/8) is within the stated tolerance of djpeg -scale"), (t) => {
  for (const { name, file } of corpus) {
    const bytes = new Uint8Array(fs.readFileSync(file));
    for (const scale of [2, 4, 8]) {
      const gray = decode(bytes, { gray: true, scale });
      const grayRef = djpeg(file, ["-dct", "int", "-nosmooth", "-grayscale", "-scale", `1/${scale}`]);
      t.deepEqual([gray.width, gray.height], [grayRef.width, grayRef.height], `${name} 1/${scale}`);
      const g = compare(gray.pixels, grayRef.pixels);
      t.true(g.mean < 1 && g.max <= 64, `${name} gray 1/${scale}: mean ${g.mean}, max ${g.max}`);
      const rgb = decode(bytes, { gray: false, scale });
      const rgbRef = djpeg(file, ["-dct", "int", "-nosmooth", "-rgb", "-scale", `1/${scale}`]);
      const c = compare(rgb.pixels, rgbRef.pixels);
      t.true(c.mean < 4, `${name} RGB 1/${scale}: mean ${c.mean}, max ${c.max}`);
    }
  }
});

peerTest(title("every chunking (1 byte, random sizes) and backpressure give identical output"), (t) => {
  const random = new SeededRandom(7);
  for (const { name, file } of corpus) {
    const bytes = new Uint8Array(fs.readFileSync(file));
    const whole = decode(bytes, { gray: false });
    const single = decode(bytes, { gray: false, chunk: 1 });
    t.is(compare(single.pixels, whole.pixels).count, 0, `${name}: 1-byte chunks`);
    for (let round = 0; round < 3; round++) {
      const split = decode(bytes, { gray: false, chunk: () => 1 + random.below(round === 0 ? 7 : round === 1 ? 300 : 9000), refuseEvery: 1 + random.below(9) });
      t.is(compare(split.pixels, whole.pixels).count, 0, `${name}: random chunks, round ${round}`);
    }
  }
});

peerTest(title("a column window holds exactly those columns of the full decode, at every scale"), (t) => {
  for (const { name, file } of corpus.slice(0, 5)) {
    const bytes = new Uint8Array(fs.readFileSync(file));
    for (const scale of [1, 2, 4, 8]) {
      const full = decode(bytes, { gray: false, scale });
      const l = Math.floor(full.width / 3), r = Math.floor((full.width * 2) / 3) + 1;
      const part = decode(bytes, { gray: false, scale, window: () => [l, r] });
      t.is(part.width, r - l);
      let diff = 0;
      for (let y = 0; y < full.height; y++) {
        for (let x = 0; x < r - l; x++) for (let c = 0; c < 3; c++) diff += Number(part.pixels[(y * (r - l) + x) * 3 + c] !== full.pixels[(y * full.width + x + l) * 3 + c]);
      }
      t.is(diff, 0, `${name} at 1/${scale}, columns ${l}..${r}`);
    }
  }
});

function refusal(bytes: Uint8Array): string {
  try {
    decode(bytes);
  } catch (error) {
    if (error instanceof JpegError) return error.message;
    throw error;
  }
  return "decoded";
}

peerTest(title("progressive, arithmetic, 12-bit and CMYK JPEGs are refused with a clear error"), (t) => {
  const ppm = path.join(dir, "page.ppm");
  const make = (args: string[]) => {
    const out = execFileSync("cjpeg", [...args, ppm]);
    return new Uint8Array(out);
  };
  t.regex(refusal(make(["-progressive"])), /progressive.*whole image in memory/);
  t.regex(refusal(make(["-arithmetic"])), /arithmetic/);
  const twelve = spawnSync("cjpeg", ["-precision", "12", ppm]);
  if (twelve.status === 0) t.regex(refusal(new Uint8Array(twelve.stdout)), /12-bit/);
  // CMYK: a frame header that declares 4 components.
  const cmyk = make(["-quality", "80"]);
  const sof = findMarker(cmyk, 0xc0);
  cmyk[sof + 9] = 4;
  t.regex(refusal(cmyk), /4 components \(CMYK or YCCK\)/);
  for (const f of installedJpegs()) {
    if (isProgressive(f)) t.regex(refusal(new Uint8Array(fs.readFileSync(f))), /progressive/, f);
  }
});

function findMarker(b: Uint8Array, marker: number): number {
  for (let i = 2; i + 3 < b.length;) {
    if (b[i + 1] === marker) return i;
    i += 2 + ((b[i + 2] << 8) | b[i + 3]);
  }
  throw new Error(`no marker ${marker.toString(16)}`);
}

peerTest(title("huge declared dimensions are refused before the sink is asked for anything"), (t) => {
  const bytes = new Uint8Array(fs.readFileSync(corpus[0].file));
  const sof = findMarker(bytes, 0xc0);
  bytes[sof + 5] = bytes[sof + 6] = bytes[sof + 7] = bytes[sof + 8] = 0xff;
  let started = false;
  const decoder = new JpegDecoder({ start() { started = true; return { scale: 1, left: 0, right: 1, gray: true }; }, row: () => true });
  const error = t.throws(() => decoder.write(bytes), { instanceOf: JpegError });
  t.regex(error!.message, /65535 x 65535; this printer takes images up to 16384 x 16384/);
  t.false(started);
});

const exif = exifBody;

test("EXIF Orientation is read from either byte order, and a broken EXIF reads as upright", (t) => {
  t.is(exifOrientation(exif(6, true)), 6);
  t.is(exifOrientation(exif(8, false)), 8);
  t.is(exifOrientation(exif(9, true)), 1);
  const broken = exif(6, true);
  broken[10] = 0xff; // IFD0 offset far past the segment
  t.is(exifOrientation(broken), 1);
  t.is(exifOrientation(exif(3, true).subarray(0, 20)), 1);
  const random = new SeededRandom(3);
  for (let i = 0; i < 2000; i++) {
    const b = exif(6, i % 2 === 0);
    for (let k = 0; k < 3; k++) b[random.below(b.length)] = random.below(256);
    const o = exifOrientation(b.subarray(0, random.below(b.length + 1)));
    t.true(o >= 1 && o <= 8);
  }
});

peerTest(title("the decoder reports the EXIF orientation and JFIF density of a real file"), (t) => {
  const bytes = fs.readFileSync(corpus[0].file);
  const out = decode(withOrientation(new Uint8Array(bytes), 6, false), { chunk: 5 });
  t.is(out.info.orientation, 6);
  // cjpeg writes JFIF "aspect ratio only"; set 300 dpi in its APP0 (unit at byte 13, densities after).
  const dense = new Uint8Array(bytes);
  t.is(Buffer.from(dense.subarray(6, 11)).toString("latin1"), "JFIF\0");
  dense.set([1, 0x01, 0x2c, 0x01, 0x2c], 13);
  const d = decode(dense);
  t.deepEqual([d.info.densityUnit, d.info.xDensity, d.info.yDensity], [1, 300, 300]);
});

peerTest(title("a scratch decode of the same file twice gives the same rows (no state leaks between decoders)"), (t) => {
  const dir2 = scratch(t.teardown);
  const file = path.join(dir2, "x.jpg");
  fs.copyFileSync(corpus[2].file, file);
  const a = decode(new Uint8Array(fs.readFileSync(file)), { chunk: 333 });
  const b = decode(new Uint8Array(fs.readFileSync(file)), { chunk: 77 });
  t.is(compare(a.pixels, b.pixels).count, 0);
});

test("the XS test's embedded JPEG: Node decodes it to the checksums the XS test expects", (t) => {
  t.is(decodeChecksum(false, [1]).hash, SMALL_JPEG_RGB_FNV);
  t.is(decodeChecksum(true, [64]).hash, SMALL_JPEG_GRAY_FNV);
  const placed = placedChecksum();
  t.is(placed.lines, placed.height);
  t.is(placed.hash, SMALL_JPEG_PLACED_FNV);
  t.is(decodeChecksum(false, [50], 2).hash, SMALL_JPEG_HALF_RGB_FNV);
  t.is(decodeChecksum(true, [50], 4).hash, SMALL_JPEG_QUARTER_GRAY_FNV);
  t.is(decodeChecksum(false, [50], 8).hash, SMALL_JPEG_EIGHTH_RGB_FNV);
  const turned = placedChecksum(6);
  t.is(turned.height, 272);
  t.is(turned.hash, SMALL_JPEG_TURNED_FNV);
});

peerTest(title("the XS test's checksums are djpeg's"), (t) => {
  const dir2 = scratch(t.teardown);
  const file = path.join(dir2, "small.jpg");
  fs.writeFileSync(file, smallJpeg());
  t.is(fnv1a(djpeg(file, ["-dct", "int", "-nosmooth", "-rgb"]).pixels), SMALL_JPEG_RGB_FNV);
  t.is(fnv1a(djpeg(file, ["-dct", "int", "-nosmooth", "-grayscale"]).pixels), SMALL_JPEG_GRAY_FNV);
});
