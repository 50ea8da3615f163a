import test from "ava";
import * as fs from "node:fs";
import { JpegDecoder, JpegError } from "../modules/jpeg/decoder.js";
import { RasterError, type RasterSink } from "../modules/pwg/decoder.js";
import { jpegDocument } from "../modules/print/image-document.js";
import { makeCorpus, withOrientation } from "./helpers/jpeg.js";
import { which } from "./helpers/peers.js";
import { SeededRandom } from "./helpers/seeded-random.js";

// Hostile input: seeded mutations and truncations of valid JPEGs. Each
// must end in a JpegError or a decoded image: never another exception,
// never more rows than the image has, never a loop that does not end (each
// decode is bounded by a count of sink calls, and ava's timeout bounds all).

const PDF = "/usr/share/cups/data/default-testpage.pdf";
const missing = ["cjpeg", "gs"].filter((c) => !which(c));
const peerTest = missing.length || !fs.existsSync(PDF) ? test.skip : test;
const title = (t: string) => (missing.length ? `${t} (skipped: ${missing.join(", ")} not installed)` : t);

let dir = "";
let seeds: Uint8Array[] = [];

test.before(() => {
  if (missing.length || !fs.existsSync(PDF)) return;
  dir = fs.mkdtempSync("/tmp/jpeg-hostile-");
  // Small images (68 x 88) so thousands of decodes take seconds.
  seeds = makeCorpus(dir, PDF, 8).map((c) => new Uint8Array(fs.readFileSync(c.file)));
  // And with EXIF orientations, so the adapter's turning path meets broken input too.
  seeds.push(...seeds.slice(0, 4).map((s, i) => withOrientation(s, [3, 6, 7, 8][i], i % 2 === 0)));
});

test.after.always(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function mutate(random: SeededRandom, seed: Uint8Array): Uint8Array {
  const kind = random.below(4);
  if (kind === 0) return seed.subarray(0, random.below(seed.length));
  const b = Uint8Array.from(seed);
  const n = 1 + random.below(kind === 3 ? 40 : 6);
  for (let i = 0; i < n; i++) {
    // Half the hits in the headers (first 700 bytes: tables, frame, scan), where they do most harm.
    const at = random.below(2) === 0 ? random.below(Math.min(700, b.length)) : random.below(b.length);
    b[at] = kind === 2 ? (random.below(2) ? 0xff : b[at] ^ (1 << random.below(8))) : random.below(256);
  }
  return b;
}

interface Outcome { ok: number; errors: number; messages: Set<string> }

// Buffers at most: carry 8192 + segment 1100 + 3 planes of (64 / 2 + 8) x 16 + a row.

function run(bytes: Uint8Array, random: SeededRandom, outcome: Outcome, t: { fail(m: string): void }): void {
  let height = 0, rows = 0, calls = 0;
  const decoder = new JpegDecoder({
    start(info) {
      height = Math.ceil(info.height / 2);
      const w = Math.ceil(info.width / 2);
      return { scale: 2, left: 0, right: Math.min(w, 64), gray: random.below(2) === 0 };
    },
    row(_data, y) {
      if (y !== rows) t.fail(`row ${y} came after ${rows}`);
      rows++;
      return random.below(5) !== 0;
    },
  }, { maxWidth: 4096, maxHeight: 4096 });
  try {
    for (let i = 0; i < bytes.length;) {
      const n = 1 + random.below(200);
      let more = decoder.write(bytes.subarray(i, i + n));
      // Bounded memory: whatever the header declares, buffers follow the window asked for (64 columns).
      if (decoder.bufferBytes > 12_000) t.fail(`${decoder.bufferBytes} bytes of buffers`);
      while (!more) {
        if (++calls > 1_000_000) throw new Error("the decoder keeps asking to be resumed");
        more = decoder.resume();
      }
      i += n;
    }
    decoder.end();
    if (rows !== height) t.fail(`decoded ${rows} rows of ${height}`);
    outcome.ok++;
  } catch (error) {
    if (!(error instanceof JpegError)) throw error;
    outcome.errors++;
    outcome.messages.add(error.message.replace(/[0-9]+/g, "N"));
  }
}

peerTest(title("4000 seeded mutations and truncations of valid JPEGs end in a JpegError or an image"), (t) => {
  const random = new SeededRandom(20261129);
  const outcome: Outcome = { ok: 0, errors: 0, messages: new Set() };
  for (let i = 0; i < 4000; i++) {
    const seed = seeds[i % seeds.length];
    run(mutate(random, seed), random, outcome, t);
  }
  t.log(`${outcome.ok} decoded, ${outcome.errors} refused; ${outcome.messages.size} distinct messages`);
  t.true(outcome.ok > 100, "some mutations (in entropy data) still decode");
  t.true(outcome.errors > 1000, "most are refused");
  t.true(outcome.messages.size > 15, "with messages that say what is wrong");
});

peerTest(title("random bytes after SOI and pure noise end in a JpegError"), (t) => {
  const random = new SeededRandom(99);
  const outcome: Outcome = { ok: 0, errors: 0, messages: new Set() };
  for (let i = 0; i < 500; i++) {
    const noise = random.bytes(1 + random.below(3000));
    if (i % 2 === 0) noise.set([0xff, 0xd8], 0);
    run(noise, random, outcome, t);
  }
  t.is(outcome.ok, 0);
  t.is(outcome.errors, 500);
});

class CountingSink implements RasterSink {
  lines = 0;
  height = 0;
  pages = 0;
  beginPage(header: { height: number }): void { this.height = header.height; this.lines = 0; }
  line(_d: Uint8Array, repeat: number): boolean { this.lines += repeat; return this.lines % 7 !== 0; }
  endPage(): void { this.pages++; }
}

peerTest(title("through the page adapter, mutated JPEGs end in a RasterError or a whole page"), (t) => {
  const random = new SeededRandom(5);
  let ok = 0, refused = 0;
  for (let i = 0; i < 1500; i++) {
    const bytes = mutate(random, seeds[i % seeds.length]);
    const sink = new CountingSink();
    const doc = jpegDocument({ scaling: (["fit", "fill", "none", "auto"] as const)[i % 4], widthDots: 96, heightDots: 140, xDpi: 72, yDpi: 72, colorSpace: (["sgray_8", "srgb_8", "black_1"] as const)[i % 3] })(sink, { maxWidth: 384, maxHeight: 4000 });
    try {
      for (let at = 0; at < bytes.length; at += 97) {
        let more = doc.write(bytes.subarray(at, at + 97));
        for (let k = 0; !more; k++) { if (k > 100_000) throw new Error("never resumed"); more = doc.resume(); }
      }
      doc.end();
      t.is(sink.pages, 1);
      t.is(sink.lines, sink.height);
      ok++;
    } catch (error) {
      if (!(error instanceof RasterError)) throw error;
      refused++;
    }
  }
  t.true(ok > 50 && refused > 500, `${ok} pages, ${refused} refused`);
});
