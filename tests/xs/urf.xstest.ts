import test from "./harness.js";
import { PwgDecoder, RasterError, type RasterSink } from "../../modules/pwg/decoder.js";
import { UrfDecoder } from "../../modules/urf/decoder.js";
import { encodeDocument, testPage } from "../helpers/pwg.js";
import { SeededRandom } from "../helpers/seeded-random.js";
import { encodeUrfDocument } from "../helpers/urf.js";

// The URF decoder inside XS: the same lines as PWG's for the same pixels,
// under backpressure and in odd chunks, and hostile bytes end in a RasterError.

const LIMITS = { maxWidth: 1000, maxHeight: 1000 };

function decodeAll(decoder: UrfDecoder | PwgDecoder, doc: Uint8Array, step: number): void {
  for (let o = 0; o < doc.length; o += step) {
    let more = decoder.write(doc.subarray(o, o + step));
    while (!more) more = decoder.resume();
  }
  decoder.end();
}

function collector(out: number[], fullEvery: number): RasterSink {
  let calls = 0;
  return {
    beginPage() {}, endPage() {},
    line(data, repeat) {
      for (let r = 0; r < repeat; r++) for (let i = 0; i < data.length; i++) out.push(data[i]);
      return ++calls % fullEvery !== 0;
    },
  };
}

test("URF on XS decodes the same lines as PWG for the same pixels, in 7-byte chunks with a full sink", (t) => {
  const pages = [testPage(90, 30, "srgb_8", 1), testPage(70, 25, "sgray_8", 2)];
  const fromPwg: number[] = [], fromUrf: number[] = [];
  decodeAll(new PwgDecoder(collector(fromPwg, 1_000_000), LIMITS), encodeDocument(pages), 4096);
  const urf = new UrfDecoder(collector(fromUrf, 3), LIMITS);
  decodeAll(urf, encodeUrfDocument(pages), 7);
  t.is(urf.pages, 2);
  t.is(fromUrf.length, 90 * 3 * 30 + 70 * 25);
  let same = fromUrf.length === fromPwg.length;
  for (let i = 0; same && i < fromUrf.length; i++) same = fromUrf[i] === fromPwg[i];
  t.true(same, "the URF and PWG decodes differ");
});

test("mutated URF on XS ends in a RasterError or whole pages", (t) => {
  const random = new SeededRandom(99);
  const good = encodeUrfDocument([testPage(40, 12, "srgb_8", 3)]);
  let errors = 0;
  for (let round = 0; round < 300; round++) {
    const doc = Uint8Array.from(good);
    for (let k = 0; k < 1 + random.below(5); k++) doc[random.below(Math.min(doc.length, 90))] = random.below(256);
    try {
      decodeAll(new UrfDecoder({ beginPage() {}, endPage() {}, line() { return true; } }, LIMITS), doc, 1 + random.below(50));
    } catch (error) {
      if (!(error instanceof RasterError)) throw new Error(`round ${round}: ${String(error)}`);
      errors++;
    }
  }
  t.true(errors > 50, `${errors} errors`);
});

export { runAll } from "./harness.js";
