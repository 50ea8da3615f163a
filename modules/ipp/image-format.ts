import type { EngineCapabilities, EngineColorSpace } from "../hal/engine.js";
import type { Cost } from "../http/turns.js";
import { jpegDocument, type ImagePlacement } from "../print/image-document.js";
import type { DecoderFactory } from "../print/source.js";
import { isBorderless } from "./media.js";
import type { JobTicket } from "./ticket.js";

// image/jpeg for IPP: the job's ticket (media, resolution, color mode,
// print-scaling) says where and how the photo lands on the page.

// print-color-mode to the page's color space. "auto" is colour where the
// engine has it; on a receipt roll it is black_1, dithered once here, which
// also keeps a turned phone photo within the orientation buffer.
function colorSpace(mode: string, caps: EngineCapabilities, roll: boolean): EngineColorSpace {
  const has = (space: EngineColorSpace) => caps.colorSpaces.includes(space);
  if (mode === "color" && has("srgb_8")) return "srgb_8";
  if (mode === "bi-level" && has("black_1")) return "black_1";
  if (mode === "monochrome" && has("sgray_8")) return "sgray_8";
  if (has("srgb_8") && mode === "auto") return "srgb_8";
  if (roll && has("black_1")) return "black_1";
  return has("sgray_8") ? "sgray_8" : caps.colorSpaces[0];
}

export function jpegPlacement(ticket: JobTicket, caps: EngineCapabilities): ImagePlacement {
  const { media, resolution } = ticket;
  const roll = media.continuous === true;
  const dots = (microns: number, dpi: number) => Math.round((microns / 25_400) * dpi);
  // Hundredths of a millimetre are 10 microns.
  const m = ticket.margins;
  return {
    scaling: ticket.printScaling as ImagePlacement["scaling"],
    widthDots: Math.min(caps.maxWidth, dots(media.widthMicrons, resolution.x)),
    heightDots: Math.min(caps.maxHeight, dots(media.heightMicrons, resolution.y)),
    xDpi: resolution.x,
    yDpi: resolution.y,
    colorSpace: colorSpace(ticket.colorMode, caps, roll),
    continuous: roll,
    borderless: m !== undefined && isBorderless(m),
    margins: m && {
      top: dots(m.top * 10, resolution.y), right: dots(m.right * 10, resolution.x),
      bottom: dots(m.bottom * 10, resolution.y), left: dots(m.left * 10, resolution.x),
    },
  };
}

// workingShare: the share of the device's memory budget a JPEG job holds.
export function jpegFormat(caps: EngineCapabilities, workingShare?: number | Cost): (ticket: JobTicket) => DecoderFactory {
  return (ticket) => {
    const factory: DecoderFactory = jpegDocument(jpegPlacement(ticket, caps));
    if (workingShare) factory.workingShare = workingShare;
    return factory;
  };
}
