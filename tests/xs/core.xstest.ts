import test from "./harness.js";
import { base64Decode, base64Encode } from "../../modules/crypto/base64.js";
import { Sha1, sha1 } from "../../modules/crypto/sha1.js";
import { utf8Decode, utf8Encode } from "../../modules/text/utf8.js";

// The portable core's own checks, run inside XS (xsnap) so that anything
// Node-only that slipped into modules/ fails here before it reaches the board.
// Only modules/ is imported: no Node APIs, no TextEncoder.

const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => (b < 16 ? "0" : "") + b.toString(16)).join("");

test("this really is XS: no Node or browser globals", (t) => {
  const g = globalThis as Record<string, unknown>;
  // (xsnap adds a TextEncoder that device builds lack; tsconfig.core.json rejects it at compile time.)
  for (const name of ["Buffer", "process", "require", "setTimeout", "URL", "window", "console"]) t.is(typeof g[name], "undefined", `${name} exists`);
});

test("SHA-1 on XS matches the FIPS 180-4 vectors", (t) => {
  t.is(hex(sha1(ascii("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d");
  t.is(hex(sha1(ascii(""))), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  const hash = new Sha1();
  const piece = new Uint8Array(1000).fill(0x61);
  for (let i = 0; i < 1000; i++) hash.update(piece);
  t.is(hex(hash.digest()), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
});

test("base64 and UTF-8 on XS", (t) => {
  t.is(base64Encode(ascii("foobar")), "Zm9vYmFy");
  t.is(hex(base64Decode("Zm9vYg==")!), hex(ascii("foob")));
  t.is(base64Decode("Zh=="), undefined);
  t.is(utf8Decode(utf8Encode("Drucker Büro ✓ 🖨")), "Drucker Büro ✓ 🖨");
});

// ---- the rest of the core, with inline fakes (nothing from Node) ----
import { TokenEngine } from "../../modules/privet/token.js";
import { HeadReader } from "../../modules/http/head.js";
import { DnsFormatError, TYPE_PTR, TYPE_SRV, TYPE_TXT, decodeMessage, encodeMessage } from "../../modules/dns/message.js";
import { PwgDecoder, RasterError } from "../../modules/pwg/decoder.js";
import { SafeStorage } from "../../modules/storage/safe-storage.js";
import { ThermalEngine } from "../../modules/escpos/thermal-engine.js";
import type { Storage } from "../../modules/hal/storage.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { SeededRandom } from "../helpers/seeded-random.js";

// The Node suite's fakes are plain TypeScript, so they run on XS as well.
const seeded = (seed: number) => new SeededRandom(seed);

test("X-Privet-Token on XS: valid, expired, future, malformed", (t) => {
  const clock = new FakeClock();
  clock.now = 1_000_000;
  const tokens = new TokenEngine(clock, seeded(1));
  const token = tokens.issue();
  t.is(tokens.verify(token), "valid");
  t.is(tokens.verify(tokens.tokenFor(5000)), "future");
  clock.advance(25 * 3600 * 1000);
  t.is(tokens.verify(token), "expired");
  t.is(tokens.verify("not a token"), "malformed");
  t.is(new TokenEngine(clock, seeded(2)).verify(tokens.issue()), "wrong-digest");
});

test("HTTP head parsing on XS, byte by byte", (t) => {
  const reader = new HeadReader(1024);
  const request = ascii("POST /privet/printer/submitdoc?job_id=7&job_name=A%20B HTTP/1.1\r\nHost: p\r\nContent-Length: 12\r\n\r\n");
  let used = 0;
  for (let i = 0; i < request.length && !reader.complete; i++) used += reader.feed(request.subarray(i, i + 1), 0);
  t.true(reader.complete);
  t.is(used, request.length);
  const head = reader.parse(32);
  t.true(!("status" in head));
  if (!("status" in head)) {
    t.is(head.path, "/privet/printer/submitdoc");
    t.deepEqual(head.query, { job_id: "7", job_name: "A B" });
    t.is(head.headers["content-length"], "12");
  }
  const small = new HeadReader(16);
  small.feed(ascii("GET /a-very-long-path HTTP/1.1\r\n"), 0);
  t.is(small.error!.status, 414);
});

test("DNS messages on XS: round trip with compression, loops refused", (t) => {
  const instance = ["Lobby v2.1", "_privet", "_tcp", "local"];
  const message = {
    id: 7, flags: 0x8400, questions: [],
    answers: [
      { name: ["_privet", "_tcp", "local"], type: TYPE_PTR, cacheFlush: false, ttl: 4500, data: { kind: "ptr" as const, target: instance } },
      { name: instance, type: TYPE_SRV, cacheFlush: true, ttl: 120, data: { kind: "srv" as const, priority: 0, weight: 0, port: 8631, target: ["host", "local"] } },
      { name: instance, type: TYPE_TXT, cacheFlush: true, ttl: 4500, data: { kind: "txt" as const, strings: [ascii("txtvers=1"), ascii("id=")] } },
    ],
    authorities: [], additionals: [],
  };
  t.deepEqual(decodeMessage(encodeMessage(message)), message);
  let caught: unknown;
  try { decodeMessage(Uint8Array.of(0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1)); } catch (e) { caught = e; }
  t.true(caught instanceof DnsFormatError);
});

// A PWG page by hand: header, then for each line a repeat byte and literal runs.
function pwgPage(width: number, height: number, pixel: (x: number, y: number) => number): { doc: Uint8Array; pixels: Uint8Array } {
  const header = new Uint8Array(1796);
  const put = (o: number, v: number) => { header[o] = v >>> 24; header[o + 1] = (v >>> 16) & 255; header[o + 2] = (v >>> 8) & 255; header[o + 3] = v & 255; };
  put(276, 300); put(280, 300); put(372, width); put(376, height); put(384, 8); put(388, 8); put(392, width); put(400, 18); put(420, 1);
  const pixels = new Uint8Array(width * height);
  const body: number[] = [];
  for (let y = 0; y < height; y++) {
    body.push(0);
    for (let x = 0; x < width; x += 128) {
      const n = Math.min(128, width - x);
      body.push(257 - n);
      for (let k = 0; k < n; k++) { const v = pixel(x + k, y); pixels[y * width + x + k] = v; body.push(v); }
    }
  }
  const doc = new Uint8Array(4 + 1796 + body.length);
  doc.set(ascii("RaS2"), 0);
  doc.set(header, 4);
  doc.set(body, 1800);
  return { doc, pixels };
}

test("the PWG decoder on XS: exact pixels in small chunks, errors as RasterError", (t) => {
  const { doc, pixels } = pwgPage(300, 20, (x, y) => (x * 7 + y * 13) & 255);
  const out = new Uint8Array(300 * 20);
  let row = 0;
  const decoder = new PwgDecoder({ beginPage() {}, line(data, repeat) { for (let r = 0; r < repeat; r++) out.set(data, 300 * row++); return true; }, endPage() {} }, { maxWidth: 1000, maxHeight: 1000 });
  for (let o = 0; o < doc.length; o += 97) decoder.write(doc.subarray(o, o + 97));
  decoder.end();
  t.deepEqual(out, pixels);
  const bad = new PwgDecoder({ beginPage() {}, line() { return true; }, endPage() {} }, { maxWidth: 100, maxHeight: 1000 });
  let error: unknown;
  try { bad.write(doc); } catch (e) { error = e; }
  t.true(error instanceof RasterError);
});

// Repeat runs of 1 to 128 units after a literal lead of 0 to 3 units (every
// word offset: RGB runs copy whole 32-bit words through a Uint32Array view,
// long gray runs are one fill), one line per run, then literals to the end.
test("the PWG decoder on XS: repeat runs of every length at every word offset, gray and RGB", (t) => {
  for (const [space, unit] of [[18, 1], [19, 3]]) {
    const units = 3 + 128 + 1;
    const header = new Uint8Array(1796);
    const put = (o: number, v: number) => { header[o] = v >>> 24; header[o + 1] = (v >>> 16) & 255; header[o + 2] = (v >>> 8) & 255; header[o + 3] = v & 255; };
    put(276, 300); put(280, 300); put(372, units); put(376, 4 * 128); put(384, 8); put(388, 8 * unit); put(392, units * unit); put(400, space); put(420, unit);
    let value = 7;
    const next = () => (value = (value * 73 + 41) % 251);
    const literal = (n: number) => (n === 1 ? 0 : 257 - n);
    const body: number[] = [];
    const expected: number[] = [];
    for (let lead = 0; lead < 4; lead++) {
      for (let count = 1; count <= 128; count++) {
        body.push(0);
        if (lead > 0) body.push(literal(lead));
        for (let k = 0; k < lead * unit; k++) { body.push(next()); expected.push(value); }
        const pattern: number[] = [];
        for (let k = 0; k < unit; k++) pattern.push(next());
        body.push(count - 1, ...pattern);
        for (let r = 0; r < count; r++) expected.push(...pattern);
        // The rest of the line as literals of at most 128 units.
        for (let rest = units - lead - count; rest > 0; rest -= 128) {
          body.push(literal(Math.min(rest, 128)));
          for (let k = 0; k < Math.min(rest, 128) * unit; k++) { body.push(next()); expected.push(value); }
        }
      }
    }
    const doc = new Uint8Array(4 + 1796 + body.length);
    doc.set(ascii("RaS2"), 0);
    doc.set(header, 4);
    doc.set(body, 1800);
    for (const size of [doc.length, 97, 1]) {
      const out = new Uint8Array(expected.length);
      let at = 0;
      const decoder = new PwgDecoder({ beginPage() {}, line(data, repeat) { for (let r = 0; r < repeat; r++, at += data.length) out.set(data, at); return true; }, endPage() {} }, { maxWidth: 1000, maxHeight: 1000 });
      for (let o = 0; o < doc.length; o += size) decoder.write(doc.subarray(o, o + size));
      decoder.end();
      t.deepEqual(out, Uint8Array.from(expected), `color space ${space}, chunks of ${size}`);
    }
  }
});

test("the two-slot journal on XS survives a torn write", (t) => {
  const values = new Map<string, string>();
  let tear = false;
  const flash: Storage = {
    read: (k) => values.get(k),
    write: (k, v) => { values.set(k, tear ? v.slice(0, 5) : v); if (tear) throw new Error("power lost"); },
    remove: (k) => { values.delete(k); },
  };
  const safe = new SafeStorage(flash);
  safe.write("serial", "old-value");
  tear = true;
  t.throws(() => safe.write("serial", "new-value"));
  t.is(safe.read("serial"), "old-value");
  tear = false;
  safe.write("serial", "new-value");
  t.is(safe.read("serial"), "new-value");
});

test("the thermal driver on XS: ESC/POS bands and feeds from gray lines", (t) => {
  const clock = new FakeClock();
  const sent: number[] = [];
  const engine = new ThermalEngine({ setEvents() {}, write(b) { for (const x of b) sent.push(x); return true; }, flush(done) { done(); } }, clock, () => {}, { dither: false, statusPollMs: 1e9, pageGapDots: 10 });
  let finished = -1;
  engine.setEvents({ ready() {}, statusChanged() {}, jobFinished(pages) { finished = pages; } });
  engine.beginJob("x");
  engine.beginPage({ width: 384, height: 3, xDpi: 203, yDpi: 203, colorSpace: "sgray_8", bytesPerLine: 384 });
  const white = new Uint8Array(384).fill(255), dark = new Uint8Array(384).fill(0);
  engine.line(white, 2);
  engine.line(dark, 1);
  engine.endPage();
  engine.endJob(false);
  clock.advance(1);
  t.is(finished, 1);
  const bytes = Uint8Array.from(sent);
  // ESC J 2 for the white lines, then GS v 0 with one 48-byte row of 0xFF.
  const feed = bytes.indexOf(0x4a);
  t.is(bytes[feed - 1], 0x1b);
  t.is(bytes[feed + 1], 2);
  const raster = bytes.indexOf(0x76);
  t.deepEqual(Array.from(bytes.subarray(raster - 1, raster + 7)), [0x1d, 0x76, 0x30, 0, 48, 0, 1, 0]);
  t.true(bytes.subarray(raster + 7, raster + 7 + 48).every((b) => b === 0xff));
});

export { runAll } from "./harness.js";
