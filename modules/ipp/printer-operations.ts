import { printerStatus } from "./printer-status.js";
import type { IppExchange, Printing } from "./exchange.js";
import { defaultFormat } from "./formats.js";
import { completed } from "./job-attributes.js";
import { documentFormat } from "./print-operations.js";
import { forEachPrinterAttribute, type PrinterFacts } from "./printer-attributes.js";
import { checkPrinterUri } from "./target.js";
import { maxCopies } from "./ticket.js";
import { GroupTag, Status, attr, find, firstString, keyword } from "../ipp-codec/values.js";

// Get-Printer-Attributes (RFC 8011 4.2.5) and Identify-Printer (PWG 5100.13).

export function printerUuid(serialNumber: string): string {
  // The serial number is a UUID already (Privet's); anything else is
  // folded into one so the printer's uuid never changes with its name.
  const hex = serialNumber.toLowerCase().replace(/[^0-9a-f]/g, "");
  const digits = hex.length >= 32 ? hex.slice(0, 32) : (hex + "0".repeat(32)).slice(0, 32);
  return `urn:uuid:${digits.slice(0, 8)}-${digits.slice(8, 12)}-${digits.slice(12, 16)}-${digits.slice(16, 20)}-${digits.slice(20, 32)}`;
}

// format: the document format the answer is for (RFC 8011 4.2.5.1: what a
// job in it is checked against); the default format when none is named.
export function printerFacts(p: Printing, printerUri: string, webUri: string, format?: string): PrinterFacts {
  const { context } = p;
  const device = context.device();
  const status = printerStatus(context.state);
  const upTime = p.ids.upTime();
  const queued = p.ids.list().filter((e) => !completed(e.job)).length;
  return {
    caps: context.engine.capabilities,
    formats: Object.keys(context.formats),
    name: device.name,
    info: device.description || device.name,
    location: device.location,
    manufacturer: device.manufacturer,
    model: device.model,
    firmware: device.firmware,
    uuid: printerUuid(device.serialNumber),
    dnsSdName: device.name,
    printerUri,
    webUri,
    state: status.state,
    stateReasons: status.reasons,
    stateMessage: status.message,
    accepting: context.accepting(),
    queuedJobs: queued,
    upTime,
    stateChangeTime: status.changedAt,
    configChangeTime: 1,
    wallAt: (at) => p.ids.wallAt(at),
    mediaEmpty: context.state.fault?.code === "media-empty",
    identifyActions: context.identifyActions,
    multipleOperationTimeout: Math.floor(context.jobs.options.draftLifetimeMs / 1000),
    maxCopies: maxCopies(context.copiesBufferBytes ?? 0, format ?? defaultFormat(context.formats)),
  };
}

export function getPrinterAttributes(x: IppExchange, p: Printing): void {
  if (!checkPrinterUri(x)) return;
  // A format the printer does not take is answered as Print-Job would answer it.
  const format = documentFormat(x, p);
  if (!format) return;
  const facts = printerFacts(p, x.printerUri, x.webUri, format);
  // Made as the answer is written, twice (to count, then to write), so
  // only one attribute's objects live at a time and the ~5 KB answer is one
  // buffer, not a group's bytes and then a copy of them in the message. The
  // board's heap has no room for more while the cloud is reporting a job.
  const requested = x.requested();
  x.respond(Status.ok, [{ tag: GroupTag.printer, attributes: [], each: (visit) => forEachPrinterAttribute(facts, requested, visit) }]);
}

export function identifyPrinter(x: IppExchange, p: Printing): void {
  if (!checkPrinterUri(x)) return;
  const supported = p.context.identifyActions;
  const asked = find(x.operation, "identify-actions")?.values.flatMap((v) => (v.kind === "string" ? [v.value] : [])) ?? [];
  const unsupported = asked.filter((a) => !supported.includes(a));
  // Actions the printer lacks are ignored and named back (PWG 5100.13);
  // with none left it does its default.
  const actions = asked.filter((a) => supported.includes(a));
  p.context.identify(actions.length > 0 ? actions : [supported[0]], firstString(find(x.operation, "message")));
  if (unsupported.length === 0) return x.respond(Status.ok);
  x.respond(Status.okIgnoredOrSubstituted, [{ tag: GroupTag.unsupported, attributes: [attr("identify-actions", ...unsupported.map(keyword))] }]);
}
