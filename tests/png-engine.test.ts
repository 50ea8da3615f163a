import test from "ava";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Printer } from "../modules/printer/printer.js";
import { nodeHal } from "../hosts/node/hal.js";
import { PngEngine } from "../hosts/node/png-engine.js";
import { get, rawRequest } from "./helpers/client.js";
import { readPng } from "./helpers/png.js";
import { bytesPerLine, encodeDocument, testPage, type Page } from "./helpers/pwg.js";

async function printWith(engine: PngEngine, pages: Page[]) {
  const printer = new Printer(nodeHal({ log: () => {}, engine }), { port: 0 });
  const port = await printer.start();
  const token = JSON.parse((await get(port, "/privet/info", { "X-Privet-Token": "\"\"" })).body)["x-privet-token"];
  const doc = Buffer.from(encodeDocument(pages));
  const response = await rawRequest(port, Buffer.concat([Buffer.from(`POST /privet/printer/submitdoc HTTP/1.1\r\nX-Privet-Token: ${token}\r\nContent-Type: image/pwg-raster\r\nContent-Length: ${doc.length}\r\n\r\n`), doc]), 30_000);
  const jobId = JSON.parse(response.body).job_id;
  // Deflating big pages takes a while on a loaded machine: wait up to a minute.
  let state = "";
  for (const end = Date.now() + 60_000; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
    state = JSON.parse((await get(port, `/privet/printer/jobstate?job_id=${jobId}`, { "X-Privet-Token": token })).body).state;
    if (state === "done") break;
  }
  await printer.stop();
  if (state !== "done") throw new Error(`job ${jobId} is ${state}, not done`);
  return jobId as string;
}

// PNG gray is 0 = black; black_1 is 1 = black.
function expected(page: Page): Uint8Array {
  if (page.space !== "black_1") return page.pixels;
  const bpl = bytesPerLine(page.width, page.space);
  const out = new Uint8Array(page.width * page.height);
  for (let y = 0; y < page.height; y++) for (let x = 0; x < page.width; x++) out[y * page.width + x] = page.pixels[y * bpl + (x >> 3)] & (0x80 >> (x & 7)) ? 0 : 255;
  return out;
}

test("every page becomes a PNG with exactly the printed pixels", async (t) => {
  t.timeout(120_000);
  const outDir = mkdtempSync(path.join(tmpdir(), "privet-out-"));
  const engine = new PngEngine({ outDir, pagesPerMinute: 0, log: () => {} });
  const pages: Page[] = [testPage(1200, 700, "srgb_8", 1), testPage(333, 200, "sgray_8", 2), testPage(301, 150, "black_1", 3)];
  const jobId = await printWith(engine, pages);
  t.deepEqual(engine.pageFiles.map((f) => path.basename(f)), [1, 2, 3].map((n) => `job-${jobId}-page-${n}.png`));
  pages.forEach((page, i) => {
    const image = readPng(engine.pageFiles[i]);
    t.is(image.width, page.width);
    t.is(image.height, page.height);
    t.deepEqual(image.pixels, expected(page), `page ${i + 1}`);
  });
});

test("a paced engine makes the decoder wait for the paper", async (t) => {
  t.timeout(120_000);
  const outDir = mkdtempSync(path.join(tmpdir(), "privet-out-"));
  const engine = new PngEngine({ outDir, pagesPerMinute: 600, log: () => {} });
  let refusals = 0;
  const line = engine.line.bind(engine);
  engine.line = (data, repeat) => { const more = line(data, repeat); if (!more) refusals++; return more; };
  await printWith(engine, [testPage(200, 400, "sgray_8", 4), testPage(200, 400, "sgray_8", 5)]);
  t.true(refusals > 2, `${refusals} waits`);
  t.is(engine.pageFiles.length, 2);
});

// Paced, a sheet leaves the printer after its output path: the page file is
// whole (the last line imaged) before the engine says the job has printed,
// so a job is still 'processing' for a while after its last byte came in.
test("a paced engine finishes a job only when the sheet has crossed the output path, after its page is imaged", async (t) => {
  t.timeout(60_000);
  const outDir = mkdtempSync(path.join(tmpdir(), "privet-out-"));
  // 30 pages a minute: a sheet images in 2 s and its output path takes 1 s more.
  const engine = new PngEngine({ outDir, pagesPerMinute: 30, log: () => {} });
  let finished: number | undefined;
  let ready: () => void = () => {};
  engine.setEvents({ ready: () => ready(), statusChanged: () => {}, jobFinished: (pages) => { finished = pages; } });
  const width = 64, height = 200;
  engine.beginJob("paced");
  engine.beginPage({ width, height, xDpi: 100, yDpi: 100, colorSpace: "sgray_8", bytesPerLine: width });
  for (let y = 0; y < height; y++) {
    if (!engine.line(new Uint8Array(width).fill(y & 0xff), 1)) await new Promise<void>((resolve) => { ready = resolve; });
  }
  engine.endPage();
  engine.endJob(false);
  const file = path.join(outDir, "job-paced-page-1.png");
  const whole = () => { try { return readPng(file).height === height; } catch { return false; } };
  for (let i = 0; i < 500 && !whole() && finished === undefined; i++) await new Promise((r) => setTimeout(r, 2));
  t.true(whole(), "the page is imaged");
  t.is(finished, undefined, "the sheet is still on its way to the tray");
  for (let i = 0; i < 1000 && finished === undefined; i++) await new Promise((r) => setTimeout(r, 10));
  t.is(finished, 1);
  t.deepEqual(engine.pageFiles, [file]);
});
