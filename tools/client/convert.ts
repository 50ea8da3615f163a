import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

// Documents to PWG raster, as Chrome did for Privet printers: rendered at the
// resolution, color mode and paper the printer's CDD marks as default.

export type Kind = "pwg" | "pdf" | "postscript" | "image" | "unknown";

export function sniff(file: string): Kind {
  const fd = fs.openSync(file, "r");
  const head = Buffer.alloc(8);
  fs.readSync(fd, head, 0, 8, 0);
  fs.closeSync(fd);
  if (head.subarray(0, 4).toString("latin1") === "RaS2") return "pwg";
  if (head.subarray(0, 5).toString("latin1") === "%PDF-") return "pdf";
  if (head.subarray(0, 2).toString("latin1") === "%!") return "postscript";
  if (head[0] === 0x89 && head.subarray(1, 4).toString("latin1") === "PNG") return "image";
  if (head[0] === 0xff && head[1] === 0xd8) return "image";
  return "unknown";
}

export interface RenderSettings { dpi: number; color: boolean; paper: { widthMicrons: number; heightMicrons: number; continuous?: boolean } }

// The defaults a CDD offers: first (or is_default) dpi, color if offered, default media.
export function settingsFromCdd(cdd: any): RenderSettings {
  const printer = cdd?.printer ?? {};
  const pick = (options: any[] | undefined) => options?.find((o) => o.is_default) ?? options?.[0];
  const dpi = pick(printer.dpi?.option)?.horizontal_dpi ?? 300;
  const color = pick(printer.color?.option)?.type === "STANDARD_COLOR";
  const media = pick(printer.media_size?.option);
  return { dpi, color, paper: { widthMicrons: media?.width_microns ?? 210_000, heightMicrons: media?.height_microns ?? 297_000, continuous: media?.is_continuous_feed === true } };
}

export function has(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;
}

function run(command: string, args: string[], signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // The signal kills the renderer: a service converting for others must not wait on a PDF that never ends.
    const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"], signal, killSignal: "SIGKILL" });
    let stderr = "";
    child.stderr.on("data", (c) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${command} failed (${code}): ${stderr.trim().split("\n").pop()}`))));
  });
}

// Height over width of a PDF's first page (from mutool when installed), else A-series √2.
function pageAspect(file: string): number {
  if (!has("mutool")) return Math.SQRT2;
  const info = spawnSync("mutool", ["info", file], { encoding: "utf8" }).stdout;
  const box = /Mediaboxes[^\n]*\n?\s*\d+\s*\([^)]*\):\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]/.exec(info);
  if (!box) return Math.SQRT2;
  const [x0, y0, x1, y1] = box.slice(1).map(Number);
  const aspect = Math.abs(y1 - y0) / Math.abs(x1 - x0);
  return Number.isFinite(aspect) && aspect > 0 ? aspect : Math.SQRT2;
}

// Returns a PWG file: the input itself, or a temporary conversion of it.
export async function toPwg(file: string, settings: RenderSettings, signal?: AbortSignal): Promise<{ file: string; converted: boolean }> {
  const kind = sniff(file);
  if (kind === "pwg") return { file, converted: false };
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "privet-print-")), "document.pwg");
  // Fractional points: 210 mm is 595.28 pt, and rounding it would lose a column at 300 dpi.
  const points = (microns: number) => ((microns / 25_400) * 72).toFixed(2);
  if (kind === "pdf" || kind === "postscript") {
    if (!has("gs")) throw new Error("Ghostscript (gs) is needed to print a PDF or PostScript file; install it or send PWG raster");
    // On a roll the page is as long as the document's own shape makes it,
    // not as long as the roll could be.
    const height = settings.paper.continuous
      ? Math.min(settings.paper.heightMicrons, settings.paper.widthMicrons * (kind === "pdf" ? pageAspect(file) : Math.SQRT2))
      : settings.paper.heightMicrons;
    await run("gs", ["-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pwgraster", `-r${settings.dpi}`,
      `-dcupsColorSpace=${settings.color ? 19 : 18}`, "-dcupsBitsPerColor=8",
      `-dDEVICEWIDTHPOINTS=${points(settings.paper.widthMicrons)}`, `-dDEVICEHEIGHTPOINTS=${points(height)}`,
      "-dFIXEDMEDIA", "-dPDFFitPage", `-sOutputFile=${out}`, file], signal);
    return { file: out, converted: true };
  }
  if (kind === "image") {
    if (!has("mutool")) throw new Error("MuPDF's mutool is needed to print an image; install mupdf-tools or send PDF or PWG raster");
    await run("mutool", ["draw", "-q", "-r", String(settings.dpi), "-c", settings.color ? "rgb" : "gray", "-o", out, file], signal);
    return { file: out, converted: true };
  }
  throw new Error(`${path.basename(file)} is not PWG raster, PDF, PostScript, PNG or JPEG`);
}
