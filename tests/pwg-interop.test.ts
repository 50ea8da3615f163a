import test from "ava";
import { existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { PwgDecoder, type RasterSink } from "../modules/pwg/decoder.js";
import type { PageFormat, PageHeader, PwgColorSpace } from "../modules/pwg/header.js";
import { readPng, type Image } from "./helpers/png.js";
import { run, which } from "./helpers/peers.js";

// Real PWG from Ghostscript and MuPDF, rendered from a real PDF that
// cups-filters ships, decoded by us and by the reference (cups-filters'
// rastertopdf, whose images mutool extracts losslessly); every pixel must agree.
const PDFS = ["/usr/share/cups/data/default-testpage.pdf", "/usr/share/cups/data/form_english.pdf"];
const RASTERTOPDF = "/usr/lib/cups/filter/rastertopdf";
const missing = !which("gs") ? "Ghostscript (gs) is not installed"
  : !which("mutool") ? "MuPDF's mutool (mupdf-tools) is not installed"
  : !existsSync(RASTERTOPDF) ? "cups-filters' rastertopdf is not installed"
  : !PDFS.every(existsSync) ? "cups-filters' sample PDFs are missing" : "";

interface Decoded { header: PageHeader; format: PageFormat; pixels: Uint8Array }

// Decodes in 64 KiB chunks, as they would come off a socket.
function decodeOurs(doc: Uint8Array): Decoded[] {
  const pages: Decoded[] = [];
  let row = 0;
  const sink: RasterSink = {
    beginPage(header, format) { pages.push({ header, format, pixels: new Uint8Array(header.bytesPerLine * header.height) }); row = 0; },
    line(data, repeat) {
      const page = pages.at(-1)!;
      for (let r = 0; r < repeat; r++) page.pixels.set(data, (row++) * data.length);
      return true;
    },
    endPage() {},
  };
  const decoder = new PwgDecoder(sink, { maxWidth: 20_000, maxHeight: 40_000 });
  for (let o = 0; o < doc.length; o += 65536) decoder.write(doc.subarray(o, o + 65536));
  decoder.end();
  return pages;
}

// black_1 (1 = black) as the 8-bit gray the reference draws.
function asReference(page: Decoded): Uint8Array {
  if (page.format.colorSpace !== "black_1") return page.pixels;
  const { width, height, bytesPerLine } = page.header;
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] = page.pixels[y * bytesPerLine + (x >> 3)] & (0x80 >> (x & 7)) ? 0 : 255;
  return out;
}

async function reference(pwgFile: string, dir: string): Promise<Image[]> {
  const pdf = path.join(dir, "reference.pdf");
  const made = await run("sh", ["-c", `CONTENT_TYPE=image/pwg-raster ${RASTERTOPDF} 1 test test 1 "" < "${pwgFile}" > "${pdf}"`], 60_000);
  if (made.code !== 0) throw new Error(`rastertopdf failed: ${made.stderr}`);
  const extracted = await run("sh", ["-c", `cd "${dir}" && mutool extract reference.pdf`], 60_000);
  if (extracted.code !== 0) throw new Error(`mutool extract failed: ${extracted.stderr}`);
  const images = readdirSync(dir).filter((f) => /^image-\d+\.png$/.test(f)).sort((a, b) => Number(a.match(/\d+/)![0]) - Number(b.match(/\d+/)![0]));
  return images.map((f) => readPng(path.join(dir, f)));
}

const CASES: Array<{ name: string; space: PwgColorSpace; make: (out: string) => string[] }> = [
  { name: "Ghostscript gray 8, A4", space: "sgray_8", make: (out) => ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pwgraster", "-r100", "-dcupsColorSpace=18", "-dcupsBitsPerColor=8", "-sPAPERSIZE=a4", "-dFIXEDMEDIA", "-dPDFFitPage", `-sOutputFile=${out}`, ...PDFS] },
  { name: "Ghostscript RGB 24, Letter", space: "srgb_8", make: (out) => ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pwgraster", "-r100", "-dcupsColorSpace=19", "-dcupsBitsPerColor=8", "-sPAPERSIZE=letter", "-dFIXEDMEDIA", "-dPDFFitPage", `-sOutputFile=${out}`, ...PDFS] },
  { name: "Ghostscript black 1, A4", space: "black_1", make: (out) => ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pwgraster", "-r150", "-dcupsColorSpace=3", "-dcupsBitsPerColor=1", "-sPAPERSIZE=a4", "-dFIXEDMEDIA", "-dPDFFitPage", `-sOutputFile=${out}`, ...PDFS] },
  { name: "Ghostscript black 1, Letter", space: "black_1", make: (out) => ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pwgraster", "-r100", "-dcupsColorSpace=3", "-dcupsBitsPerColor=1", "-sPAPERSIZE=letter", "-dFIXEDMEDIA", "-dPDFFitPage", `-sOutputFile=${out}`, PDFS[0]] },
  { name: "MuPDF RGB", space: "srgb_8", make: (out) => ["mutool", "draw", "-q", "-r", "100", "-o", out, PDFS[0]] },
  { name: "MuPDF gray", space: "sgray_8", make: (out) => ["mutool", "draw", "-q", "-r", "100", "-c", "gray", "-o", out, PDFS[0]] },
];

for (const c of CASES) {
  (missing ? test.skip : test)(`${c.name}: our decode equals the cups-filters reference pixel for pixel${missing ? ` (skipped: ${missing})` : ""}`, async (t) => {
    t.timeout(120_000);
    const dir = mkdtempSync(path.join(tmpdir(), "privet-pwg-"));
    const file = path.join(dir, "doc.pwg");
    const [command, ...args] = c.make(file);
    const made = await run(command, args, 60_000);
    t.is(made.code, 0, made.stderr);
    const ours = decodeOurs(new Uint8Array(readFileSync(file)));
    const theirs = await reference(file, dir);
    t.true(ours.length >= 1);
    t.is(ours.length, theirs.length, "same number of pages");
    ours.forEach((page, i) => {
      t.is(page.format.colorSpace, c.space);
      t.is(page.header.width, theirs[i].width);
      t.is(page.header.height, theirs[i].height);
      const mine = asReference(page);
      t.is(mine.length, theirs[i].pixels.length);
      let differ = 0;
      for (let k = 0; k < mine.length; k++) if (mine[k] !== theirs[i].pixels[k]) differ++;
      t.is(differ, 0, `page ${i + 1}: ${differ} bytes differ`);
      // A page that came out all white would match trivially; make sure it has ink.
      t.true(mine.some((v) => v < 128), `page ${i + 1} has dark pixels`);
    });
    t.log(`${ours.length} page(s), ${ours[0].header.width} x ${ours[0].header.height} at ${ours[0].header.xDpi} dpi`);
  });
}
