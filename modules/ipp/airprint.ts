import type { EngineCapabilities } from "../hal/engine.js";
import { PRINT_QUALITY } from "./ticket.js";

// What AirPrint adds to IPP Everywhere: Apple Raster (image/urf), the
// urf-supported keywords that say which URF pages the printer takes, and the
// TXT keys and the _universal subtype iOS looks for before it lists a
// printer. Kept apart from the IPP Everywhere attributes so each can change
// without touching the other.

export const URF_MIME = "image/urf";
export const AIRPRINT_SUBTYPE = "_universal";

// URF carries only 8-bit gray and 24-bit RGB, at one resolution for x and y.
export function takesUrf(caps: EngineCapabilities): boolean {
  return caps.colorSpaces.includes("sgray_8") || caps.colorSpaces.includes("srgb_8");
}

// Only what the decoder and the engine honour: format version 1.4, one copy,
// the quality levels print-quality-supported lists (the engine prints each
// the same way, so none is refused), the square resolutions, and the colour
// spaces the engine takes. Duplex (DM), input slots (IS), media types (MT),
// output bins (OB) and finishings (FN) are left out: this printer has none
// to choose between.
export function urfSupported(caps: EngineCapabilities): string[] {
  const dpi = caps.resolutions.filter((r) => r.x === r.y).map((r) => r.x).sort((a, b) => a - b);
  const out = ["V1.4", "CP1", `PQ${PRINT_QUALITY.join("-")}`];
  if (dpi.length > 0) out.push(`RS${dpi.join("-")}`);
  if (caps.colorSpaces.includes("sgray_8")) out.push("W8");
  if (caps.colorSpaces.includes("srgb_8")) out.push("SRGB24");
  return out;
}

// The largest sheet, in Bonjour Printing's PaperMax steps.
function paperMax(caps: EngineCapabilities): string {
  const widest = caps.media.reduce((w, m) => Math.max(w, Math.min(m.widthMicrons, m.heightMicrons)), 0);
  const longest = caps.media.reduce((h, m) => Math.max(h, Math.max(m.widthMicrons, m.heightMicrons)), 0);
  // Short and long edges of legal/A4, tabloid/A3 and ISO C/A2, in microns.
  if (widest <= 216_000 && longest <= 356_000) return "<legal-A4";
  if (widest <= 297_000 && longest <= 432_000) return "tabloid-A3";
  if (widest <= 458_000 && longest <= 648_000) return "isoC-A2";
  return ">isoC-A2";
}

// The keys AirPrint adds to the _ipp._tcp TXT record (Bonjour Printing 1.2
// and Apple's AirPrint requirements): URF only when image/urf is offered, air
// "none" since the printer asks for no credentials, and the capabilities it
// lacks said plainly rather than left to each client's default.
export function airPrintTxt(caps: EngineCapabilities, formats: string[]): Array<[string, string]> {
  if (!formats.includes(URF_MIME)) return [];
  return [
    ["URF", urfSupported(caps).join(",")],
    ["air", "none"],
    ["PaperMax", paperMax(caps)],
    ["Copies", "F"],
    ["Scan", "F"],
    ["Fax", "F"],
  ];
}
