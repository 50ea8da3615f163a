import test from "ava";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { PwgDecoder, RasterError, type RasterSink } from "../modules/pwg/decoder.js";
import { UrfDecoder } from "../modules/urf/decoder.js";
import { encodeDocument, testPage, type Page } from "./helpers/pwg.js";
import { which } from "./helpers/peers.js";
import { decodeInChunks } from "./helpers/raster-sink.js";
import { SeededRandom } from "./helpers/seeded-random.js";
import { encodeUrfDocument, encodeUrfPage, urfPageHeader } from "./helpers/urf.js";

const LIMITS = { maxWidth: 5000, maxHeight: 20000 };

function decode(make: (sink: RasterSink) => UrfDecoder | PwgDecoder, doc: Uint8Array, split: (n: number) => number = (n) => n, fullEvery = 0) {
  return decodeInChunks(make, doc, split, fullEvery);
}
const urf = (sink: RasterSink) => new UrfDecoder(sink, LIMITS);
const pwg = (sink: RasterSink) => new PwgDecoder(sink, LIMITS);

test("URF pages decode to the same lines as the PWG document of the same pixels, in any chunking and with a full sink", (t) => {
  const random = new SeededRandom(7);
  const pages: Page[] = [testPage(173, 61, "srgb_8", 1), testPage(64, 40, "sgray_8", 2), testPage(1, 3, "srgb_8", 3)];
  const reference = decode(pwg, encodeDocument(pages)).sink;
  const doc = encodeUrfDocument(pages);
  for (const [split, full] of [[(n: number) => n, 0], [() => 1, 0], [() => 5, 3], [(n: number) => 1 + random.below(n), 2]] as const) {
    const { sink, decoder } = decode(urf, doc, split, full);
    t.is(decoder.pages, 3);
    pages.forEach((p, i) => {
      const got = sink.pages[i];
      t.is(got.format.colorSpace, p.space);
      t.like(got.header, { width: p.width, height: p.height, xDpi: 300, yDpi: 300, totalPageCount: 3 });
      t.deepEqual(got.pixels, reference.pages[i].pixels, `page ${i + 1}`);
    });
  }
});

test("a page count of 0 (unknown, as Ghostscript writes) takes any number of pages", (t) => {
  const pages = [testPage(20, 4, "sgray_8", 1), testPage(20, 4, "sgray_8", 2)];
  t.is(decode(urf, encodeUrfDocument(pages, 0)).decoder.pages, 2);
});

test("bad URF documents end with a clear description", (t) => {
  const page = testPage(30, 6, "srgb_8", 5);
  const good = encodeUrfDocument([page]);
  const failure = (doc: Uint8Array) => {
    const error = t.throws(() => decode(urf, doc), { instanceOf: RasterError });
    return error?.message ?? "";
  };
  const withPage = (bytes: number[]) => Uint8Array.from([...good.subarray(0, 12), ...bytes]);
  const cases: Array<[Uint8Array, RegExp]> = [
    [new Uint8Array(0), /empty/],
    [Uint8Array.from([0x52, 0x61, 0x53, 0x32]), /not URF/],
    [good.subarray(0, 9), /inside the URF file header/],
    [good.subarray(0, 12), /no pages/],
    [good.subarray(0, 30), /inside the header of page 1/],
    [good.subarray(0, good.length - 3), /lines before the end of page 1/],
    [encodeUrfDocument([page, page], 3), /after 2 of the 3 pages/],
    [encodeUrfDocument([page, page], 1), /page 2: the file header announced 1 pages/],
    [withPage(encodeUrfPage(page, { space: 6, bits: 32 })), /DeviceCMYK at 32 bits/],
    [withPage(encodeUrfPage(page, { bits: 8 })), /sRGB at 8 bits/],
    [withPage(encodeUrfPage(page, { space: 200 })), /code 200/],
    [withPage(encodeUrfPage({ ...page, dpi: 0 })), /bad resolution 0 x 0/],
    [withPage(Array.from(urfPageHeader({ ...page, width: 0xffffffff }))), /at most 5000/],
    [withPage(Array.from(urfPageHeader({ ...page, height: 0 }))), /empty page/],
    // A run longer than the rest of the line.
    [withPage([...urfPageHeader(page), 0, 127, 1, 2, 3]), /crosses the end of a line/],
    [withPage([...urfPageHeader(page), 9]), /repeats past the end of the page/],
  ];
  for (const [doc, pattern] of cases) t.regex(failure(doc), pattern);
});

test("seeded mutations and truncations only ever end in a RasterError or whole pages, never a hang", (t) => {
  const random = new SeededRandom(4242);
  const good = encodeUrfDocument([testPage(50, 20, "srgb_8", 3), testPage(30, 9, "sgray_8", 4)]);
  let errors = 0, clean = 0;
  for (let i = 0; i < 3000; i++) {
    const doc = Uint8Array.from(good);
    // Mostly in the headers and early lines, where a change matters most.
    const span = random.below(2) ? 80 : doc.length;
    for (let k = 0; k < 1 + random.below(6); k++) doc[random.below(Math.min(span, doc.length))] = random.below(256);
    const cut = random.below(3) === 0 ? doc.subarray(0, random.below(doc.length)) : doc;
    try {
      const { sink } = decode(urf, cut, (n) => 1 + random.below(n), random.below(3));
      sink.pages.forEach((p, i) => t.is(sink.flat(i).length, p.header.bytesPerLine * p.header.height));
      clean++;
    } catch (error) {
      if (!(error instanceof RasterError)) return t.fail(`${String(error)} at round ${i}`);
      errors++;
    }
  }
  t.true(errors > 100 && clean > 10, `${errors} errors, ${clean} clean`);
});

test("the URF decoder keeps one line buffer whatever the number of pages", (t) => {
  const page = testPage(100, 2, "srgb_8", 9);
  const doc = encodeUrfDocument(Array.from({ length: 200 }, () => page));
  const views = new Set<ArrayBufferLike>();
  const sink: RasterSink = { beginPage() {}, endPage() {}, line(data) { views.add(data.buffer); return true; } };
  const decoder = new UrfDecoder(sink, LIMITS);
  decoder.write(doc);
  decoder.end();
  t.is(decoder.pages, 200);
  t.is(views.size, 1);
});

// Ghostscript's urf device (a CUPS raster writer) and its pwgraster device
// render the same PostScript with the same rasterizer: both decodes must
// give the same pixels.
const gs = which("gs");
const hasUrf = gs !== undefined && /\burf\b/.test(execFileSync(gs, ["-h"], { encoding: "utf8" }));
(hasUrf ? test : test.skip)("Ghostscript's URF and PWG renders of one page decode pixel for pixel alike (gray and sRGB)", (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "urf-gs-"));
  try {
    const ps = path.join(dir, "page.ps");
    writeFileSync(ps, "%!PS\n<< /PageSize [216 144] >> setpagedevice\n0.3 setgray 10 10 90 40 rectfill 1 0 0 setrgbcolor 120 30 60 80 rectfill\n"
      + "0 0.5 1 setrgbcolor 20 80 moveto 200 130 lineto 6 setlinewidth stroke /Helvetica findfont 18 scalefont setfont 0 setgray 20 110 moveto (URF) show showpage\n");
    for (const [space, code] of [["sgray_8", 18], ["srgb_8", 19]] as const) {
      const render = (device: string, file: string) => {
        execFileSync(gs!, ["-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", `-sDEVICE=${device}`, `-dcupsColorSpace=${code}`, "-dcupsBitsPerColor=8", "-r150", `-sOutputFile=${file}`, ps], { stdio: "pipe" });
        return new Uint8Array(readFileSync(file));
      };
      const urfSink = decode(urf, render("urf", path.join(dir, "p.urf"))).sink;
      const fromUrf = urfSink.pages;
      const fromPwg = decode(pwg, render("pwgraster", path.join(dir, "p.pwg"))).sink.pages;
      t.is(fromUrf.length, 1);
      t.is(fromUrf[0].format.colorSpace, space);
      t.like(fromUrf[0].header, { width: 450, height: 300, xDpi: 150 });
      t.deepEqual(fromUrf[0].pixels, fromPwg[0].pixels, space);
      t.true(new Set(urfSink.flat(0)).size > 2, "the page is not blank");
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
