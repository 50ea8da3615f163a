import type { EngineCapabilities } from "../hal/engine.js";
import { allMarginsSupported, mediaCol, mediaColDatabase, mediaName, mediaSizeValue, MEDIA_SOURCE, MEDIA_TYPE } from "./media.js";
import { CONTENT_OPTIMIZE, ORIENTATION, PRINT_QUALITY, PRINT_SCALING, RENDERING_INTENT, TEMPLATE_ATTRIBUTES, colorModes, defaultColorMode } from "./ticket.js";
import {
  Operation, attr, boolean, charset, dateTime, enumValue, integer, keyword, language, mimeType, name, octets, range,
  resolution, text, unknownValue, uri, type IppAttribute, type IppValue,
} from "../ipp-codec/values.js";
import { utf8Encode } from "../text/utf8.js";
import { ICON_SIZES } from "./icon.js";
import { URF_MIME, urfSupported } from "./airprint.js";

// Get-Printer-Attributes (RFC 8011 5.4, PWG 5100.14 5.1/5.2): what the
// printer is and what it takes, built from the engine's capabilities (the
// same source as Privet's CDD) and its state, only for the attributes asked
// for, so a small request costs little on the board.

export interface PrinterFacts {
  caps: EngineCapabilities;
  formats: string[];
  name: string;
  info: string;
  location: string;
  manufacturer: string;
  model: string;
  firmware: string;
  // urn:uuid:...
  uuid: string;
  dnsSdName: string;
  printerUri: string;
  // The printer's own web pages (http://host:port/).
  webUri: string;
  state: number;
  stateReasons: string[];
  stateMessage: string;
  accepting: boolean;
  queuedJobs: number;
  upTime: number;
  stateChangeTime: number;
  configChangeTime: number;
  // Wall-clock ms for a given printer-up-time, undefined while the clock is not set.
  wallAt(upTime: number): number | undefined;
  mediaEmpty: boolean;
  identifyActions: string[];
  multipleOperationTimeout: number;
  maxCopies: number;
}

export const PrinterState = { idle: 3, processing: 4, stopped: 5 } as const;

const OPERATIONS = [
  Operation.printJob, Operation.validateJob, Operation.createJob, Operation.sendDocument, Operation.cancelJob,
  Operation.getJobAttributes, Operation.getJobs, Operation.getPrinterAttributes, Operation.cancelMyJobs,
  Operation.closeJob, Operation.identifyPrinter,
];

type Group = "template" | "description" | "database";
type Builder = (facts: PrinterFacts) => IppValue[];

function keywords(values: string[]): IppValue[] {
  return values.map(keyword);
}

function outputBin(facts: PrinterFacts): string {
  return facts.caps.media.some((m) => m.continuous) ? "face-up" : "face-down";
}

function dateOrUnknown(facts: PrinterFacts, upTime: number): IppValue {
  const wall = facts.wallAt(upTime);
  return wall === undefined ? unknownValue() : dateTime(wall);
}

// PWG 5101.1 / RFC 8011 order does not matter; grouping does, for
// requested-attributes' 'job-template' and 'printer-description'.
const ATTRIBUTES: Array<[string, Group, Builder]> = [
  // ---- job template: defaults and what is supported ----
  ["copies-default", "template", () => [integer(1)]],
  ["copies-supported", "template", (f) => [range(1, f.maxCopies)]],
  ["media-default", "template", (f) => [keyword(mediaName(f.caps.media[0]))]],
  ["media-supported", "template", (f) => f.caps.media.map((m) => keyword(mediaName(m)))],
  ["media-ready", "template", (f) => f.caps.media.map((m) => keyword(mediaName(m)))],
  ["media-col-default", "template", (f) => [mediaCol(f.caps.media[0])]],
  // Every size is loaded in both its forms, so ready is the whole database.
  ["media-col-ready", "template", (f) => mediaColDatabase(f.caps.media)],
  ["media-col-supported", "template", () => keywords(["media-size", "media-bottom-margin", "media-left-margin", "media-right-margin", "media-top-margin", "media-source", "media-type"])],
  ["media-col-database", "database", (f) => mediaColDatabase(f.caps.media)],
  ["media-size-supported", "template", (f) => f.caps.media.map(mediaSizeValue)],
  ["media-bottom-margin-supported", "template", (f) => allMarginsSupported(f.caps.media).map(integer)],
  ["media-left-margin-supported", "template", (f) => allMarginsSupported(f.caps.media).map(integer)],
  ["media-right-margin-supported", "template", (f) => allMarginsSupported(f.caps.media).map(integer)],
  ["media-top-margin-supported", "template", (f) => allMarginsSupported(f.caps.media).map(integer)],
  ["media-source-supported", "template", () => [keyword(MEDIA_SOURCE)]],
  ["media-type-supported", "template", () => [keyword(MEDIA_TYPE)]],
  ["sides-default", "template", () => [keyword("one-sided")]],
  ["sides-supported", "template", () => [keyword("one-sided")]],
  ["print-color-mode-default", "template", (f) => [keyword(defaultColorMode(f.caps))]],
  ["print-color-mode-supported", "template", (f) => keywords(colorModes(f.caps))],
  ["print-quality-default", "template", () => [enumValue(4)]],
  ["print-quality-supported", "template", () => PRINT_QUALITY.map(enumValue)],
  ["printer-resolution-default", "template", (f) => [resolution(f.caps.resolutions[0].x, f.caps.resolutions[0].y)]],
  ["printer-resolution-supported", "template", (f) => f.caps.resolutions.map((r) => resolution(r.x, r.y))],
  ["print-scaling-default", "template", () => [keyword("auto")]],
  ["print-scaling-supported", "template", () => keywords(PRINT_SCALING)],
  ["orientation-requested-default", "template", () => [enumValue(ORIENTATION[0])]],
  ["orientation-requested-supported", "template", () => ORIENTATION.map(enumValue)],
  ["print-content-optimize-default", "template", () => [keyword(CONTENT_OPTIMIZE[0])]],
  ["print-content-optimize-supported", "template", () => keywords(CONTENT_OPTIMIZE)],
  ["print-rendering-intent-default", "template", () => [keyword(RENDERING_INTENT[0])]],
  ["print-rendering-intent-supported", "template", () => keywords(RENDERING_INTENT)],
  // No finisher: 'none' (3) is the one finishing.
  ["finishings-default", "template", () => [enumValue(3)]],
  ["finishings-supported", "template", () => [enumValue(3)]],
  // A roll comes out printed side up; sheets stack face down.
  ["output-bin-default", "template", (f) => [keyword(outputBin(f))]],
  ["output-bin-supported", "template", (f) => [keyword(outputBin(f))]],

  // ---- printer description and status ----
  ["charset-configured", "description", () => [charset("utf-8")]],
  ["charset-supported", "description", () => [charset("utf-8")]],
  ["natural-language-configured", "description", () => [language("en")]],
  ["generated-natural-language-supported", "description", () => [language("en")]],
  ["ipp-versions-supported", "description", () => keywords(["1.1", "2.0"])],
  ["ipp-features-supported", "description", () => [keyword("ipp-everywhere")]],
  ["operations-supported", "description", () => OPERATIONS.map(enumValue)],
  ["compression-supported", "description", () => [keyword("none")]],
  ["document-format-default", "description", (f) => [mimeType(f.formats[0])]],
  ["document-format-supported", "description", (f) => f.formats.map(mimeType)],
  ["pdl-override-supported", "description", () => [keyword("not-attempted")]],
  ["printer-get-attributes-supported", "description", () => [keyword("document-format")]],
  ["multiple-document-jobs-supported", "description", () => [boolean(false)]],
  ["multiple-operation-time-out", "description", (f) => [integer(f.multipleOperationTimeout)]],
  ["multiple-operation-time-out-action", "description", () => [keyword("abort-job")]],
  // A printer-description attribute (PWG 5100.11), though it names job template ones.
  ["job-creation-attributes-supported", "description", () => keywords([...TEMPLATE_ATTRIBUTES, "ipp-attribute-fidelity", "job-name"])],
  ["job-ids-supported", "description", () => [boolean(true)]],
  ["preferred-attributes-supported", "description", () => [boolean(false)]],
  ["which-jobs-supported", "description", () => keywords(["completed", "not-completed", "all"])],
  ["color-supported", "description", (f) => [boolean(f.caps.colorSpaces.includes("srgb_8"))]],
  ["identify-actions-default", "description", (f) => [keyword(f.identifyActions[0])]],
  ["identify-actions-supported", "description", (f) => keywords(f.identifyActions)],
  ["pwg-raster-document-resolution-supported", "description", (f) => f.caps.resolutions.map((r) => resolution(r.x, r.y))],
  ["pwg-raster-document-type-supported", "description", (f) => keywords(f.caps.colorSpaces)],
  ["pwg-raster-document-sheet-back", "description", () => [keyword("normal")]],
  ["urf-supported", "description", (f) => (f.formats.includes(URF_MIME) ? keywords(urfSupported(f.caps)) : [])],
  ["printer-name", "description", (f) => [name(f.name)]],
  ["pages-per-minute", "description", (f) => (f.caps.pagesPerMinute ? [integer(f.caps.pagesPerMinute)] : [])],
  ["pages-per-minute-color", "description", (f) => (f.caps.pagesPerMinute && f.caps.colorSpaces.includes("srgb_8") ? [integer(f.caps.pagesPerMinute)] : [])],
  ["printer-info", "description", (f) => [text(f.info)]],
  ["printer-location", "description", (f) => [text(f.location)]],
  ["printer-make-and-model", "description", (f) => [text(`${f.manufacturer} ${f.model}`)]],
  ["printer-device-id", "description", (f) => [text(`MFG:${f.manufacturer};MDL:${f.model};CMD:PWGRaster;`)]],
  ["printer-firmware-name", "description", () => [name("firmware")]],
  ["printer-firmware-string-version", "description", (f) => [text(f.firmware)]],
  ["printer-dns-sd-name", "description", (f) => [name(f.dnsSdName)]],
  ["printer-organization", "description", () => [text("")]],
  ["printer-organizational-unit", "description", () => [text("")]],
  ["printer-geo-location", "description", () => [unknownValue()]],
  ["printer-uuid", "description", (f) => [uri(f.uuid)]],
  ["printer-uri-supported", "description", (f) => [uri(f.printerUri)]],
  ["uri-security-supported", "description", () => [keyword("none")]],
  ["uri-authentication-supported", "description", () => [keyword("none")]],
  ["printer-more-info", "description", (f) => [uri(f.webUri)]],
  ["printer-supply-info-uri", "description", (f) => [uri(f.webUri)]],
  ["printer-icons", "description", (f) => ICON_SIZES.map((size) => uri(`${f.webUri}ipp/icon-${size}.png`))],
  // The one supply the engine knows of is paper, and only whether it is out
  // (Printer MIB: level -3 is "some remains", capacity -2 is unknown).
  ["printer-supply", "description", (f) => [octets(utf8Encode(`index=1;class=supplyThatIsConsumed;type=other;unit=other;maxcapacity=-2;level=${f.mediaEmpty ? 0 : -3};`))]],
  ["printer-supply-description", "description", () => [text("Paper")]],
  ["printer-is-accepting-jobs", "description", (f) => [boolean(f.accepting)]],
  ["printer-state", "description", (f) => [enumValue(f.state)]],
  ["printer-state-reasons", "description", (f) => keywords(f.stateReasons)],
  ["printer-state-message", "description", (f) => [text(f.stateMessage)]],
  ["queued-job-count", "description", (f) => [integer(f.queuedJobs)]],
  ["printer-up-time", "description", (f) => [integer(f.upTime)]],
  ["printer-current-time", "description", (f) => [dateOrUnknown(f, f.upTime)]],
  ["printer-state-change-time", "description", (f) => [integer(f.stateChangeTime)]],
  ["printer-state-change-date-time", "description", (f) => [dateOrUnknown(f, f.stateChangeTime)]],
  ["printer-config-change-time", "description", (f) => [integer(f.configChangeTime)]],
  ["printer-config-change-date-time", "description", (f) => [dateOrUnknown(f, f.configChangeTime)]],
];

export const PRINTER_ATTRIBUTE_NAMES = ATTRIBUTES.map(([attrName]) => attrName);

// requested-attributes (RFC 8011 4.2.5.1): 'all' is every attribute but
// media-col-database, which PWG 5100.7 has sent only when named, as it can
// be large; 'job-template' and 'printer-description' are the two halves.
// The attributes asked for, one at a time, so a caller can encode each and
// let its objects go before the next is built (the board's heap is small).
export function forEachPrinterAttribute(facts: PrinterFacts, requested: string[] | undefined, visit: (attribute: IppAttribute) => void): void {
  const all = requested === undefined || requested.includes("all");
  for (const [attrName, group, build] of ATTRIBUTES) {
    const wanted = requested?.includes(attrName)
      || (group === "template" && (all || requested!.includes("job-template")))
      || (group === "description" && (all || requested!.includes("printer-description")));
    if (!wanted) continue;
    // An attribute the printer has no value for is left out, not sent empty.
    const values = build(facts);
    if (values.length > 0) visit(attr(attrName, ...values));
  }
}
