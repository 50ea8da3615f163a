import test from "ava";
import { PwgDecoder, RUN_MIXED, RasterError, expandRuns, useRunExpander, type ExpandRuns, type RasterSink } from "../modules/pwg/decoder.js";
import { bytesPerLine, encodeDocument, pageHeader, testPage, type Page, type Space } from "./helpers/pwg.js";
import { Collector, decodeInChunks } from "./helpers/raster-sink.js";
import { SeededRandom } from "./helpers/seeded-random.js";

const LIMITS = { maxWidth: 5000, maxHeight: 20000 };

function decode(doc: Uint8Array, split: (n: number) => number, fullEvery = 0) {
  return decodeInChunks((sink) => new PwgDecoder(sink, LIMITS), doc, split, fullEvery);
}

const spaces: Space[] = ["sgray_8", "srgb_8", "black_1"];

test("pages of every supported color space decode exactly, in any chunking", (t) => {
  const random = new SeededRandom(11);
  for (const space of spaces) {
    const pages: Page[] = [testPage(173, 61, space, 1), testPage(64, 40, space, 2), testPage(1, 3, space, 3)];
    const doc = encodeDocument(pages);
    for (const split of [(n: number) => n, () => 1, () => 7, (n: number) => 1 + random.below(Math.min(n, 5000))]) {
      const { sink, decoder } = decode(doc, split);
      t.is(decoder.pages, 3);
      pages.forEach((p, i) => {
        t.is(sink.pages[i].format.colorSpace, space);
        t.is(sink.pages[i].header.width, p.width);
        t.deepEqual(sink.flat(i), p.pixels, `${space} page ${i + 1}`);
      });
    }
  }
});

test("a line-repeat byte costs one sink call, not one per line", (t) => {
  const page: Page = { width: 100, height: 256, space: "sgray_8", pixels: new Uint8Array(100 * 256).fill(0x55) };
  const { sink } = decode(encodeDocument([page]), (n) => n);
  t.is(sink.lineCalls, 1);
  t.is(sink.pages[0].pixels.length, 256);
});

test("128 fills the rest of the line with white: 0xFF for gray and RGB, 0 for black_1", (t) => {
  for (const space of spaces) {
    const bpl = bytesPerLine(16, space);
    const header = pageHeader({ width: 16, height: 1, space, pixels: new Uint8Array() });
    const unit = space === "srgb_8" ? 3 : 1;
    // one dark unit, then fill
    const data = [0, 0, ...new Array(unit).fill(0x11), 128];
    const doc = Uint8Array.from([...new TextEncoder().encode("RaS2"), ...header, ...data]);
    const { sink } = decode(doc, (n) => n);
    const expected = new Uint8Array(bpl).fill(space === "black_1" ? 0 : 0xff);
    expected.fill(0x11, 0, unit);
    t.deepEqual(sink.flat(0), expected, space);
  }
});

test("a full sink stops the decoder mid-chunk without losing or repeating a byte", (t) => {
  const pages = [testPage(300, 120, "srgb_8", 5), testPage(200, 90, "sgray_8", 6)];
  const doc = encodeDocument(pages);
  for (const every of [1, 2, 3, 17]) {
    const { sink } = decode(doc, () => 4096, every);
    t.deepEqual(sink.flat(0), pages[0].pixels);
    t.deepEqual(sink.flat(1), pages[1].pixels);
  }
  const decoder = new PwgDecoder(Object.assign(new Collector(), { fullEvery: 1 }), LIMITS);
  t.false(decoder.write(doc));
  t.throws(() => decoder.write(doc), { instanceOf: RasterError }, "writing while waiting is a caller bug");
});

test("PageSize 0 and an empty MediaClass are fine: only the geometry fields matter", (t) => {
  const page = testPage(40, 10, "sgray_8", 9);
  const doc = encodeDocument([page]);
  doc.fill(0, 4, 4 + 64);
  const { sink } = decode(doc, (n) => n);
  t.deepEqual(sink.pages[0].header.pageSize, [0, 0]);
  t.deepEqual(sink.flat(0), page.pixels);
});

function failure(doc: Uint8Array, limits = LIMITS): string {
  const decoder = new PwgDecoder(new Collector(), limits);
  try {
    decoder.write(doc);
    decoder.end();
  } catch (error) {
    if (!(error instanceof RasterError)) throw error;
    return error.message;
  }
  return "no error";
}

test("bad documents end with a clear description", (t) => {
  const good = encodeDocument([testPage(32, 8, "sgray_8", 1)]);
  const withHeader = (o: Record<number, number>) => Uint8Array.from([...new TextEncoder().encode("RaS2"), ...pageHeader({ width: 32, height: 8, space: "sgray_8", pixels: new Uint8Array() }, o)]);
  const cases: Array<[Uint8Array, RegExp]> = [
    [new Uint8Array(0), /empty/],
    [new TextEncoder().encode("%PDF-1.4\n"), /does not start with "RaS2"/],
    [good.subarray(0, 100), /inside the header of page 1/],
    [good.subarray(0, good.length - 3), /ended \d+ lines before the end of page 1/],
    [Uint8Array.from([...good, 1, 2, 3]), /inside the header of page 2/],
    [withHeader({ 400: 6, 384: 8, 388: 32 }), /unsupported color space 6/],
    [withHeader({ 392: 33 }), /BytesPerLine is 33 but 32 pixels/],
    [withHeader({ 372: 6000, 392: 6000 }), /at most 5000/],
    [withHeader({ 376: 0 }), /empty page/],
    [withHeader({ 276: 0 }), /bad resolution/],
    [withHeader({ 396: 1 }), /color order/],
    [Uint8Array.from([...withHeader({}), 0, 31, 0]), /run of 32 pixels crosses|lines before/],
    [Uint8Array.from([...withHeader({}), 0, 40, 0]), /run of 41 pixels crosses/],
    [Uint8Array.from([...withHeader({}), 0, 200, ...new Array(57).fill(0)]), /run of 57 pixels crosses/],
    [Uint8Array.from([...withHeader({}), 9, 128]), /repeats past the end of the page/],
    [new TextEncoder().encode("RaS2"), /has no pages/],
  ];
  for (const [doc, pattern] of cases) t.regex(failure(doc), pattern);
});

test("random and mutated input only ever ends in a RasterError or a clean decode", (t) => {
  const random = new SeededRandom(2024);
  const good = encodeDocument([testPage(50, 20, "srgb_8", 3), testPage(30, 5, "black_1", 4)]);
  for (let i = 0; i < 3000; i++) {
    const doc = Uint8Array.from(good);
    for (let k = 0; k < 1 + random.below(8); k++) doc[4 + random.below(doc.length - 4)] = random.below(256);
    const cut = random.below(3) === 0 ? doc.subarray(0, random.below(doc.length)) : doc;
    try {
      decode(cut, (n) => 1 + random.below(n), random.below(3));
    } catch (error) {
      if (!(error instanceof RasterError)) return t.fail(`${String(error)} at round ${i}`);
    }
  }
  t.pass();
});

test("the decoder keeps one line buffer whatever the number of pages", (t) => {
  const page = testPage(400, 50, "srgb_8", 8);
  const one = encodeDocument([page]);
  const sink = new Collector();
  sink.line = () => true;
  const decoder = new PwgDecoder(sink, LIMITS);
  decoder.write(one.subarray(0, 4));
  const body = one.subarray(4);
  const buffers = new Set<ArrayBufferLike>();
  sink.line = (data) => { buffers.add(data.buffer); return true; };
  for (let i = 0; i < 200; i++) decoder.write(body);
  decoder.end();
  t.is(decoder.pages, 200);
  t.is(buffers.size, 1, "every line of every page came out of the same buffer");
});

// One-line pages built run by run: a literal of `lead` units puts the repeat
// run that follows at every offset modulo 4 (repeat runs copy whole words
// once 12 bytes are in and the position is word-aligned), then a repeat run
// of 1 to 128 units, then a literal unit to end the line.
function oneLinePage(space: Space, lead: number, count: number): { head: Uint8Array; data: Uint8Array; expected: Uint8Array } {
  const unit = space === "srgb_8" ? 3 : 1;
  const units = lead + count + 1;
  const width = space === "black_1" ? 8 * units : units;
  let value = lead * 131 + count;
  const next = () => (value = (value * 73 + 41) % 251);
  // A single unit has no literal form (257 - 1 is not a byte): it is a repeat of one.
  const literal = (n: number) => (n === 1 ? 0 : 257 - n);
  const expected: number[] = [];
  const data: number[] = [0];
  if (lead > 0) data.push(literal(lead));
  for (let k = 0; k < lead * unit; k++) { data.push(next()); expected.push(value); }
  const pattern = Array.from({ length: unit }, () => next());
  data.push(count - 1, ...pattern);
  for (let r = 0; r < count; r++) expected.push(...pattern);
  data.push(literal(1));
  for (let k = 0; k < unit; k++) { data.push(next()); expected.push(value); }
  const header = pageHeader({ width, height: 1, space, pixels: new Uint8Array() });
  return { head: Uint8Array.from([0x52, 0x61, 0x53, 0x32, ...header]), data: Uint8Array.from(data), expected: Uint8Array.from(expected) };
}

class LastLine implements RasterSink {
  last = new Uint8Array(0);
  beginPage(): void {}
  line(data: Uint8Array): boolean {
    this.last = Uint8Array.from(data);
    return true;
  }
  endPage(): void {}
}

test("repeat runs of every length, at every word offset, split at every byte boundary", (t) => {
  let cases = 0;
  const failures: string[] = [];
  for (const space of spaces) {
    for (let lead = 0; lead < 4; lead++) {
      for (let count = 1; count <= 128; count++) {
        const { head, data, expected } = oneLinePage(space, lead, count);
        // Whole, one byte at a time, and cut in two at every byte of the line.
        const splits: number[][] = [[data.length], Array.from(data, () => 1)];
        for (let cut = 1; cut < data.length; cut++) splits.push([cut, data.length - cut]);
        for (const split of splits) {
          const sink = new LastLine();
          const decoder = new PwgDecoder(sink, LIMITS);
          decoder.write(head);
          let at = 0;
          for (const size of split) { decoder.write(data.subarray(at, at + size)); at += size; }
          decoder.end();
          cases++;
          if (sink.last.length !== expected.length || !sink.last.every((b, k) => b === expected[k])) failures.push(`${space} lead ${lead} count ${count} split ${split.slice(0, 2).join("+")}`);
        }
      }
    }
  }
  t.deepEqual(failures.slice(0, 5), []);
  t.true(cases > 10_000);
});

test("the runs handed with a gray or 1-bit line cover it exactly, and every segment not marked mixed is one byte value", (t) => {
  const random = new SeededRandom(21);
  for (const space of ["sgray_8", "black_1"] as const) {
    const doc = encodeDocument([testPage(301, 40, space, 5), testPage(64, 12, space, 6)]);
    for (const chunk of [1, 3, 64, 100_000]) {
      let lines = 0, constant = 0, mixed = 0;
      const sink: RasterSink = {
        beginPage() {},
        endPage() {},
        line(data, _repeat, runs) {
          lines++;
          if (!runs) { t.fail("no runs for a 1-byte unit"); return true; }
          let start = 0;
          for (let k = 0; start < data.length; k++) {
            const end = runs[k], stop = end & ~RUN_MIXED;
            if (stop <= start || stop > data.length) { t.fail(`segment ${k} ends at ${stop} after ${start}`); return true; }
            if (end & RUN_MIXED) mixed++;
            else {
              constant++;
              for (let i = start; i < stop; i++) if (data[i] !== data[start]) { t.fail(`segment ${k} is not one value`); return true; }
            }
            start = stop;
          }
          return true;
        },
      };
      const decoder = new PwgDecoder(sink, LIMITS);
      for (let at = 0; at < doc.length;) {
        const n = Math.max(1, chunk - random.below(2));
        decoder.write(doc.subarray(at, at + n));
        at += n;
      }
      decoder.end();
      t.true(lines > 0 && constant > 0 && mixed > 0, `${space}, chunks of ${chunk}: ${lines} lines, ${constant} constant and ${mixed} mixed segments`);
    }
  }
  // RGB's repeated unit is 3 bytes: no byte runs to give.
  let rgbRuns: Uint16Array | undefined = new Uint16Array(1);
  const rgb = new PwgDecoder({ beginPage() {}, endPage() {}, line(_d, _r, runs) { rgbRuns = runs; return true; } }, LIMITS);
  rgb.write(encodeDocument([testPage(16, 2, "srgb_8", 3)]));
  t.is(rgbRuns as Uint16Array | undefined, undefined);
});

// What a document gives a sink: every line with its runs (up to the line's
// end) and the error, if any, as one string.
function transcript(doc: Uint8Array, chunk: (n: number) => number): string {
  const out: string[] = [];
  const sink: RasterSink = {
    beginPage(h) { out.push(`page ${h.width}x${h.height}`); },
    endPage() { out.push("end"); },
    line(data, repeat, runs) {
      let ends = "";
      for (let k = 0, start = 0; runs && start < data.length && k < runs.length; k++) { ends += `${runs[k]},`; start = runs[k] & ~RUN_MIXED; }
      out.push(`${repeat} ${Buffer.from(data).toString("hex")} ${ends}`);
      return true;
    },
  };
  try {
    const decoder = new PwgDecoder(sink, LIMITS);
    for (let at = 0; at < doc.length;) { const n = chunk(doc.length - at); decoder.write(doc.subarray(at, at + n)); at += n; }
    decoder.end();
  } catch (error) {
    out.push(String(error));
  }
  return out.join("\n");
}

test("the run loop a board replaces (expandRuns) may stop at any run: the decoder finishes every kind itself, with the same lines, runs and errors", (t) => {
  const random = new SeededRandom(33), stops = new SeededRandom(34);
  // A loop that takes only some of the runs it could: nothing, or a few.
  const lazy: ExpandRuns = (chunk, line, runs, at) => {
    if (stops.below(3) === 0) return;
    const whole = Uint32Array.from(at);
    const short = chunk.subarray(0, Math.min(chunk.length, at[0] + stops.below(40)));
    expandRuns(short, line, runs, whole);
    at.set(whole.subarray(0, 3));
  };
  const docs: Uint8Array[] = [];
  for (const space of ["sgray_8", "black_1"] as const) docs.push(encodeDocument([testPage(301, 40, space, 5), testPage(64, 12, space, 6)]));
  // Hostile lines: a gray page's header, then random bytes (runs that overrun
  // the line, lines that repeat past the page, a document cut short).
  const head = encodeDocument([testPage(40, 30, "sgray_8", 1)]).subarray(0, 4 + 1796);
  for (let d = 0; d < 200; d++) {
    const doc = new Uint8Array(head.length + 1 + random.below(400));
    doc.set(head);
    for (let k = head.length; k < doc.length; k++) doc[k] = random.below(4) === 0 ? random.below(256) : random.below(2) ? random.below(12) : 250 + random.below(6);
    docs.push(doc);
  }
  let errors = 0;
  try {
    for (const doc of docs) {
      for (const size of [0, 1, 1 + random.below(30)]) {
        const split = (n: number) => size || n;
        useRunExpander(expandRuns);
        const reference = transcript(doc, split);
        useRunExpander(lazy);
        const other = transcript(doc, split);
        if (reference !== other) { t.is(other, reference); return; }
        if (reference.includes("Error")) errors++;
      }
    }
  } finally {
    useRunExpander(expandRuns);
  }
  t.true(errors > 100, `${errors} of the hostile documents were refused`);
});

test("expandRuns takes only whole runs inside the chunk and the line, and says where it stopped", (t) => {
  const line = new Uint8Array(10).fill(0xee), runs = new Uint16Array(10);
  // 3 x 0x11, literal 2 bytes, then a repeat of 9 (past the line's end of 10)
  const chunk = Uint8Array.of(2, 0x11, 255, 0x21, 0x22, 8, 0x33);
  const at = Uint32Array.of(0, 0, 0, 10, 0xff);
  expandRuns(chunk, line, runs, at);
  t.deepEqual([...at], [5, 5, 2, 10, 0xff]);
  t.deepEqual([...line], [0x11, 0x11, 0x11, 0x21, 0x22, 0xee, 0xee, 0xee, 0xee, 0xee]);
  t.deepEqual([...runs.subarray(0, 2)], [3, 5 | RUN_MIXED]);
  // A repeat whose byte is in the next chunk, a literal cut short: left alone.
  for (const tail of [[4], [253, 1, 2]]) {
    const a = Uint32Array.of(0, 0, 0, 10, 0xff);
    expandRuns(Uint8Array.from(tail), line, runs, a);
    t.deepEqual([...a.subarray(0, 3)], [0, 0, 0]);
  }
  // 128: the rest of the line white.
  const b = Uint32Array.of(0, 5, 2, 10, 0xff);
  expandRuns(Uint8Array.of(128, 7), line, runs, b);
  t.deepEqual([...b.subarray(0, 3)], [1, 10, 3]);
  t.deepEqual([...line.subarray(5)], [0xff, 0xff, 0xff, 0xff, 0xff]);
});
