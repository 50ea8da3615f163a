import test from "ava";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Printer } from "../modules/printer/printer.js";
import { nodeHal } from "../hosts/node/hal.js";
import { PngEngine } from "../hosts/node/png-engine.js";
import { readPng, type Image } from "./helpers/png.js";
import { run, which } from "./helpers/peers.js";

// A photo printed over IPP as a phone sends it: image/jpeg in a Print-Job from
// a real client (CUPS's ipptool), decoded by the printer's own streaming
// decoder, scaled onto the page as print-scaling asks, and compared with
// Ghostscript's render of the document the JPEG was made from.

const PDF = "/usr/share/cups/data/default-testpage.pdf";
const missing = ["ipptool", "gs", "cjpeg"].filter((tool) => !which(tool));
if (!fs.existsSync(PDF)) missing.push(PDF);

function grayAt(image: Image, x: number, y: number): number {
  const at = (y * image.width + x) * image.channels;
  return image.channels >= 3 ? 0.299 * image.pixels[at] + 0.587 * image.pixels[at + 1] + 0.114 * image.pixels[at + 2] : image.pixels[at];
}

// Mean grey of size x size blocks.
function blockMeans(image: Image, size: number): number[] {
  const columns = Math.floor(image.width / size), rows = Math.floor(image.height / size);
  const means: number[] = [];
  for (let by = 0; by < rows; by++) {
    for (let bx = 0; bx < columns; bx++) {
      let sum = 0;
      for (let y = by * size; y < (by + 1) * size; y++) for (let x = bx * size; x < (bx + 1) * size; x++) sum += grayAt(image, x, y);
      means.push(sum / (size * size));
    }
  }
  return means;
}

const title = "ipptool prints a JPEG with print-scaling fit: one A4 page whose content matches Ghostscript's render of the source";
(missing.length ? test.skip : test)(missing.length ? `${title} (skipped: ${missing.join(", ")} missing)` : title, async (t) => {
  t.timeout(180_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipp-jpeg-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  // The photo: CUPS's test page at 100 dpi, JPEG-compressed (4:2:0, quality 85).
  const jpeg = path.join(dir, "page.jpg");
  const made = await run("sh", ["-c", `gs -q -dSAFER -dBATCH -dNOPAUSE -sDEVICE=ppmraw -r100 -sOutputFile=- '${PDF}' | cjpeg -quality 85 -sample 2x2 > '${jpeg}'`], 60_000);
  t.is(made.code, 0, made.stderr);

  const out = path.join(dir, "out");
  fs.mkdirSync(out);
  const printer = new Printer(nodeHal({ log: () => {}, engine: new PngEngine({ outDir: out, pagesPerMinute: 0, log: () => {} }) }), { port: 0 });
  const port = await printer.start();
  t.teardown(() => printer.stop());
  t.true(printer.documentFormatNames.includes("image/jpeg"));

  const testFile = path.join(dir, "print-jpeg.test");
  fs.writeFileSync(testFile, `{
  NAME "Print a JPEG, fitted to A4, in colour"
  OPERATION Print-Job
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR language attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR name requesting-user-name phone
  ATTR mimeMediaType document-format image/jpeg
  GROUP job-attributes-tag
  ATTR keyword media iso_a4_210x297mm
  ATTR keyword print-scaling fit
  ATTR keyword print-color-mode color
  FILE ${jpeg}
  STATUS successful-ok
  EXPECT job-id
  EXPECT job-state IN-GROUP job-attributes-tag
}
`);
  const result = await run("ipptool", ["-t", `ipp://127.0.0.1:${port}/ipp/print`, testFile], 120_000);
  t.is(result.code, 0, result.stdout + result.stderr);
  for (let i = 0; i < 500 && printer.spooler.active; i++) await new Promise((r) => setTimeout(r, 10));

  const pages = fs.readdirSync(out).filter((f) => f.endsWith(".png"));
  t.is(pages.length, 1, pages.join(", "));
  const printed = readPng(path.join(out, pages[0]));
  t.is(printed.width, 2480);
  t.is(printed.height, 3508);
  t.is(printed.channels, 3, "print-color-mode color gives an sRGB page");

  // The reference is the render the JPEG was made from (100 dpi): 30-dot
  // blocks of the printed page against 10-pixel blocks of it, so what is
  // compared is decoding and scaling, not Ghostscript at two resolutions.
  const reference = path.join(dir, "reference.png");
  const gs = await run("gs", ["-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=png16m", "-r100", `-sOutputFile=${reference}`, PDF], 60_000);
  t.is(gs.code, 0, gs.stderr);
  const source = readPng(reference);
  const a = blockMeans(printed, 30);
  const b = blockMeans(source, 10);
  t.is(Math.floor(printed.width / 30), Math.floor(source.width / 10));
  let ink = 0, inkDiff = 0, total = 0;
  const count = Math.min(a.length, b.length);
  for (let i = 0; i < count; i++) {
    const d = Math.abs(a[i] - b[i]);
    total += d;
    if (a[i] < 200 || b[i] < 200) { ink++; inkDiff += d; }
  }
  t.log(`${a.length} blocks of 30 dots: mean difference ${(total / count).toFixed(2)}, ${ink} with ink (mean difference there ${(inkDiff / ink).toFixed(2)})`);
  t.true(ink > a.length / 100, "the page has content to compare");
  t.true(total / count < 2, `mean block difference ${(total / count).toFixed(2)}`);
  t.true(inkDiff / ink < 8, `mean difference where there is ink ${(inkDiff / ink).toFixed(2)}`);
});
