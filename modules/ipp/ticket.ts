import type { EngineCapabilities, MediaSize } from "../hal/engine.js";
import { MEDIA_SOURCE, MEDIA_TYPE, defaultMargins, marginsSupported, mediaBySize, mediaName, mediaSizeValue, type Margins } from "./media.js";
import { DOTS_PER_INCH, attr, collection, enumValue, integer, keyword, resolution, unsupportedValue, ValueTag, type IppAttribute, type IppGroup, type IppValue } from "../ipp-codec/values.js";

// A job's template attributes (RFC 8011 5.2, PWG 5100.7, 5100.13) checked
// against what the engine can do. What is not supported goes back to the
// client in the unsupported-attributes group; with ipp-attribute-fidelity
// the job is refused, without it the printer's default is used instead.

export interface JobTicket {
  media: MediaSize;
  // Only when the job's media-col names them: a job that names none gets the
  // whole sheet, which this engine can print.
  margins?: Margins;
  colorMode: string;
  resolution: { x: number; y: number };
  quality: number;
  printScaling: string;
  orientation: number;
  // More than 1 only for a format the printer makes copies of (maxCopies);
  // a document too long to keep brings it back to 1.
  copies: number;
}

// The most copies a job may ask for where the printer keeps documents for copies at all.
export const MAX_COPIES = 99;

// The formats whose further copies the printer makes itself, from the kept
// document. Raster (PWG, Apple's URF) is left to the client, as every raster
// client already does: CUPS sends copies=1 with raster and repeats the pages
// in the stream, iOS does so where copies-supported is 1-1. Offering copies
// for raster would trade that for a copy that silently goes missing when a
// many-page raster outgrows the buffer. A JPEG is one photo, usually far
// smaller than the buffer, and no raster client made it.
export const FORMATS_WITH_COPIES = ["image/jpeg"];

// copies-supported's upper bound for a document format (undefined: the job
// does not say yet, as in Create-Job, so the most any format takes; the
// document's own format then settles it). A printer that keeps no document
// (the board) prints one.
export function maxCopies(copiesBufferBytes: number, format: string | undefined): number {
  if (copiesBufferBytes <= 0) return 1;
  return format === undefined || FORMATS_WITH_COPIES.includes(format) ? MAX_COPIES : 1;
}

export const PRINT_SCALING = ["auto", "auto-fit", "fill", "fit", "none"];
export const PRINT_QUALITY = [3, 4, 5];
export const ORIENTATION = [3];
export const CONTENT_OPTIMIZE = ["auto"];
export const RENDERING_INTENT = ["auto"];
// The job template attributes a job may carry; every other one is unsupported.
export const TEMPLATE_ATTRIBUTES = [
  "copies", "media", "media-col", "sides", "print-color-mode", "print-quality", "printer-resolution", "print-scaling",
  "orientation-requested", "print-content-optimize", "print-rendering-intent",
];
const MEDIA_COL_MEMBERS = ["media-size", "media-bottom-margin", "media-left-margin", "media-right-margin", "media-top-margin", "media-source", "media-type", "media-size-name"];

export function colorModes(caps: EngineCapabilities): string[] {
  const modes = ["auto"];
  if (caps.colorSpaces.includes("srgb_8")) modes.push("color");
  if (caps.colorSpaces.includes("sgray_8")) modes.push("monochrome");
  if (caps.colorSpaces.includes("black_1")) modes.push("bi-level");
  return modes;
}

export function defaultColorMode(caps: EngineCapabilities): string {
  return caps.colorSpaces.includes("srgb_8") ? "color" : caps.colorSpaces.includes("sgray_8") ? "monochrome" : "bi-level";
}

export function defaultTicket(caps: EngineCapabilities): JobTicket {
  return {
    media: caps.media[0],
    colorMode: defaultColorMode(caps),
    resolution: caps.resolutions[0],
    quality: 4,
    printScaling: "auto",
    orientation: 3,
    copies: 1,
  };
}

export interface TicketCheck {
  ticket: JobTicket;
  unsupported: IppAttribute[];
}

const KEYWORD_TAGS: number[] = [ValueTag.keyword, ValueTag.name, ValueTag.nameWithLanguage];

function single(attribute: IppAttribute): IppValue | undefined {
  return attribute.values.length === 1 ? attribute.values[0] : undefined;
}

function keywordOf(attribute: IppAttribute): string | undefined {
  const value = single(attribute);
  return value && (value.kind === "string" || value.kind === "language") && KEYWORD_TAGS.includes(value.tag) ? value.value : undefined;
}

function integerOf(attribute: IppAttribute, tag: number): number | undefined {
  const value = single(attribute);
  return value && value.kind === "integer" && value.tag === tag ? value.value : undefined;
}

function member(value: IppValue, memberName: string): IppAttribute | undefined {
  return value.kind === "collection" ? value.members.find((m) => m.name === memberName) : undefined;
}

// media-col: the size must be one the engine has; margins, source and type
// must be the ones it offers.
function mediaFromCol(caps: EngineCapabilities, attribute: IppAttribute): { media: MediaSize; margins?: Margins } | undefined {
  const value = single(attribute);
  if (!value || value.kind !== "collection") return undefined;
  if (value.members.some((m) => !MEDIA_COL_MEMBERS.includes(m.name))) return undefined;
  let media: MediaSize | undefined = caps.media[0];
  const size = member(value, "media-size");
  if (size) {
    const sizeValue = single(size);
    if (!sizeValue) return undefined;
    const x = member(sizeValue, "x-dimension");
    const y = member(sizeValue, "y-dimension");
    const xv = x && integerOf(x, ValueTag.integer);
    const yv = y && integerOf(y, ValueTag.integer);
    if (xv === undefined || yv === undefined) return undefined;
    media = mediaBySize(caps.media, xv, yv);
  }
  const sizeName = member(value, "media-size-name");
  if (sizeName) {
    const named = caps.media.find((m) => mediaName(m) === keywordOf(sizeName));
    if (!named || (size && named !== media)) return undefined;
    media = named;
  }
  if (!media) return undefined;
  // A margin left out is the size's default one.
  const margins = defaultMargins(media);
  let marginsNamed = false;
  for (const edge of ["bottom", "left", "right", "top"] as const) {
    const m = member(value, `media-${edge}-margin`);
    if (!m) continue;
    const v = integerOf(m, ValueTag.integer);
    if (v === undefined || !marginsSupported(media).includes(v)) return undefined;
    margins[edge] = v;
    marginsNamed = true;
  }
  const source = member(value, "media-source");
  if (source && keywordOf(source) !== MEDIA_SOURCE) return undefined;
  const type = member(value, "media-type");
  if (type && keywordOf(type) !== MEDIA_TYPE) return undefined;
  return marginsNamed ? { media, margins } : { media };
}

export function checkTicket(caps: EngineCapabilities, jobGroup: IppGroup | undefined, copiesSupported = 1): TicketCheck {
  const ticket = defaultTicket(caps);
  const unsupported: IppAttribute[] = [];
  const refuse = (attribute: IppAttribute) => unsupported.push(attribute);
  for (const attribute of jobGroup?.attributes ?? []) {
    switch (attribute.name) {
      case "copies": {
        const copies = integerOf(attribute, ValueTag.integer);
        if (copies !== undefined && copies >= 1 && copies <= copiesSupported) ticket.copies = copies;
        else refuse(attribute);
        break;
      }
      case "sides":
        if (keywordOf(attribute) !== "one-sided") refuse(attribute);
        break;
      case "media": {
        const media = caps.media.find((m) => mediaName(m) === keywordOf(attribute));
        if (media) ticket.media = media;
        else refuse(attribute);
        break;
      }
      case "media-col": {
        const col = mediaFromCol(caps, attribute);
        if (col) {
          ticket.media = col.media;
          ticket.margins = col.margins;
        } else refuse(attribute);
        break;
      }
      case "print-color-mode": {
        const mode = keywordOf(attribute);
        if (mode !== undefined && colorModes(caps).includes(mode)) ticket.colorMode = mode === "auto" ? defaultColorMode(caps) : mode;
        else refuse(attribute);
        break;
      }
      case "print-quality": {
        const quality = integerOf(attribute, ValueTag.enum);
        if (quality !== undefined && PRINT_QUALITY.includes(quality)) ticket.quality = quality;
        else refuse(attribute);
        break;
      }
      case "printer-resolution": {
        const value = single(attribute);
        const found = value && value.kind === "resolution" && value.units === DOTS_PER_INCH ? caps.resolutions.find((r) => r.x === value.x && r.y === value.y) : undefined;
        if (found) ticket.resolution = found;
        else refuse(attribute);
        break;
      }
      case "print-scaling": {
        const scaling = keywordOf(attribute);
        if (scaling !== undefined && PRINT_SCALING.includes(scaling)) ticket.printScaling = scaling;
        else refuse(attribute);
        break;
      }
      case "orientation-requested": {
        const orientation = integerOf(attribute, ValueTag.enum);
        if (orientation !== undefined && ORIENTATION.includes(orientation)) ticket.orientation = orientation;
        else refuse(attribute);
        break;
      }
      case "print-content-optimize":
        if (!CONTENT_OPTIMIZE.includes(keywordOf(attribute) ?? "")) refuse(attribute);
        break;
      case "print-rendering-intent":
        if (!RENDERING_INTENT.includes(keywordOf(attribute) ?? "")) refuse(attribute);
        break;
      default:
        // An attribute this printer does not know at all (RFC 8011 4.1.7).
        unsupported.push(attr(attribute.name, unsupportedValue()));
    }
  }
  return { ticket, unsupported };
}

// The ticket as job template attributes, for Get-Job-Attributes.
export function ticketAttributes(ticket: JobTicket): IppAttribute[] {
  return [
    attr("copies", integer(ticket.copies)),
    attr("media", keyword(mediaName(ticket.media))),
    attr("media-col", collection([attr("media-size", mediaSizeValue(ticket.media))])),
    attr("sides", keyword("one-sided")),
    attr("print-color-mode", keyword(ticket.colorMode)),
    attr("print-quality", enumValue(ticket.quality)),
    attr("printer-resolution", resolution(ticket.resolution.x, ticket.resolution.y)),
    attr("print-scaling", keyword(ticket.printScaling)),
    attr("orientation-requested", enumValue(ticket.orientation)),
  ];
}
