import * as fs from "node:fs";
import * as path from "node:path";
import type { EngineCapabilities } from "../../modules/hal/engine.js";
import { run } from "./peers.js";

// The files CUPS's IPP Everywhere suite prints, made here: Debian ships the
// suite but not its PWG sample documents. ipptool refuses to read a test
// file that names a FILE it cannot open, even one whose test would be
// skipped, so every name gets a file: real PWG raster, rendered by
// Ghostscript from real documents and a photo, for each resolution and
// color space the printer offers; an empty file for the others (their tests
// are skipped, as the printer does not offer them).

export const SUITE_DIR = "/usr/share/cups/ipptool";
const DATA = "/usr/share/cups/data";
// A photograph that ships in the cups package.
export const PHOTO = "/usr/share/cups/doc-root/images/smiley.jpg";
export const SAMPLE_TOOLS = ["ipptool", "gs", "mutool", "djpeg", "cjpeg"];
// From cups-ipp-utils, cups-filters and cups-server-common.
export const SAMPLE_FILES = [`${SUITE_DIR}/ipp-everywhere.test`, `${DATA}/default-testpage.pdf`, `${DATA}/form_english.pdf`, `${DATA}/standard.pdf`, PHOTO];

const COLOR_SPACE: Record<string, { space: string; args: string[] }> = {
  "black-1": { space: "black_1", args: ["-dcupsColorSpace=3", "-dcupsBitsPerColor=1"] },
  "sgray-8": { space: "sgray_8", args: ["-dcupsColorSpace=18", "-dcupsBitsPerColor=8"] },
  "srgb-8": { space: "srgb_8", args: ["-dcupsColorSpace=19", "-dcupsBitsPerColor=8"] },
};

// Every FILE a suite file and the files it includes name.
export function suiteFiles(file: string): string[] {
  const text = fs.readFileSync(path.join(SUITE_DIR, file), "utf8");
  const names = new Set<string>();
  for (const match of text.matchAll(/^\s*INCLUDE\s+"([^"]+)"/gm)) for (const n of suiteFiles(match[1])) names.add(n);
  for (const match of text.matchAll(/^\s*FILE\s+(\S+)/gm)) if (!match[1].startsWith("$")) names.add(match[1]);
  return [...names];
}

async function gs(args: string[]): Promise<void> {
  const result = await run("gs", ["-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", ...args], 120_000);
  if (result.code !== 0) throw new Error(`gs ${args.join(" ")} failed: ${result.stderr}`);
}

async function sh(command: string): Promise<void> {
  const result = await run("sh", ["-c", command], 60_000);
  if (result.code !== 0) throw new Error(`${command} failed: ${result.stderr}`);
}

export interface Samples {
  // Real samples made (path relative to dir).
  made: string[];
  // Empty stand-ins for what the printer does not offer.
  placeholders: string[];
}

export async function makeSamples(dir: string, caps: EngineCapabilities): Promise<Samples> {
  const q = (p: string) => `'${p}'`;
  const at = (name: string) => path.join(dir, name);
  // Sources: a one-page and a three-page document, a color and a gray photo.
  await gs(["-sDEVICE=pdfwrite", `-sOutputFile=${at("source-document.pdf")}`, `${DATA}/default-testpage.pdf`, `${DATA}/form_english.pdf`, `${DATA}/standard.pdf`]);
  fs.copyFileSync(PHOTO, at("color.jpg"));
  await sh(`djpeg -grayscale ${q(PHOTO)} | cjpeg > ${q(at("gray.jpg"))}`);
  await sh(`mutool convert -o ${q(at("color-photo.pdf"))} ${q(at("color.jpg"))} && mutool convert -o ${q(at("gray-photo.pdf"))} ${q(at("gray.jpg"))}`);
  const sources: Record<string, { pdf: string; media: string[] }> = {
    "onepage-a4": { pdf: `${DATA}/default-testpage.pdf`, media: ["-sPAPERSIZE=a4"] },
    "onepage-letter": { pdf: `${DATA}/default-testpage.pdf`, media: ["-sPAPERSIZE=letter"] },
    "document-a4": { pdf: at("source-document.pdf"), media: ["-sPAPERSIZE=a4"] },
    "document-letter": { pdf: at("source-document.pdf"), media: ["-sPAPERSIZE=letter"] },
    "color.jpg-4x6": { pdf: at("color-photo.pdf"), media: ["-dDEVICEWIDTHPOINTS=288", "-dDEVICEHEIGHTPOINTS=432"] },
    "gray.jpg-4x6": { pdf: at("gray-photo.pdf"), media: ["-dDEVICEWIDTHPOINTS=288", "-dDEVICEHEIGHTPOINTS=432"] },
  };
  const samples: Samples = { made: [], placeholders: [] };
  for (const name of suiteFiles("ipp-everywhere.test")) {
    fs.mkdirSync(path.dirname(at(name)), { recursive: true });
    if (fs.existsSync(at(name))) continue;
    const pwg = /^pwg-raster-samples-(\d+)dpi\/([a-z0-9-]+)\/(.+)-\2-\1dpi\.pwg$/.exec(name);
    const space = pwg ? COLOR_SPACE[pwg[2]] : undefined;
    const dpi = pwg ? Number(pwg[1]) : 0;
    const source = pwg ? sources[pwg[3]] : undefined;
    if (pwg && space && source && caps.colorSpaces.includes(space.space as never) && caps.resolutions.some((r) => r.x === dpi && r.y === dpi)) {
      await gs(["-sDEVICE=pwgraster", `-r${dpi}`, ...space.args, ...source.media, "-dFIXEDMEDIA", "-dPDFFitPage", `-sOutputFile=${at(name)}`, source.pdf]);
      samples.made.push(name);
    } else if (name.endsWith(".pdf") || name.endsWith(".ps")) {
      // ipp-1.1.test's PDF and PostScript prints (skipped: neither is offered).
      const paper = name.includes("letter") ? "letter" : "a4";
      await gs([`-sDEVICE=${name.endsWith(".pdf") ? "pdfwrite" : "ps2write"}`, `-sPAPERSIZE=${paper}`, "-dFIXEDMEDIA", "-dPDFFitPage", `-sOutputFile=${at(name)}`, at("source-document.pdf")]);
      samples.made.push(name);
    } else {
      fs.writeFileSync(at(name), "");
      samples.placeholders.push(name);
    }
  }
  return samples;
}
