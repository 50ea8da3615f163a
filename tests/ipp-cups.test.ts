import test from "ava";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CupsSandbox, cupsUnavailable } from "./helpers/cups.js";
import { readPng, type Image } from "./helpers/png.js";
import { spawnNode } from "./helpers/spawn.js";

// CUPS itself prints a real PDF to the printer driverless, as a Linux or macOS
// computer does: `lpadmin -m everywhere` builds the queue from the printer's
// own Get-Printer-Attributes, CUPS's filters turn the PDF into PWG raster at
// what the printer says it takes, and its ipp backend sends Print-Job. The
// pages the simulated engine writes are compared with Ghostscript's render of
// the same PDF.

const CLI = path.resolve("build/tools/launcher/start.js");
const PDFS = ["/usr/share/cups/data/default-testpage.pdf", "/usr/share/cups/data/form_english.pdf"];
const why = cupsUnavailable() || (PDFS.every((f) => fs.existsSync(f)) ? "" : "CUPS's sample PDFs are missing")
  || (spawnSync("sh", ["-c", "command -v gs && command -v mutool && command -v ipptool"]).status === 0 ? "" : "gs, mutool or ipptool is missing");

// Grey levels averaged over blocks, so the comparison is about what is on the
// page, not about one renderer's anti-aliasing against another's.
function blocks(image: Image, size: number): { columns: number; rows: number; means: Float64Array } {
  const columns = Math.floor(image.width / size);
  const rows = Math.floor(image.height / size);
  const means = new Float64Array(columns * rows);
  for (let y = 0; y < rows * size; y++) {
    for (let x = 0; x < columns * size; x++) {
      const at = (y * image.width + x) * image.channels;
      let gray = image.pixels[at];
      if (image.channels >= 3) gray = 0.299 * image.pixels[at] + 0.587 * image.pixels[at + 1] + 0.114 * image.pixels[at + 2];
      means[Math.floor(y / size) * columns + Math.floor(x / size)] += gray / (size * size);
    }
  }
  return { columns, rows, means };
}

const title = "CUPS prints a real two-page PDF to the printer driverless (lpadmin -m everywhere), and the pages match Ghostscript's render";
(why ? test.skip : test.serial)(why ? `${title} — skipped: ${why}` : title, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "privet-ipp-cups-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const pdf = path.join(dir, "two-pages.pdf");
  t.is(spawnSync("mutool", ["merge", "-o", pdf, ...PDFS]).status, 0);

  const out = path.join(dir, "out");
  // Port 0, read back from the banner: a port picked free beforehand could be taken before the printer binds it.
  const printer = spawnNode(CLI, ["--port", "0", "--no-cloud", "--no-mdns", "--out", out, "--state-dir", path.join(dir, "state"), "--name", "CUPS Test Printer"]);
  t.teardown(() => { printer.child.kill("SIGTERM"); });
  for (let i = 0; i < 100 && !printer.output().stdout.includes("is listening"); i++) await new Promise((r) => setTimeout(r, 100));
  t.true(printer.output().stdout.includes("is listening"), printer.output().stderr);
  const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(printer.output().stdout)?.[1]);
  t.true(port > 0, printer.output().stdout);

  const cups = await CupsSandbox.start();
  t.teardown(() => cups.stop());
  const added = cups.run(["lpadmin", "-p", "T", "-E", "-v", `ipp://127.0.0.1:${port}/ipp/print`, "-m", "everywhere"]);
  t.is(added.status, 0, `lpadmin: ${added.stderr}`);
  // What CUPS made of the printer's attributes: the queue's PPD, which cupsd
  // writes once it has asked the printer (after lpadmin has returned).
  const ppdFile = path.join(cups.dir, "ppd", "T.ppd");
  for (let i = 0; i < 300 && !fs.existsSync(ppdFile); i++) await new Promise((r) => setTimeout(r, 100));
  t.true(fs.existsSync(ppdFile), `no PPD: ${cups.log().split("\n").filter((l) => /^[EW]/.test(l)).slice(-5).join("\n")}`);
  const ppd = fs.readFileSync(ppdFile, "latin1");
  // CUPS sends the raster it prefers of those offered: Apple's (URF, AirPrint) before PWG's.
  t.regex(ppd, /\*cupsFilter2: "application\/vnd\.cups-pdf application\/pdf 10 -"|\*cupsFilter2: "image\/(pwg-raster|urf) image\/(pwg-raster|urf)/);
  t.log(`CUPS sends: ${[...ppd.matchAll(/^\*cupsFilter2: "(\S+)/gm)].map((m) => m[1]).join(", ")}`);
  // The printer's default is A4 with margins; CUPS must name a size it made
  // for it, or it falls back to Letter (as it did when every margin was 0).
  const defaultSize = /^\*DefaultPageSize: (\S+)/m.exec(ppd)?.[1];
  const sizes = [...ppd.matchAll(/^\*PageSize ([^/:\s]+)/gm)].map((m) => m[1]);
  t.is(defaultSize, "A4", `sizes: ${sizes.join(" ")}`);
  t.true(sizes.includes("A4") && sizes.includes("A4.Borderless"), `sizes: ${sizes.join(" ")}`);

  // No options at all, as a user's first print is: the page is A4.
  const plain = cups.run(["lp", "-d", "T", PDFS[0]]);
  t.is(plain.status, 0, plain.stderr);
  const plainEnded = await cups.waitForJob(Number(/T-(\d+)/.exec(plain.stdout)?.[1]), 120_000);
  t.is(plainEnded.state, "completed", `${JSON.stringify(plainEnded)}\n${printer.output().stdout}`);
  const plainPages = fs.existsSync(out) ? fs.readdirSync(out).filter((f) => f.endsWith(".png")).sort() : [];
  t.is(plainPages.length, 1, `pages written: ${plainPages.join(", ")}`);
  for (const page of plainPages) {
    const image = readPng(path.join(out, page));
    // A4 at whichever of the printer's resolutions CUPS chose (Letter would be 8.5 x 11 in at it).
    const dpi = Math.round(image.width / (210 / 25.4));
    t.true([150, 300, 600].includes(dpi), `${page} is ${image.width} x ${image.height}`);
    t.true(Math.abs(image.width - 2480 * dpi / 300) <= 2 && Math.abs(image.height - 3508 * dpi / 300) <= 2, `${page} is ${image.width} x ${image.height}, not A4 at ${dpi} dpi`);
  }

  const submitted = cups.run(["lp", "-d", "T", "-o", "media=A4", "-o", "print-color-mode=monochrome", pdf]);
  t.is(submitted.status, 0, submitted.stderr);
  const id = Number(/T-(\d+)/.exec(submitted.stdout)?.[1]);
  const ended = await cups.waitForJob(id, 120_000);
  t.is(ended.state, "completed", `${JSON.stringify(ended)}\n${printer.output().stdout}`);

  const pages = fs.readdirSync(out).filter((f) => f.endsWith(".png") && !plainPages.includes(f)).sort();
  t.is(pages.length, 2, `pages written: ${pages.join(", ")}`);

  // Ghostscript's render of the same pages at the printed page's size and
  // resolution (A4 asked), fitted as CUPS's pdftopdf fits them.
  for (let n = 0; n < pages.length; n++) {
    const printed = readPng(path.join(out, pages[n]));
    const dpi = Math.round(printed.width / (210 / 25.4));
    const reference = path.join(dir, `reference-${n + 1}.png`);
    const gs = spawnSync("gs", ["-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pnggray", `-r${dpi}`, `-g${printed.width}x${printed.height}`, "-dFIXEDMEDIA", "-dPDFFitPage",
      `-dFirstPage=${n + 1}`, `-dLastPage=${n + 1}`, `-sOutputFile=${reference}`, pdf], { encoding: "utf8" });
    t.is(gs.status, 0, gs.stderr);
    const expected = readPng(reference);
    t.true(Math.abs(printed.width - 2480 * dpi / 300) <= 2 && Math.abs(printed.height - 3508 * dpi / 300) <= 2, `page ${n + 1} is ${printed.width} x ${printed.height}, not A4 at ${dpi} dpi`);
    const size = Math.max(8, Math.round(dpi / 10));
    const a = blocks(printed, size);
    const b = blocks(expected, size);
    let total = 0;
    let far = 0;
    let ink = 0;
    // Where either page has ink: a blank or shifted page fails here even though
    // most of a page is white.
    let inkTotal = 0;
    const count = Math.min(a.means.length, b.means.length);
    for (let i = 0; i < count; i++) {
      const d = Math.abs(a.means[i] - b.means[i]);
      total += d;
      if (d > 48) far++;
      if (b.means[i] < 200 || a.means[i] < 200) { ink++; inkTotal += d; }
    }
    const mean = total / count;
    t.log(`page ${n + 1}: ${printed.width} x ${printed.height} at ${dpi} dpi; mean block difference ${mean.toFixed(2)} of 255, ${far} of ${count} blocks differ by more than 48, ${ink} inked blocks (mean difference there ${(inkTotal / ink).toFixed(2)})`);
    t.true(ink > count / 100, "the reference page has content to compare");
    t.true(mean < 3, `page ${n + 1}: mean block difference ${mean.toFixed(2)}`);
    t.true(inkTotal / ink < 16, `page ${n + 1}: mean difference ${(inkTotal / ink).toFixed(2)} where there is ink`);
    t.true(far < count / 100, `page ${n + 1}: ${far} blocks differ by more than 48`);
  }

  // Copies. CUPS asks Get-Printer-Attributes without a document-format, so it
  // reads copies-supported for the default (PWG raster): 1-1, and it makes the
  // copies itself, in the raster (the queue's PPD says manual copies).
  t.regex(ppd, /^\*cupsManualCopies: True/m);
  const printedBefore = new Set(fs.readdirSync(out));
  const newPages = () => fs.readdirSync(out).filter((f) => f.endsWith(".png") && !printedBefore.has(f)).sort();
  const twice = cups.run(["lp", "-d", "T", "-n", "2", "-o", "media=A4", "-o", "print-color-mode=monochrome", pdf]);
  t.is(twice.status, 0, twice.stderr);
  const twiceEnded = await cups.waitForJob(Number(/T-(\d+)/.exec(twice.stdout)?.[1]), 120_000);
  t.is(twiceEnded.state, "completed", `${JSON.stringify(twiceEnded)}\n${printer.output().stdout}`);
  const copyPages = newPages();
  t.is(copyPages.length, 4, `two copies of two pages: ${copyPages.join(", ")}`);
  const pixels = (file: string) => Buffer.from(readPng(path.join(out, file)).pixels);
  // Each of the two pages twice, in whichever order CUPS chose (this CUPS
  // does not collate by default: 1, 1, 2, 2).
  const contents = copyPages.map((f) => pixels(f));
  const twins = copyPages.map((_, i) => contents.filter((c) => c.equals(contents[i])).length);
  t.deepEqual(twins, [2, 2, 2, 2], `pages with their twin: ${copyPages.join(", ")}`);
  t.false(contents.every((c) => c.equals(contents[0])), "two different pages, not one page four times");

  // A photo with two copies: two identical pages. CUPS passes the JPEG through
  // and, having read copies-supported 1-1, its backend sends it twice.
  const photo = path.join(dir, "photo.jpg");
  t.is(spawnSync("gs", ["-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=jpeg", "-r40", "-dFirstPage=1", "-dLastPage=1", `-sOutputFile=${photo}`, PDFS[0]]).status, 0);
  for (const f of copyPages) printedBefore.add(f);
  const photos = cups.run(["lp", "-d", "T", "-n", "2", photo]);
  t.is(photos.status, 0, photos.stderr);
  const photosEnded = await cups.waitForJob(Number(/T-(\d+)/.exec(photos.stdout)?.[1]), 120_000);
  t.is(photosEnded.state, "completed", `${JSON.stringify(photosEnded)}\n${printer.output().stdout}`);
  const photoPages = newPages();
  t.is(photoPages.length, 2, `two copies of the photo: ${photoPages.join(", ")}`);
  if (photoPages.length === 2) t.true(pixels(photoPages[1]).equals(pixels(photoPages[0])));
  t.log(`photo copies through CUPS: ${(printer.output().stdout + printer.output().stderr).split("\n").filter((l) => /document received|copies/.test(l)).slice(-3).join(" | ")}`);
});
