import test from "ava";
import { execFileSync } from "node:child_process";
import { JobStore } from "../modules/jobs/store.js";
import type { EngineColorSpace } from "../modules/hal/engine.js";
import { RasterError, type RasterSink } from "../modules/pwg/decoder.js";
import type { PageFormat, PageHeader } from "../modules/pwg/header.js";
import { jpegDocument } from "../modules/print/image-document.js";
import { decodeWindow, placeImage, type ImagePlacement } from "../modules/print/image-placement.js";
import { JobLifecycle } from "../modules/print/lifecycle.js";
import type { DocumentConsumer, DocumentSource } from "../modules/print/source.js";
import { Spooler, type ReceiveResult } from "../modules/print/spooler.js";
import { FakeClock } from "./helpers/fake-clock.js";
import { withOrientation } from "./helpers/jpeg.js";
import { SMALL_JPEG_BASE64, SMALL_JPEG_HEIGHT, SMALL_JPEG_WIDTH } from "./helpers/small-jpeg.js";
import { which } from "./helpers/peers.js";
import { SeededRandom } from "./helpers/seeded-random.js";
import { TestEngine } from "./helpers/test-engine.js";

// Placing a JPEG on the page per print-scaling: white margins where the
// image does not reach, crop where it overflows, checked at the borders and
// the centre. Test images are drawn here and encoded by cjpeg.

const title = (t: string) => (which("cjpeg") ? t : `${t} (skipped: cjpeg not installed)`);
const peerTest = which("cjpeg") ? test : test.skip;

// A PNM drawn by pixel(x, y) -> gray or [r, g, b], encoded at quality 95, 4:4:4.
function jpeg(width: number, height: number, pixel: (x: number, y: number) => number | number[], rgb = false): Uint8Array {
  const channels = rgb ? 3 : 1;
  const head = Buffer.from(`${rgb ? "P6" : "P5"}\n${width} ${height}\n255\n`, "latin1");
  const body = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = pixel(x, y);
      if (typeof v === "number") body[y * width + x] = v;
      else body.set(v, (y * width + x) * 3);
    }
  }
  const args = ["-quality", "95", "-sample", "1x1", ...(rgb ? [] : ["-grayscale"])];
  return new Uint8Array(execFileSync("cjpeg", args, { input: Buffer.concat([head, body]) }));
}

interface Page { header: PageHeader; format: PageFormat; rows: Uint8Array[]; ended: boolean }

class PageSink implements RasterSink {
  pages: Page[] = [];
  refuseEvery = 0;
  private lines = 0;
  beginPage(header: PageHeader, format: PageFormat): void { this.pages.push({ header, format, rows: [], ended: false }); }
  line(data: Uint8Array, repeat: number): boolean {
    const page = this.pages.at(-1)!;
    for (let r = 0; r < repeat; r++) page.rows.push(Uint8Array.from(data));
    this.lines++;
    return !(this.refuseEvery && this.lines % this.refuseEvery === 0);
  }
  endPage(): void { this.pages.at(-1)!.ended = true; }
}

function place(bytes: Uint8Array, placement: Partial<ImagePlacement>, refuseEvery = 0, chunk = 1000): Page {
  const p: ImagePlacement = { scaling: "fit", widthDots: 100, heightDots: 200, xDpi: 72, yDpi: 72, colorSpace: "sgray_8", ...placement };
  const sink = new PageSink();
  sink.refuseEvery = refuseEvery;
  const doc = jpegDocument(p)(sink, { maxWidth: 5000, maxHeight: 9000 });
  for (let i = 0; i < bytes.length; i += chunk) {
    let more = doc.write(bytes.subarray(i, i + chunk));
    for (let k = 0; !more; k++) {
      if (k > 100_000) throw new Error("never resumed");
      more = doc.resume();
    }
  }
  doc.end();
  if (sink.pages.length !== 1 || !sink.pages[0].ended) throw new Error("not one whole page");
  return sink.pages[0];
}

const gray = (page: Page, x: number, y: number) => page.rows[y][x];
const black = (v: number) => v < 40;
const white = (v: number) => v > 215;

// Rows (or columns) where the page is dark, as [first, last].
function darkRows(page: Page, x: number): [number, number] {
  let first = -1, last = -1;
  page.rows.forEach((r, y) => { if (black(r[x])) { if (first < 0) first = y; last = y; } });
  return [first, last];
}
function darkColumns(page: Page, y: number): [number, number] {
  let first = -1, last = -1;
  page.rows[y].forEach((v, x) => { if (black(v)) { if (first < 0) first = x; last = x; } });
  return [first, last];
}

peerTest(title("fit: a landscape image on a portrait page fills the width, centred, white above and below"), (t) => {
  const image = jpeg(300, 150, () => 0);
  const page = place(image, { scaling: "fit" });
  t.is(page.header.width, 100);
  t.is(page.header.height, 200);
  t.is(page.rows.length, 200);
  // 300 x 150 scaled by 1/3: 100 x 50, from row 75.
  t.deepEqual(darkRows(page, 50), [75, 124]);
  t.deepEqual(darkRows(page, 0), [75, 124]);
  t.deepEqual(darkRows(page, 99), [75, 124]);
  t.deepEqual(darkColumns(page, 100), [0, 99]);
  t.true(white(gray(page, 50, 0)) && white(gray(page, 50, 74)) && white(gray(page, 50, 125)) && white(gray(page, 50, 199)));
});

peerTest(title("fit: a portrait image on a landscape page fills the height, white left and right"), (t) => {
  const image = jpeg(100, 300, () => 0);
  const page = place(image, { scaling: "fit", widthDots: 200, heightDots: 100 });
  // 100 x 300 scaled by 1/3: 33.3 x 100, centred: columns 83..116.
  t.deepEqual(darkColumns(page, 50), [83, 116]);
  t.deepEqual(darkColumns(page, 0), [83, 116]);
  t.deepEqual(darkRows(page, 100), [0, 99]);
  t.true(white(gray(page, 0, 50)) && white(gray(page, 199, 50)));
});

peerTest(title("fill: the page is covered and the image cropped at its centre"), (t) => {
  // Left half black, right half white: a centred crop of a 2:1 image on a square page shows both.
  const image = jpeg(200, 100, (x) => (x < 100 ? 0 : 255));
  const page = place(image, { scaling: "fill", widthDots: 100, heightDots: 100 });
  t.is(page.rows.length, 100);
  t.deepEqual(darkColumns(page, 0), [0, 49]);
  t.deepEqual(darkColumns(page, 99), [0, 49]);
  t.true(white(gray(page, 51, 50)) && white(gray(page, 99, 0)));
  // A landscape image on a portrait page: covered edge to edge.
  const dark = place(jpeg(300, 150, () => 0), { scaling: "fill" });
  for (const [x, y] of [[0, 0], [99, 0], [0, 199], [99, 199], [50, 100]]) t.true(black(gray(dark, x, y)), `${x},${y}`);
});

peerTest(title("none: the image at its own density (72 dpi without one), centred and cropped"), (t) => {
  const page = place(jpeg(300, 150, () => 0), { scaling: "none" });
  // 300 x 150 dots at 72 dpi on a 100 x 200 page: rows 25..174, cropped across.
  t.deepEqual(darkRows(page, 0), [25, 174]);
  t.deepEqual(darkColumns(page, 100), [0, 99]);
  // At 144 dpi on the page the same image is twice as large: rows 0..199 (300 tall).
  const twice = place(jpeg(300, 150, () => 0), { scaling: "none", xDpi: 144, yDpi: 144, widthDots: 100, heightDots: 400 });
  t.deepEqual(darkRows(twice, 50), [50, 349]);
  // A small image stays small, centred.
  const small = place(jpeg(20, 10, () => 0), { scaling: "none" });
  t.deepEqual(darkColumns(small, 100), [40, 59]);
  t.deepEqual(darkRows(small, 50), [95, 104]);
});

peerTest(title("auto and auto-fit: a large image fits (fills when borderless), a small one is not scaled"), (t) => {
  const big = jpeg(300, 150, () => 0), small = jpeg(20, 10, () => 0);
  t.deepEqual(darkRows(place(big, { scaling: "auto" }), 50), [75, 124]);
  t.deepEqual(darkRows(place(big, { scaling: "auto-fit" }), 50), [75, 124]);
  t.deepEqual(darkRows(place(big, { scaling: "auto", borderless: true }), 50), [0, 199]);
  t.deepEqual(darkRows(place(big, { scaling: "auto-fit", borderless: true }), 50), [75, 124]);
  t.deepEqual(darkRows(place(small, { scaling: "auto" }), 50), [95, 104]);
  t.deepEqual(darkRows(place(small, { scaling: "auto-fit" }), 50), [95, 104]);
  // ipp-attribute-fidelity scales even a small image.
  t.deepEqual(darkRows(place(small, { scaling: "auto", fidelity: true }), 50), [75, 124]);
});

peerTest(title("margins a job asks for: the page stays the whole sheet, the image fits or fills only what they leave"), (t) => {
  const big = jpeg(300, 150, () => 0);
  const margins = { top: 10, right: 5, bottom: 30, left: 15 };
  const fit = place(big, { scaling: "fit", margins });
  t.is(fit.header.width, 100);
  t.is(fit.header.height, 200);
  // 80 dots across, so 40 down, centred in rows 10 to 170.
  t.deepEqual(darkColumns(fit, 100), [15, 94]);
  t.deepEqual(darkRows(fit, 50), [70, 109]);
  // Filling the area crops at the margins, not at the page's edge.
  const fill = place(big, { scaling: "fill", margins });
  t.deepEqual(darkColumns(fill, 100), [15, 94]);
  t.deepEqual(darkRows(fill, 50), [10, 169]);
});

peerTest(title("on a roll the page is as long as the image placed across the head"), (t) => {
  const page = place(jpeg(300, 150, () => 0), { scaling: "fit", widthDots: 384, heightDots: 8000, continuous: true, xDpi: 203, yDpi: 203 });
  t.is(page.header.width, 384);
  t.is(page.header.height, 192);
  t.is(page.rows.length, 192);
  t.true(black(gray(page, 0, 0)) && black(gray(page, 383, 191)));
  const portrait = place(jpeg(150, 300, () => 0), { scaling: "auto", widthDots: 384, heightDots: 8000, continuous: true, xDpi: 203, yDpi: 203, fidelity: true });
  t.is(portrait.header.height, 768);
});

peerTest(title("srgb_8 keeps the colour with white margins; black_1 is dithered once, margins clear"), (t) => {
  const red = jpeg(300, 150, () => [220, 20, 30], true);
  const rgb = place(red, { scaling: "fit", colorSpace: "srgb_8" });
  t.is(rgb.header.bytesPerLine, 300);
  const px = (x: number, y: number) => Array.from(rgb.rows[y].subarray(x * 3, x * 3 + 3));
  const centre = px(50, 100);
  t.true(Math.abs(centre[0] - 220) <= 3 && Math.abs(centre[1] - 20) <= 3 && Math.abs(centre[2] - 30) <= 3, String(centre));
  t.deepEqual(px(50, 10), [255, 255, 255]);
  const mid = jpeg(300, 150, () => 128);
  const bits = place(mid, { scaling: "fit", colorSpace: "black_1" as EngineColorSpace });
  t.is(bits.header.bytesPerLine, 13);
  t.is(bits.format.white, 0);
  let set = 0;
  for (let y = 75; y < 125; y++) for (let x = 0; x < 100; x++) set += (bits.rows[y][x >> 3] >> (7 - (x & 7))) & 1;
  t.true(set > 2000 && set < 3000, `${set} of 5000 dots black for mid-gray`);
  t.true(bits.rows.slice(0, 75).every((r) => r.every((b) => b === 0)));
});

peerTest(title("backpressure: a sink that fills up every few lines gets the same page, in any chunking"), (t) => {
  const image = jpeg(317, 211, (x, y) => (x * 7 + y * 3) & 255, true);
  for (const scaling of ["fit", "fill", "none"] as const) {
    for (const colorSpace of ["sgray_8", "srgb_8", "black_1"] as const) {
      const plain = place(image, { scaling, colorSpace });
      const random = new SeededRandom(scaling.length + colorSpace.length);
      for (const [refuse, chunk] of [[1, 1], [3, 17], [2 + random.below(5), 1 + random.below(500)]]) {
        const pressed = place(image, { scaling, colorSpace }, refuse, chunk);
        t.deepEqual(pressed.rows, plain.rows, `${scaling} ${colorSpace} refuse ${refuse} chunk ${chunk}`);
      }
    }
  }
});

test("the decoder's row buffer is bounded by the page: a 4000-pixel photo on a 384-dot head", (t) => {
  const info = { width: 4000, height: 3000, components: 3 as const, sampling: "4:2:0", densityUnit: 1, xDensity: 72, yDensity: 72, orientation: 1 };
  const roll = { scaling: "fit" as const, widthDots: 384, heightDots: 8000, xDpi: 203, yDpi: 203, colorSpace: "sgray_8" as const, continuous: true };
  const w = decodeWindow(info, placeImage(info, roll));
  t.is(w.scale, 8);
  t.is(w.right - w.left, 500);
  // fill on a square page: only the centre columns are kept.
  const square = { ...roll, continuous: false, scaling: "fill" as const, heightDots: 384 };
  const f = decodeWindow(info, placeImage(info, square));
  t.is(f.scale, 4);
  t.true(f.right - f.left <= 2 * 384, `${f.right - f.left} columns`);
  t.true(f.left > 100, "the left of the photo is cropped away before decoding");
});

peerTest(title("a truncated JPEG ends in a RasterError from end()"), (t) => {
  const image = jpeg(64, 64, (x) => x * 4);
  const sink = new PageSink();
  const doc = jpegDocument({ scaling: "fit", widthDots: 64, heightDots: 64, xDpi: 72, yDpi: 72, colorSpace: "sgray_8" })(sink, { maxWidth: 100, maxHeight: 100 });
  doc.write(image.subarray(0, image.length - 40));
  const error = t.throws(() => doc.end(), { instanceOf: RasterError });
  t.regex(error!.message, /JPEG: .*stopped short|JPEG: .*EOI/);
});

peerTest(title("the spooler prints a JPEG through jpegDocument, pausing the source while the engine is full"), (t) => {
  const clock = new FakeClock();
  const engine = new TestEngine();
  engine.capacity = 25;
  const lifecycle = new JobLifecycle(new JobStore(clock, new SeededRandom(1)), () => {});
  const spooler = new Spooler(engine, lifecycle, clock, () => {});
  const doc = jpeg(600, 400, (x, y) => ((x >> 4) + (y >> 4)) % 2 === 0 ? 0 : 255);
  let consumer: DocumentConsumer | undefined;
  let paused = false, pauses = 0, offset = 0, releases = 0;
  const source: DocumentSource = { declaredLength: doc.length, readBody(c) { consumer = c; }, pause() { paused = true; pauses++; }, resume() { paused = false; } };
  const results: ReceiveResult[] = [];
  const a4 = { scaling: "fit" as const, widthDots: 2480, heightDots: 3508, xDpi: 300, yDpi: 300, colorSpace: "sgray_8" as const };
  spooler.start(lifecycle.createQueued(), source, (r) => results.push(r), jpegDocument(a4));
  for (let i = 0; i < 100_000 && results.length === 0; i++) {
    if (paused) { engine.release(); releases++; clock.advance(1); continue; }
    if (offset < doc.length) { consumer!.data(doc.subarray(offset, offset + 1024)); offset += 1024; }
    else consumer!.end();
    clock.advance(1);
  }
  t.deepEqual(results, [{ ok: true }]);
  // The source is paused while a chunk is held; the engine fills every 25 lines of 1653.
  t.true(pauses >= 3, `${pauses} pauses`);
  t.true(releases > 60, `${releases} releases`);
  t.is(engine.pages.length, 1);
  t.is(engine.pages[0].page.width, 2480);
  t.is(engine.pages[0].rows.length, 3508);
  // 600 x 400 fitted to 2480 across: 1653 rows from row 927.
  const column = engine.pages[0].rows.map((r) => r[40]);
  t.true(column.slice(0, 926).every((v) => v === 255), `top ${column.slice(0, 926).findIndex((v) => v !== 255)}`);
  t.true(column.slice(2581).every((v) => v === 255), `bottom ${column.slice(2581).findIndex((v) => v !== 255)}`);
  t.true(column[940] < 40, "the first checker square is black");
});

peerTest(title("a 4000 x 3000 photo on a 384-dot roll is decoded with under 64 KB of buffers"), (t) => {
  const big = jpeg(4000, 3000, (x, y) => [(x >> 3) & 255, (y >> 3) & 255, ((x + y) >> 4) & 255], true);
  const sink = new PageSink();
  const doc = jpegDocument({ scaling: "fit", widthDots: 384, heightDots: 8000, xDpi: 203, yDpi: 203, colorSpace: "sgray_8", continuous: true })(sink, { maxWidth: 384, maxHeight: 8000 });
  let peak = 0;
  for (let i = 0; i < big.length; i += 65536) {
    doc.write(big.subarray(i, i + 65536));
    peak = Math.max(peak, (doc as unknown as { bufferBytes: number }).bufferBytes);
  }
  doc.end();
  t.is(sink.pages[0].rows.length, 288);
  // A full-size MCU row of this image would be 4000 x 16 x 1.5 = 96 KB alone.
  t.true(peak < 64 * 1024, `${peak} bytes`);
  t.log(`buffers: ${peak} bytes`);
});

// The per-column tables grow with the page, not the image: an A4 page at
// 150 dpi is 1,240 columns, and at 20 bytes a column they alone were 25 KB,
// a quarter of the board's 96 KB heap. The small test JPEG, fitted, spans
// the whole width, so every column gets an entry.
for (const [dpi, width, height, limit] of [[150, 1240, 1754, 8 * 1024], [300, 2480, 3508, 10 * 1024]] as const) {
  test(`the column tables for A4 at ${dpi} dpi (${width} columns) take at most ${limit} bytes`, (t) => {
    const image = Uint8Array.from(Buffer.from(SMALL_JPEG_BASE64, "base64"));
    const sink = new PageSink();
    const a4: ImagePlacement = { scaling: "fit", widthDots: width, heightDots: height, xDpi: dpi, yDpi: dpi, colorSpace: "sgray_8" };
    const doc = jpegDocument(a4)(sink, { maxWidth: 5000, maxHeight: 9000 });
    // The first chunk holds the frame header: the tables are built by then.
    doc.write(image.subarray(0, 1024));
    const held = doc as unknown as { tableBytes: number; bufferBytes: number };
    const tables = held.tableBytes, buffers = held.bufferBytes;
    doc.write(image.subarray(1024));
    doc.end();
    t.is(sink.pages[0].rows.length, height);
    // Fitted across (the test page has white margins of its own, so this is asked of the layout).
    const info = { width: SMALL_JPEG_WIDTH, height: SMALL_JPEG_HEIGHT, components: 3 as const, sampling: "4:2:0", densityUnit: 0, xDensity: 1, yDensity: 1, orientation: 1 };
    const layout = placeImage(info, a4);
    t.deepEqual([layout.x0, layout.x1], [0, width]);
    t.true(tables > 0 && tables <= limit, `${tables} bytes of column tables`);
    t.log(`column tables ${tables} bytes; all buffers ${buffers} bytes`);
  });
}

// The upright picture D (40 x 64: a black block top left, a mid-gray bar
// along the bottom) stored as the camera would for each EXIF orientation.
function upright(x: number, y: number): number {
  if (x < 16 && y < 24) return 0;
  if (y >= 56) return 128;
  return 255;
}

function stored(orientation: number): Uint8Array {
  const W = 40, H = 64;
  const flipX = [2, 3, 6, 7].includes(orientation), flipY = [3, 4, 7, 8].includes(orientation), swap = orientation >= 5;
  const sw = swap ? H : W, sh = swap ? W : H;
  const pixels = new Uint8Array(sw * sh);
  for (let dy = 0; dy < H; dy++) {
    for (let dx = 0; dx < W; dx++) {
      const fx = flipX ? W - 1 - dx : dx, fy = flipY ? H - 1 - dy : dy;
      const [sx, sy] = swap ? [fy, fx] : [fx, fy];
      pixels[sy * sw + sx] = upright(dx, dy);
    }
  }
  return withOrientation(jpeg(sw, sh, (x, y) => pixels[y * sw + x]), orientation, orientation % 2 === 0);
}

peerTest(title("EXIF orientation: every one of the 8 comes out upright"), (t) => {
  for (const colorSpace of ["sgray_8", "black_1"] as const) {
    for (let o = 1; o <= 8; o++) {
      const page = place(stored(o), { scaling: "none", widthDots: 100, heightDots: 100, colorSpace });
      // Upright at 72 dpi, centred: the picture spans x 30..69, y 18..81.
      const dark = (x: number, y: number) => colorSpace === "black_1" ? ((page.rows[y][x >> 3] >> (7 - (x & 7))) & 1) === 1 : black(page.rows[y][x]);
      const name = `orientation ${o}, ${colorSpace}`;
      // The block: x 30..45, y 18..41.
      t.true(dark(31, 19) && dark(44, 40), `${name}: the block top left`);
      t.false(dark(48, 30) || dark(35, 44), `${name}: and no further`);
      t.false(dark(65, 20), `${name}: top right is white`);
      t.false(dark(10, 50) || dark(90, 50), `${name}: margins`);
      if (colorSpace === "sgray_8") {
        t.true(Math.abs(gray(page, 50, 78) - 128) < 12, `${name}: the gray bar at the bottom (${gray(page, 50, 78)})`);
        t.true(white(gray(page, 50, 70)), name);
      }
    }
  }
});

peerTest(title("EXIF orientation: a turned photo placed on a roll takes the upright aspect; over the buffer budget it prints as stored"), (t) => {
  const roll = { scaling: "fit" as const, widthDots: 384, heightDots: 8000, xDpi: 203, yDpi: 203, continuous: true };
  // Stored 64 x 40 (landscape), shown upright 40 x 64 (portrait): 384 x 614 dots.
  const turned = place(stored(6), { ...roll, colorSpace: "black_1" });
  t.is(turned.header.height, 614);
  t.true(((turned.rows[10][2] >> 7) & 1) === 1, "the block is at the top left");
  // 384 x 614 gray is 236 KB, over the 64 KB default: as stored, 384 x 240.
  const asStored = place(stored(6), { ...roll, colorSpace: "sgray_8" });
  t.is(asStored.header.height, 240);
  const roomy = place(stored(6), { ...roll, colorSpace: "sgray_8", orientBufferBytes: 300_000 });
  t.is(roomy.header.height, 614);
  t.true(black(gray(roomy, 5, 5)) && white(gray(roomy, 380, 5)));
});

peerTest(title("backpressure while a turned image comes out of its buffer gives the same page"), (t) => {
  for (const o of [3, 6, 8]) {
    for (const colorSpace of ["sgray_8", "black_1", "srgb_8"] as const) {
      const image = stored(o);
      const plain = place(image, { scaling: "fit", colorSpace, widthDots: 120, heightDots: 150 });
      for (const [refuse, chunk] of [[1, 7], [4, 64]]) {
        t.deepEqual(place(image, { scaling: "fit", colorSpace, widthDots: 120, heightDots: 150 }, refuse, chunk).rows, plain.rows, `orientation ${o} ${colorSpace} refuse ${refuse}`);
      }
    }
  }
});
