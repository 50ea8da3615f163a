import type { EngineCapabilities } from "../hal/engine.js";

// Cloud Job Tickets (CJT) from /privet/printer/createjob: parsed with limits
// and checked against what the CDD offers. Unknown items are ignored, as
// Privet asks, so newer clients keep working.

export const MAX_TICKET_BYTES = 16 * 1024;
const MAX_DEPTH = 32;
// A media size within a millimetre of an offered one is that one.
const MEDIA_TOLERANCE_MICRONS = 1000;

// JSON.parse recurses per nesting level; on a device's small stack a hostile
// "[[[[..." could overflow it, so depth is checked first, without recursion.
function depthWithin(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 || c === 91) { if (++depth > limit) return false; }
    else if (c === 125 || c === 93) depth--;
  }
  return true;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// Returns the parsed ticket, or a sentence saying what is wrong with it.
export function checkTicket(text: string, caps: EngineCapabilities): Record<string, unknown> | string {
  if (text.trim() === "") return "the ticket is empty";
  if (!depthWithin(text, MAX_DEPTH)) return `the ticket nests deeper than ${MAX_DEPTH} levels`;
  let ticket: unknown;
  try {
    ticket = JSON.parse(text);
  } catch {
    return "the ticket is not valid JSON";
  }
  if (!isObject(ticket)) return "the ticket is not a JSON object";
  if (ticket.version !== "1.0") return `unsupported ticket version ${JSON.stringify(ticket.version)}; expected "1.0"`;
  const print = ticket.print;
  if (print === undefined) return ticket;
  if (!isObject(print)) return "\"print\" is not an object";

  const color = print.color;
  if (color !== undefined) {
    if (!isObject(color)) return "\"color\" is not an object";
    const allowed = caps.colorSpaces.includes("srgb_8") ? ["STANDARD_COLOR", "STANDARD_MONOCHROME"] : ["STANDARD_MONOCHROME"];
    if (color.type !== undefined && !allowed.includes(color.type as string)) return `color ${JSON.stringify(color.type)} is not offered (${allowed.join(", ")})`;
  }
  const copies = print.copies;
  if (copies !== undefined) {
    if (!isObject(copies) || !Number.isInteger(copies.copies) || (copies.copies as number) < 1) return "\"copies\" must be {\"copies\": a whole number of at least 1}";
    if ((copies.copies as number) > 1) return "this printer prints one copy per job";
  }
  const media = print.media_size;
  if (media !== undefined) {
    if (!isObject(media)) return "\"media_size\" is not an object";
    const w = media.width_microns, h = media.height_microns;
    const match = caps.media.some((m) =>
      (typeof media.vendor_id === "string" && media.vendor_id === m.name) ||
      (typeof w === "number" && typeof h === "number" && Math.abs(w - m.widthMicrons) <= MEDIA_TOLERANCE_MICRONS && Math.abs(h - m.heightMicrons) <= MEDIA_TOLERANCE_MICRONS));
    if (!match) return `media size ${JSON.stringify(media)} is not offered (${caps.media.map((m) => m.name).join(", ")})`;
  }
  const dpi = print.dpi;
  if (dpi !== undefined) {
    if (!isObject(dpi)) return "\"dpi\" is not an object";
    if (!caps.resolutions.some((r) => r.x === dpi.horizontal_dpi && r.y === dpi.vertical_dpi)) {
      return `resolution ${dpi.horizontal_dpi} x ${dpi.vertical_dpi} dpi is not offered (${caps.resolutions.map((r) => `${r.x} x ${r.y}`).join(", ")})`;
    }
  }
  const orientation = print.page_orientation;
  if (orientation !== undefined) {
    if (!isObject(orientation) || !["PORTRAIT", "LANDSCAPE", "AUTO"].includes(orientation.type as string)) return "\"page_orientation\" must be PORTRAIT, LANDSCAPE or AUTO";
  }
  return ticket;
}
