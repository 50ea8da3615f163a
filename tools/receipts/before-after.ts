import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { encodeGrayPng } from "../../hosts/node/png-engine.js";
import { jpegDocument } from "../../modules/print/image-document.js";
import type { RasterSink } from "../../modules/pwg/decoder.js";
import { encodePwg } from "../pico/pages.js";
import { referenceReceipt } from "../pico/reference.js";

// Receipts of a photo and of text as the 58 mm thermal driver printed them
// before issue 22 (Floyd–Steinberg) and prints them now (the 8 x 8 ordered
// pattern of ditherRow), as PNG pictures for docs/ (issue 22 asks for them):
//   npm run build && node build/tools/receipts/before-after.js [--photo FILE.jpg] [--out docs]
// Each picture has three columns on the 384-dot roll: the gray page the
// driver was given, the old driver's dots, the new driver's dots.
//
// The inputs are made from PDFs Debian's cups package installs, with
// Ghostscript and libjpeg's cjpeg (neither is part of this project):
// - the photo: the CUPS test page's gray wheels and logos, rendered at 64 dpi
//   (its 6 inches of wheels across the head's 384 dots), made a JPEG with
//   cjpeg and taken by the board's JPEG path (modules/print/image-document.ts,
//   fit to the roll); --photo takes a JPEG of your own instead;
// - the text: the top of CUPS's form_english.pdf at the head's 203 dpi, with
//   Ghostscript's anti-aliased text (gray edges, as a PDF rasterizer sends).
//
// "After" is the Node host's thermal engine printing the page as a PWG job
// into the ESC/POS simulator (the receipt the emulated Pico prints dot for
// dot, its runner's --compare says); "before" is the Floyd–Steinberg loop
// the driver had before commit 5faf8fe, restated here.

const HEAD = 384;
const DPI = 203;

const { values } = parseArgs({
  options: {
    photo: { type: "string" },
    out: { type: "string", default: "docs" },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  process.stdout.write("usage: node build/tools/receipts/before-after.js [--photo FILE.jpg] [--out DIR]\n");
  process.exit(0);
}

interface GrayPage { width: number; height: number; pixels: Uint8Array }

const work = fs.mkdtempSync(path.join(os.tmpdir(), "receipts-"));

function run(command: string, args: string[]): void {
  try {
    execFileSync(command, args, { stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    throw new Error(`${command} failed (is it installed? Debian: ghostscript, libjpeg-turbo-progs): ${String(error).split("\n")[0]}`);
  }
}

// A binary PGM (P5) as Ghostscript's pgmraw writes it.
function readPgm(file: string): GrayPage {
  const bytes = fs.readFileSync(file);
  const fields: string[] = [];
  let i = 0;
  while (fields.length < 4) {
    while (/\s/.test(String.fromCharCode(bytes[i]))) i++;
    if (bytes[i] === 0x23) { while (bytes[i] !== 0x0a) i++; continue; }
    let field = "";
    while (!/\s/.test(String.fromCharCode(bytes[i]))) field += String.fromCharCode(bytes[i++]);
    fields.push(field);
  }
  const [magic, width, height, max] = [fields[0], Number(fields[1]), Number(fields[2]), Number(fields[3])];
  if (magic !== "P5" || max !== 255) throw new Error(`${file}: not an 8-bit binary PGM`);
  return { width, height, pixels: new Uint8Array(bytes.buffer, bytes.byteOffset + i + 1, width * height) };
}

function writePgm(file: string, page: GrayPage): void {
  fs.writeFileSync(file, Buffer.concat([Buffer.from(`P5\n${page.width} ${page.height}\n255\n`), Buffer.from(page.pixels)]));
}

// A window of a page, white where it reaches past the page.
function crop(page: GrayPage, x0: number, y0: number, width: number, height: number): GrayPage {
  const pixels = new Uint8Array(width * height).fill(255);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = x0 + x, sy = y0 + y;
      if (sx < page.width && sy < page.height) pixels[y * width + x] = page.pixels[sy * page.width + sx];
    }
  }
  return { width, height, pixels };
}

function render(pdf: string, dpi: number, name: string): GrayPage {
  const out = path.join(work, `${name}.pgm`);
  run("gs", ["-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pgmraw", `-r${dpi}`, "-dTextAlphaBits=4", "-dGraphicsAlphaBits=4", "-dFirstPage=1", "-dLastPage=1", `-sOutputFile=${out}`, pdf]);
  return readPgm(out);
}

// The gray lines the board's JPEG path gives the engine for a photo.
function jpegLines(jpeg: Uint8Array): GrayPage {
  const rows: Uint8Array[] = [];
  let width = 0;
  const sink: RasterSink = {
    beginPage(header) { width = header.width; },
    line(data, repeat) {
      for (let r = 0; r < repeat; r++) rows.push(data.slice());
      return true;
    },
    endPage() {},
  };
  const decoder = jpegDocument({ scaling: "fit", widthDots: HEAD, heightDots: 8000, xDpi: DPI, yDpi: DPI, colorSpace: "sgray_8", continuous: true })(sink, { maxWidth: HEAD, maxHeight: 8000 });
  for (let o = 0; o < jpeg.length; o += 65536) decoder.write(jpeg.subarray(o, o + 65536));
  decoder.end();
  const pixels = new Uint8Array(width * rows.length);
  rows.forEach((row, y) => pixels.set(row.subarray(0, width), y * width));
  return { width, height: rows.length, pixels };
}

// The driver before issue 22 (modules/escpos/thermal-engine.ts at 5faf8fe^):
// Floyd–Steinberg in 16ths of a gray level, errors carried from row to row,
// a white line fed (not dithered) and the carried errors dropped there; a
// narrower page centred on the head. Returns the dots as gray (0 black).
function floydSteinberg(page: GrayPage): Uint8Array {
  const out = new Uint8Array(HEAD * page.height).fill(255);
  const offset = Math.max(0, Math.floor((HEAD - page.width) / 2));
  const width = Math.min(page.width, HEAD);
  let here = new Int16Array(HEAD + 2), below = new Int16Array(HEAD + 2);
  for (let y = 0; y < page.height; y++) {
    const data = page.pixels.subarray(y * page.width, (y + 1) * page.width);
    if (data.every((v) => v === 0xff)) {
      here.fill(0);
      continue;
    }
    let right = 0, e1 = 0, e2 = 0;
    for (let x = 0; x < width; x++) {
      const value = data[x] + ((here[x + 1] + right) >> 4);
      let error = value;
      if (value < 128) out[y * HEAD + x + offset] = 0;
      else error = value - 255;
      right = error * 7;
      below[x] = e2 + 5 * e1 + 3 * error;
      e2 = e1;
      e1 = error;
    }
    below[width] = e2 + 5 * e1;
    below[width + 1] = e1;
    [here, below] = [below, here];
  }
  return out;
}

// The driver now, on the Node host: the page as a PWG job through the
// spooler, the thermal engine and the ESC/POS simulator. The roll's page
// gap after the page is left off.
async function orderedDither(page: GrayPage): Promise<Uint8Array> {
  const pwg = encodePwg([{ name: "receipt", space: "sgray_8", width: page.width, height: page.height, dpi: DPI, pixels: page.pixels }]);
  const paper = await referenceReceipt([pwg], { headDots: HEAD, dpi: DPI, dither: true, pageGapDots: 0, cut: false });
  if (paper.width !== HEAD || paper.height < page.height) throw new Error(`the roll is ${paper.width} x ${paper.height}, the page ${page.width} x ${page.height}`);
  return paper.pixels.subarray(0, HEAD * page.height);
}

// Three columns, 16 dots of light gray between them.
function sideBySide(page: GrayPage, before: Uint8Array, after: Uint8Array): Buffer {
  const gap = 16, width = 3 * HEAD + 2 * gap;
  const pixels = new Uint8Array(width * page.height).fill(200);
  const offset = Math.max(0, Math.floor((HEAD - page.width) / 2));
  for (let y = 0; y < page.height; y++) {
    const row = y * width;
    pixels.fill(255, row, row + HEAD);
    pixels.set(page.pixels.subarray(y * page.width, y * page.width + Math.min(page.width, HEAD)), row + offset);
    pixels.set(before.subarray(y * HEAD, (y + 1) * HEAD), row + HEAD + gap);
    pixels.set(after.subarray(y * HEAD, (y + 1) * HEAD), row + 2 * (HEAD + gap));
  }
  return encodeGrayPng(width, page.height, pixels);
}

async function main(): Promise<void> {
  let jpeg: Uint8Array;
  if (values.photo) {
    jpeg = new Uint8Array(fs.readFileSync(values.photo));
  } else {
    // The test page's logos and wheels: 1.0 to 7.0 inches across, 1.4 to 7.4 down.
    const testPage = render("/usr/share/cups/data/default-testpage.pdf", 64, "testpage");
    const pgm = path.join(work, "photo.pgm");
    writePgm(pgm, crop(testPage, 64, 90, HEAD, 384));
    const jpg = path.join(work, "photo.jpg");
    run("cjpeg", ["-quality", "90", "-grayscale", "-outfile", jpg, pgm]);
    jpeg = new Uint8Array(fs.readFileSync(jpg));
  }
  const photo = jpegLines(jpeg);
  // The form's title and first lines at 203 dpi: 1.9 inches across from its left margin.
  const form = render("/usr/share/cups/data/form_english.pdf", DPI, "form");
  const text = crop(form, 140, 130, HEAD, 560);
  fs.mkdirSync(values.out!, { recursive: true });
  for (const [name, page] of [["receipt-photo", photo], ["receipt-text", text]] as const) {
    const file = path.join(values.out!, `${name}.png`);
    fs.writeFileSync(file, sideBySide(page, floydSteinberg(page), await orderedDither(page)));
    process.stdout.write(`${file}: ${page.width} x ${page.height} gray; original, Floyd–Steinberg (before), ordered 8 x 8 (after)\n`);
  }
  fs.rmSync(work, { recursive: true, force: true });
}

await main();
