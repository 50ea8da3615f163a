import test from "ava";
import { ThermalEngine, type ThermalConfig } from "../modules/escpos/thermal-engine.js";
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
  engine.line = (d, r) => { const more = line(d, r); if (!more) refusals++; return more; };
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

// Floyd–Steinberg as the driver first wrote it (every share added into the
// error arrays): the driver's faster loop must give the same dots.
function referenceDither(lines: Uint8Array[], width: number, headDots: number): Uint8Array[] {
  const offset = Math.max(0, Math.floor((headDots - width) / 2));
  let here = new Int16Array(headDots + 2), below = new Int16Array(headDots + 2);
  return lines.map((data) => {
    const row = new Uint8Array(headDots / 8);
    below.fill(0);
    for (let x = 0; x < width; x++) {
      const value = data[x] + (here[x + 1] >> 4);
      const black = value < 128;
      if (black) row[(x + offset) >> 3] |= 0x80 >> ((x + offset) & 7);
      const error = value - (black ? 0 : 255);
      here[x + 2] += error * 7;
      below[x] += error * 3;
      below[x + 1] += error * 5;
      below[x + 2] += error;
    }
    [here, below] = [below, here];
    return row;
  });
}

test("dithering gives exactly the dots of textbook Floyd–Steinberg, band by band", (t) => {
  const random = new SeededRandom(58);
  const sent: number[] = [];
  const serial = { setEvents() {}, write(bytes: Uint8Array) { sent.push(...bytes); return true; }, flush(done: () => void) { done(); } };
  const clock = { monotonic: () => 0, wall: () => 0, setTimer: () => 0, defer() {}, clearTimer() {} };
  for (const width of [384, 301, 8]) {
    const engine = new ThermalEngine(serial, clock, () => {}, { headDots: 384, bandRows: 24, dither: true });
    const height = 48;
    // Ramps, noise and near-black and near-white: every error size, no white line.
    const lines = Array.from({ length: height }, (_, y) => Uint8Array.from({ length: width }, (_, x) => (y % 3 === 0 ? (x * 255) / width : y % 3 === 1 ? random.below(256) : x % 2 ? 3 : 252) & 0xff));
    engine.beginJob("dither");
    engine.beginPage({ width, height, xDpi: 203, yDpi: 203, colorSpace: "sgray_8", bytesPerLine: width });
    sent.length = 0;
    for (const line of lines) engine.line(line, 1);
    const rows = referenceDither(lines, width, 384);
    const band = (b: number) => [0x1d, 0x76, 0x30, 0, 48, 0, 24, 0, ...rows.slice(b * 24, b * 24 + 24).flatMap((r) => Array.from(r))];
    t.deepEqual(sent, [...band(0), ...band(1)], `width ${width}`);
    engine.close();
  }
});
