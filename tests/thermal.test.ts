import test from "ava";
import { ThermalEngine, bayerThresholds, ditherRow, type DitherRow, type ThermalConfig } from "../modules/escpos/thermal-engine.js";
import type { EnginePage } from "../modules/hal/engine.js";
import { PwgDecoder } from "../modules/pwg/decoder.js";
import { Printer } from "../modules/printer/printer.js";
import { MemoryStorage } from "../hosts/node/hal.js";
import { EscPosDevice, VirtualSerial } from "../hosts/node/escpos-device.js";
import { FakeClock } from "./helpers/fake-clock.js";
import { FakeTcp, fakeResolver, parseResponses } from "./helpers/fake-tcp.js";
import { bytesPerLine, encodeDocument, type Page } from "./helpers/pwg.js";
import { SeededRandom } from "./helpers/seeded-random.js";

async function rig(config: Partial<ThermalConfig> = {}, serial = { baud: 10_000_000, bufferBytes: 1 << 20 }) {
  const clock = new FakeClock();
  const device = new EscPosDevice(config.headDots ?? 384);
  const link = new VirtualSerial(device, clock, serial);
  const engine = new ThermalEngine(link, clock, () => {}, config);
  const tcp = new FakeTcp();
  const printer = new Printer({ clock, random: new SeededRandom(4), storage: new MemoryStorage(), tcp, resolver: fakeResolver(), log: () => {}, engine }, { port: 8631 });
  await printer.start();
  const token = printer.tokens.issue();
  const request = (text: string | Uint8Array) => {
    const c = tcp.accept();
    c.send(typeof text === "string" ? text : text);
    return c;
  };
  const submit = (doc: Uint8Array) => request(Buffer.concat([Buffer.from(`POST /privet/printer/submitdoc HTTP/1.1\r\nX-Privet-Token: ${token}\r\nContent-Type: image/pwg-raster\r\nContent-Length: ${doc.length}\r\n\r\n`), doc]));
  const get = (path: string) => JSON.parse(parseResponses(request(`GET ${path} HTTP/1.1\r\nConnection: close\r\nX-Privet-Token: ${path === "/privet/info" ? "\"\"" : token}\r\n\r\n`).output())[0].body);
  const runUntil = (done: () => boolean, limitMs = 600_000) => {
    for (let t = 0; t < limitMs && !done(); t += 10) clock.advance(10);
  };
  return { clock, device, engine, printer, submit, get, runUntil };
}

// The dots a page should leave on the roll (1 = black), centred on the head.
function dotsOf(page: Page, headDots: number, threshold = 128): Uint8Array[] {
  const rows: Uint8Array[] = [];
  const bpl = bytesPerLine(page.width, page.space);
  const offset = Math.floor((headDots - page.width) / 2);
  for (let y = 0; y < page.height; y++) {
    const row = new Uint8Array(headDots / 8);
    for (let x = 0; x < page.width; x++) {
      const black = page.space === "black_1" ? (page.pixels[y * bpl + (x >> 3)] & (0x80 >> (x & 7))) !== 0 : page.pixels[y * bpl + x] < threshold;
      if (black) row[(x + offset) >> 3] |= 0x80 >> ((x + offset) & 7);
    }
    rows.push(row);
  }
  return rows;
}

function page(width: number, height: number, space: "black_1" | "sgray_8", fill: (x: number, y: number) => boolean | number, dpi = 203): Page {
  const bpl = bytesPerLine(width, space);
  const pixels = new Uint8Array(bpl * height).fill(space === "black_1" ? 0 : 255);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const v = fill(x, y);
    if (space === "black_1") { if (v) pixels[y * bpl + (x >> 3)] |= 0x80 >> (x & 7); }
    else pixels[y * bpl + x] = typeof v === "number" ? v : v ? 0 : 255;
  }
  return { width, height, space, dpi, pixels };
}

const jobDone = (get: (p: string) => any, id: string) => () => get(`/privet/printer/jobstate?job_id=${id}`).state === "done";

test("the CDD offers what the head really is: 203 dpi, gray and 1-bit, a 48 mm continuous roll", async (t) => {
  const { get } = await rig();
  const cdd = get("/privet/capabilities");
  t.deepEqual(cdd.printer.dpi.option, [{ horizontal_dpi: 203, vertical_dpi: 203, is_default: true }]);
  t.deepEqual(cdd.printer.pwg_raster_config.document_type_supported, ["SGRAY_8", "BLACK_1"]);
  t.like(cdd.printer.media_size.option[0], { name: "CUSTOM", width_microns: 48_047, is_continuous_feed: true });
  t.deepEqual(cdd.printer.color.option, [{ type: "STANDARD_MONOCHROME", is_default: true }]);
});

test("a 1-bit page comes out dot for dot, white bands as paper feeds, not raster", async (t) => {
  const { device, submit, get, runUntil } = await rig({ pageGapDots: 40 });
  const p = page(384, 600, "black_1", (x, y) => (y < 100 || y >= 500) && ((x >> 3) + (y >> 3)) % 2 === 0);
  const c = submit(encodeDocument([p]));
  runUntil(() => c.output().includes("job_id"));
  const job = JSON.parse(parseResponses(c.output())[0].body).job_id;
  runUntil(jobDone(get, job));
  t.deepEqual(device.errors, []);
  const expected = dotsOf(p, 384);
  t.is(device.rows.length, 600 + 40);
  t.deepEqual(device.rows.slice(0, 600), expected);
  // 400 white lines in the middle: two ESC J feeds (255 + 145), plus the page gap.
  t.is(device.feedCommands, 3);
  t.true(device.rasterCommands <= Math.ceil(200 / 24) + 2, `${device.rasterCommands} raster bands`);
});

test("gray is thresholded exactly without dithering, and a narrower page is centred", async (t) => {
  const { device, submit, get, runUntil } = await rig({ dither: false, pageGapDots: 0 });
  const random = new SeededRandom(8);
  const p = page(200, 50, "sgray_8", () => random.below(256));
  const c = submit(encodeDocument([p], false));
  runUntil(() => c.output().includes("job_id"));
  runUntil(jobDone(get, JSON.parse(parseResponses(c.output())[0].body).job_id));
  t.deepEqual(device.rows.slice(0, 50), dotsOf(p, 384));
});

test("dithered gray keeps its darkness: mid-gray is half the dots, a ramp keeps its mean", async (t) => {
  const { device, submit, get, runUntil } = await rig({ pageGapDots: 0 });
  const mid = page(384, 100, "sgray_8", () => 128);
  const ramp = page(384, 100, "sgray_8", (x) => Math.round((x / 383) * 255));
  const c = submit(encodeDocument([mid, ramp]));
  runUntil(() => c.output().includes("job_id"));
  runUntil(jobDone(get, JSON.parse(parseResponses(c.output())[0].body).job_id));
  const { pixels, width } = device.gray();
  const blackShare = (from: number, to: number, x0 = 0, x1 = width) => {
    let black = 0;
    for (let y = from; y < to; y++) for (let x = x0; x < x1; x++) if (pixels[y * width + x] === 0) black++;
    return black / ((to - from) * (x1 - x0));
  };
  t.true(Math.abs(blackShare(0, 100) - 0.5) < 0.02, `mid-gray: ${blackShare(0, 100)}`);
  t.true(Math.abs(blackShare(100, 200) - 0.5) < 0.02, `ramp: ${blackShare(100, 200)}`);
  t.true(blackShare(100, 200, 0, 96) > 0.8 && blackShare(100, 200, 288, 384) < 0.2, "dark on the left, light on the right");
});

test("pages the head cannot print are refused with a reason", async (t) => {
  const { submit, runUntil, get } = await rig();
  const wide = submit(encodeDocument([page(576, 10, "black_1", () => true)]));
  runUntil(() => wide.output().includes("error"));
  t.regex(JSON.parse(parseResponses(wide.output())[0].body).description, /576 pixels wide; this printer takes at most 384/);
  // The aborted job lets go of the printer once its last bytes are out.
  runUntil(() => get("/privet/info").device_state === "idle");
  const fine = submit(encodeDocument([page(384, 10, "black_1", () => true, 300)]));
  runUntil(() => fine.output().includes("error"));
  t.regex(JSON.parse(parseResponses(fine.output())[0].body).description, /300 x 300 dpi; this printer prints at 203 x 203 dpi/);
});

test("a slow UART holds the decoder back, and every dot still arrives", async (t) => {
  const { device, submit, get, runUntil, engine } = await rig({ pageGapDots: 0 }, { baud: 115_200, bufferBytes: 4096 });
  const random = new SeededRandom(3);
  const p = page(384, 400, "black_1", () => random.below(3) === 0);
  let refusals = 0;
  const line = engine.line.bind(engine);
  engine.line = (d, r, runs) => { const more = line(d, r, runs); if (!more) refusals++; return more; };
  const c = submit(encodeDocument([p]));
  runUntil(() => c.output().includes("job_id"));
  runUntil(jobDone(get, JSON.parse(parseResponses(c.output())[0].body).job_id));
  t.true(refusals > 3, `${refusals} waits for the UART`);
  t.deepEqual(device.rows, dotsOf(p, 384));
});

test("paper out stops the job and says so; new paper lets it finish", async (t) => {
  const { device, submit, get, runUntil } = await rig({ pageGapDots: 0 }, { baud: 115_200, bufferBytes: 2048 });
  const p = page(384, 1500, "black_1", (x, y) => (x + y) % 7 === 0);
  const c = submit(encodeDocument([p]));
  runUntil(() => device.rows.length > 100);
  device.paperOut = true;
  runUntil(() => get("/privet/info").device_state === "stopped", 5000);
  const info = get("/privet/info");
  t.is(info.device_state, "stopped");
  t.deepEqual(info.semantic_state.printer.input_tray_state, { item: [{ vendor_id: "tray-1", state: "EMPTY" }] });
  const jobs = get("/privet/printer/jobstate?job_id=x");
  t.is(jobs.error, "invalid_print_job");
  runUntil(() => false, 3000);
  t.false(c.output().includes("job_id"), "the document waits while there is no paper");
  device.paperOut = false;
  runUntil(() => c.output().includes("job_id"), 60_000);
  const job = JSON.parse(parseResponses(c.output())[0].body).job_id;
  runUntil(jobDone(get, job), 60_000);
  t.is(get(`/privet/printer/jobstate?job_id=${job}`).state, "done");
  t.is(get("/privet/info").device_state, "idle");
});

test("an open cover is a door-open fault with its own words", async (t) => {
  const { device, get, runUntil } = await rig();
  device.coverOpen = true;
  runUntil(() => get("/privet/info").device_state === "stopped", 5000);
  t.like(get("/privet/info").semantic_state.printer.vendor_state.item[0], { state: "ERROR", description: "The printer cover is open", vendor_id: "door-open" });
  device.coverOpen = false;
  runUntil(() => get("/privet/info").device_state === "idle", 5000);
  t.is(get("/privet/info").device_state, "idle");
});

// The 8 x 8 Bayer matrix as printed in the textbooks, written out rather than
// computed, so the driver's construction of it is checked.
const BAYER = [
  [0, 32, 8, 40, 2, 34, 10, 42], [48, 16, 56, 24, 50, 18, 58, 26],
  [12, 44, 4, 36, 14, 46, 6, 38], [60, 28, 52, 20, 62, 30, 54, 22],
  [3, 35, 11, 43, 1, 33, 9, 41], [51, 19, 59, 27, 49, 17, 57, 25],
  [15, 47, 7, 39, 13, 45, 5, 37], [63, 31, 55, 23, 61, 29, 53, 21],
];

// Ordered dithering by its definition, pixel by pixel: value v is black at head
// dot x of paper row y when v < 4 * BAYER[y % 8][x % 8] + 2.
function referenceDither(lines: Uint8Array[], width: number, headDots: number): Uint8Array[] {
  const offset = Math.max(0, Math.floor((headDots - width) / 2));
  return lines.map((data, y) => {
    const row = new Uint8Array(headDots / 8);
    for (let x = 0; x < width; x++) {
      const d = x + offset;
      if (data[x] < 4 * BAYER[y % 8][d % 8] + 2) row[d >> 3] |= 0x80 >> (d & 7);
    }
    return row;
  });
}

// The bytes a ThermalEngine sends for one page, fed through the PWG decoder
// in chunks of the given size (so runs are split across chunks), or, with
// chunk 0, line by line without the decoder's runs.
function printed(doc: Uint8Array, chunk: number, lines: Uint8Array[], page: Omit<EnginePage, "height">): number[] {
  const sent: number[] = [];
  const serial = { setEvents() {}, write(bytes: Uint8Array) { sent.push(...bytes); return true; }, flush(done: () => void) { done(); } };
  const clock = { monotonic: () => 0, wall: () => 0, setTimer: () => 0, defer() {}, clearTimer() {} };
  const engine = new ThermalEngine(serial, clock, () => {}, { headDots: 384, bandRows: 24, dither: true, pageGapDots: 0 });
  engine.beginJob("dither");
  sent.length = 0;
  if (chunk === 0) {
    engine.beginPage({ ...page, height: lines.length });
    for (const line of lines) engine.line(line, 1);
  } else {
    const decoder = new PwgDecoder({ beginPage: (h, f) => engine.beginPage({ ...page, height: h.height, colorSpace: f.colorSpace }), line: (d, r, runs) => engine.line(d, r, runs), endPage: () => {} }, { maxWidth: 384, maxHeight: 1000 });
    for (let at = 0; at < doc.length; at += chunk) decoder.write(doc.subarray(at, at + chunk));
    decoder.end();
  }
  engine.endPage();
  engine.close();
  return sent;
}

// What the printer should receive: bands of 24 rows (GS v 0), then the zero-dot page gap.
function bands(rows: Uint8Array[]): number[] {
  const out: number[] = [];
  for (let b = 0; b < rows.length; b += 24) {
    const band = rows.slice(b, b + 24);
    out.push(0x1d, 0x76, 0x30, 0, 48, 0, band.length, 0, ...band.flatMap((r) => Array.from(r)));
  }
  return [...out, 0x1b, 0x4a, 0];
}

test("gray is dithered to the 8 x 8 ordered pattern, the same dots by run from the decoder as pixel by pixel", (t) => {
  const random = new SeededRandom(58);
  for (const width of [384, 301, 8]) {
    // Runs of every length and value (ramps in steps, long flats, single
    // pixels), literal noise, and black and white ends: no white line.
    const height = 50;
    const lines = Array.from({ length: height }, (_, y) => Uint8Array.from({ length: width }, (_, x) =>
      y % 4 === 0 ? ((x >> 3) * 37 + y) & 0xff : y % 4 === 1 ? random.below(256) : y % 4 === 2 ? (x < width / 3 ? 0 : x < (2 * width) / 3 ? 128 : 255) : x % 2 ? 3 : 252));
    const doc = encodeDocument([{ width, height, space: "sgray_8", dpi: 203, pixels: Uint8Array.from(lines.flatMap((l) => Array.from(l))) }]);
    const expected = bands(referenceDither(lines, width, 384));
    const page = { width, xDpi: 203, yDpi: 203, colorSpace: "sgray_8" as const, bytesPerLine: width };
    t.deepEqual(printed(doc, 0, lines, page), expected, `width ${width}, no runs`);
    for (const chunk of [1, 7, 1460]) t.deepEqual(printed(doc, chunk, lines, page), expected, `width ${width}, chunks of ${chunk}`);
  }
});

// ditherRow is the reference the board's C twin (hosts/moddable/dither.c)
// must match; the Pico runner's --compare checks the two print the same roll.
test("ditherRow writes only its row, cleared first, and the engine dithers with the function it is given", (t) => {
  const thresholds = bayerThresholds();
  const band = new Uint8Array(3 * 48).fill(0xa5);
  const line = Uint8Array.from({ length: 301 }, (_, x) => (x * 7) & 0xff);
  ditherRow(band, 48, 48, line, 301, 41, thresholds, 11);
  t.deepEqual(Array.from(band.subarray(0, 48)), new Array(48).fill(0xa5));
  t.deepEqual(Array.from(band.subarray(96)), new Array(48).fill(0xa5));
  t.deepEqual(band.subarray(48, 96), referenceDither([...new Array(3).fill(new Uint8Array(301)), ...new Array(9).fill(line)], 301, 384)[11]);

  const calls: number[] = [];
  const counting: DitherRow = (b, at, rowBytes, data, width, offset, th, phase) => {
    calls.push(phase);
    ditherRow(b, at, rowBytes, data, width, offset, th, phase);
  };
  const sent: number[] = [];
  const serial = { setEvents() {}, write(bytes: Uint8Array) { sent.push(...bytes); return true; }, flush(done: () => void) { done(); } };
  const clock = { monotonic: () => 0, wall: () => 0, setTimer: () => 0, defer() {}, clearTimer() {} };
  const engine = new ThermalEngine(serial, clock, () => {}, { pageGapDots: 0 }, counting);
  engine.beginJob("given");
  sent.length = 0;
  engine.beginPage({ width: 384, height: 10, xDpi: 203, yDpi: 203, colorSpace: "sgray_8", bytesPerLine: 384 });
  engine.line(new Uint8Array(384).fill(128), 10);
  engine.endPage();
  engine.close();
  t.deepEqual(calls, [0, 1, 2, 3, 4, 5, 6, 7, 0, 1]);
  t.deepEqual(sent, bands(referenceDither(new Array(10).fill(new Uint8Array(384).fill(128)), 384, 384)));
});

test("a 1-bit page off the byte grid is shifted whole bytes at a time, and padding bits past its width never print", (t) => {
  const width = 301, height = 30, bpl = 38;
  const random = new SeededRandom(9);
  // Random bytes, including the 3 padding bits at the end of each line.
  const lines = Array.from({ length: height }, () => Uint8Array.from({ length: bpl }, () => random.below(256)));
  const doc = encodeDocument([{ width, height, space: "black_1", dpi: 203, pixels: Uint8Array.from(lines.flatMap((l) => Array.from(l))) }]);
  const offset = Math.floor((384 - width) / 2);
  const rows = lines.map((data) => {
    const row = new Uint8Array(48);
    for (let x = 0; x < width; x++) if (data[x >> 3] & (0x80 >> (x & 7))) row[(x + offset) >> 3] |= 0x80 >> ((x + offset) & 7);
    return row;
  });
  const page = { width, xDpi: 203, yDpi: 203, colorSpace: "black_1" as const, bytesPerLine: bpl };
  t.deepEqual(printed(doc, 0, lines, page), bands(rows));
  t.deepEqual(printed(doc, 5, lines, page), bands(rows));
});

test("paced to the printer's speed, a fast link never overruns a slow printer's buffer; unpaced, it does", async (t) => {
  // 115200 baud carries 240 rows of 48 bytes a second; this printer prints 120.
  const p = page(384, 600, "black_1", (x, y) => ((x >> 2) + y) % 3 !== 0);
  const print = async (linesPerSecond: number) => {
    const { device, submit, get, runUntil, clock } = await rig({ pageGapDots: 0, linesPerSecond, printerBufferBytes: 4096 }, { baud: 115_200, bufferBytes: 256 });
    device.limitSpeed({ bufferBytes: 4096, linesPerSecond: 120, now: () => clock.monotonic() });
    const c = submit(encodeDocument([p]));
    runUntil(() => c.output().includes("job_id"));
    const started = clock.monotonic();
    runUntil(jobDone(get, JSON.parse(parseResponses(c.output())[0].body).job_id));
    return { device, seconds: (clock.monotonic() - started) / 1000 };
  };
  const unpaced = await print(0);
  t.true(unpaced.device.overrunBytes > 0, "the test's printer really is slower than the link");
  const paced = await print(120);
  t.deepEqual(paced.device.errors, []);
  t.is(paced.device.overrunBytes, 0);
  t.deepEqual(paced.device.rows, dotsOf(p, 384));
  // Not slower than the printer needs: 600 rows at 120 a second, less what its buffer takes ahead.
  t.true(paced.seconds < 600 / 120 + 1, `${paced.seconds} s`);
});
