import test, { type ExecutionContext } from "ava";
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

// JPEGs that ship in a package .ci/run installs, named so the exactness
// claim never depends on what else a machine has.
const PACKAGED = ["/usr/share/cups/doc-root/images/smiley.jpg"];
const missingFiles = [PDF, ...PACKAGED].filter((f) => !fs.existsSync(f));
const exact = missing.length || missingFiles.length ? test.skip : test;
const exactTitle = (t: string) => (missingFiles.length ? `${t} (skipped: ${missingFiles.join(", ")} not installed)` : title(t));

// What the decoder refuses on purpose: each needs the whole image in memory,
// or a colour model or precision the engine does not print. A file found on
// the system that is one of these is an expected refusal, not a failure.
const BY_DESIGN: Array<[string, RegExp]> = [
  ["progressive", /^unsupported JPEG: .*progressive/],
  ["lossless or hierarchical", /^unsupported JPEG: .*(lossless|differential)/],
  ["arithmetic coding", /^unsupported JPEG: .*arithmetic/],
  ["CMYK or YCCK", /^unsupported JPEG: 4 components/],
  ["unusual component count", /^unsupported JPEG: \d+ components/],
  ["12-bit or other precision", /^unsupported JPEG: \d+-bit samples/],
  ["height in a DNL marker", /^unsupported JPEG: .*DNL/],
  ["components in separate scans", /^unsupported JPEG: (more than one scan|its components come in separate scans)/],
  ["sampling other than 4:4:4, 4:2:2, 4:2:0, 4:4:0", /^unsupported sampling /],
  ["larger than the printer takes", /this printer takes images up to/],
];

function designRefusal(message: string): string | undefined {
  for (const [kind, pattern] of BY_DESIGN) if (pattern.test(message)) return kind;
  return undefined;
}

// Other JPEGs under /usr (documentation images, test data of whatever is
// installed), for extra coverage: sorted and capped, so a run is repeatable
// on one machine and bounded on any.
function installedJpegs(): string[] {
  const found = spawnSync("find", ["/usr/share", "/usr/lib", "-xdev", "(", "-iname", "*.jpg", "-o", "-iname", "*.jpeg", ")", "-size", "-4M"], { encoding: "utf8" }).stdout;
  return found.split("\n").filter((f) => f && !PACKAGED.includes(f)).sort().slice(0, 60);
}

function djpegAccepts(file: string): boolean {
  return spawnSync("djpeg", ["-pnm", "-outfile", "/dev/null", file], { stdio: "ignore" }).status === 0;
}

function assertSameAsDjpeg(t: ExecutionContext, name: string, file: string, bytes: Uint8Array): void {
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

exact(exactTitle("every JPEG the test makes, and CUPS's, decodes to exactly djpeg -dct int -nosmooth, in RGB and in gray; others on the system too, or are refused by design"), (t) => {
  const files = [...corpus, ...PACKAGED.map((f) => ({ name: path.basename(f), file: f }))];
  t.true(files.length >= 10);
  for (const { name, file } of files) assertSameAsDjpeg(t, name, file, new Uint8Array(fs.readFileSync(file)));
  // Then whatever else this machine has: each decodes exactly as djpeg does,
  // or is refused by design (listed in the log with its reason).
  const refused: string[] = [];
  let decoded = 0;
  for (const file of installedJpegs()) {
    const bytes = new Uint8Array(fs.readFileSync(file));
    let why: string | undefined;
    try {
      decode(bytes, { gray: true });
    } catch (error) {
      if (!(error instanceof JpegError)) throw error;
      why = error.message;
    }
    if (why === undefined) {
      assertSameAsDjpeg(t, file, file, bytes);
      decoded++;
      continue;
    }
    const kind = designRefusal(why);
    if (kind) refused.push(`${file}: refused by design (${kind}): ${why}`);
    else if (!djpegAccepts(file)) refused.push(`${file}: damaged, djpeg refuses it too: ${why}`);
    else t.fail(`${file} should decode (djpeg does) but was refused: ${why}`);
  }
  for (const line of refused) t.log(line);
  t.log(`on this system: ${decoded} more decoded exactly as djpeg, ${refused.length} refused`);
});

test("every refusal by design names its reason, and a file that is merely unusual is not taken for one", (t) => {
  t.is(designRefusal("unsupported JPEG: 4 components (CMYK or YCCK); only gray and YCbCr/RGB are printed"), "CMYK or YCCK");
  t.is(designRefusal("unsupported JPEG: progressive DCT (a progressive JPEG needs ...); only baseline"), "progressive");
  t.is(designRefusal("unsupported JPEG: 12-bit samples (only 8-bit)"), "12-bit or other precision");
  t.is(designRefusal("unsupported sampling 4x1,1x1,1x1"), "sampling other than 4:4:4, 4:2:2, 4:2:0, 4:4:0");
  t.is(designRefusal("corrupt JPEG data: a coefficient past the end of a block"), undefined);
  t.is(designRefusal("the JPEG ended without its EOI marker"), undefined);
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
  // 12-bit: the frame header's precision byte; cjpeg builds differ in whether they write such files.
  const twelve = make(["-quality", "80"]);
  twelve[findMarker(twelve, 0xc0) + 4] = 12;
  t.regex(refusal(twelve), /12-bit samples/);
  // CMYK: a frame header that declares 4 components.
  const cmyk = make(["-quality", "80"]);
  const sof = findMarker(cmyk, 0xc0);
  cmyk[sof + 9] = 4;
  t.regex(refusal(cmyk), /4 components \(CMYK or YCCK\)/);
  for (const [made, kind] of [[make(["-progressive"]), "progressive"], [make(["-arithmetic"]), "arithmetic coding"], [twelve, "12-bit or other precision"], [cmyk, "CMYK or YCCK"]] as const) {
    t.is(designRefusal(refusal(made)), kind, "the system scan counts this refusal as by design");
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
