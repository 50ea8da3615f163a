import test from "ava";
import * as net from "node:net";
import { Printer } from "../modules/printer/printer.js";
import { NullEngine } from "../modules/print/null-engine.js";
import { OFFICE_CAPABILITIES } from "../modules/print/office-capabilities.js";
import { nodeHal } from "../hosts/node/hal.js";
import { get } from "./helpers/client.js";
import { encodePage, testPage } from "./helpers/pwg.js";

// A document's size must not show in the printer's memory: the decoder holds
// one line, the HTTP layer one chunk. Stream jobs of two very different sizes
// through a real socket and compare the live heap (after forced collections)
// while each streams.
const gc = (globalThis as { gc?: () => void }).gc;

async function streamJob(pages: number): Promise<{ peakHeapGrowth: number; bytes: number }> {
  const engine = new NullEngine(OFFICE_CAPABILITIES);
  const printer = new Printer(nodeHal({ log: () => {}, engine }), { port: 0 });
  const port = await printer.start();
  const token = JSON.parse((await get(port, "/privet/info", { "X-Privet-Token": "\"\"" })).body)["x-privet-token"];
  const page = encodePage(testPage(2000, 1500, "srgb_8", 5));
  const length = 4 + page.length * pages;
  // Socket chunks are Buffers, outside the V8 heap: count both.
  const live = () => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
  gc!();
  const baseline = live();
  let peak = 0;
  let sampling = true;
  // V8 frees dead ArrayBuffers on a concurrent sweeper after a collection;
  // collect twice with a pause between so dead socket buffers are not counted.
  const sampler = (async () => {
    while (sampling) {
      gc!();
      await new Promise((r) => setTimeout(r, 5));
      gc!();
      peak = Math.max(peak, live() - baseline);
      await new Promise((r) => setTimeout(r, 40));
    }
  })();
  const socket = net.connect(port, "127.0.0.1");
  const answer = new Promise<string>((resolve) => {
    let text = "";
    socket.on("data", (c) => { text += c; if (text.includes("}")) resolve(text); });
  });
  socket.write(`POST /privet/printer/submitdoc HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Privet-Token: ${token}\r\nContent-Type: image/pwg-raster\r\nContent-Length: ${length}\r\n\r\nRaS2`);
  // The same page bytes again and again: the client holds one page, the printer must hold less.
  for (let i = 0; i < pages; i++) {
    if (!socket.write(page)) await new Promise((r) => socket.once("drain", r));
  }
  const text = await answer;
  sampling = false;
  await sampler;
  socket.destroy();
  await printer.stop();
  if (!text.includes("job_id")) throw new Error(`job failed: ${text}`);
  if (engine.linesTaken !== pages * 1500) throw new Error(`engine took ${engine.linesTaken} lines`);
  return { peakHeapGrowth: peak, bytes: length };
}

(gc ? test.serial : test.skip)("heap use while streaming does not grow with the document", async (t) => {
  t.timeout(240_000);
  const small = await streamJob(5);
  const large = await streamJob(100);
  const mb = (n: number) => (n / 1048576).toFixed(1);
  t.log(`job of ${mb(small.bytes)} MB: peak growth of live heap + buffers ${mb(small.peakHeapGrowth)} MB; job of ${mb(large.bytes)} MB: ${mb(large.peakHeapGrowth)} MB`);
  t.true(large.bytes > 15 * small.bytes);
  // The large job is twenty times the small one; what it keeps live must stay
  // a small fixed amount (noise from a loaded machine included), nowhere near its size.
  t.true(large.peakHeapGrowth < 16 * 1048576, "under 16 MB");
  t.true(large.peakHeapGrowth < large.bytes / 20, "under 5 % of the document");
});
