import type { DecoderFactory } from "../print/source.js";
import type { JobTicket } from "./ticket.js";

// The documents IPP takes, as the printer assembles it: a MIME type and,
// for a job's ticket, the decoder that turns its bytes into page lines.
// document-format-supported, the default format and DNS-SD's pdl key all
// follow this table, so adding a format is one entry.
export type DocumentFormats = Record<string, (ticket: JobTicket) => DecoderFactory>;

// Clients that do not know the format say so; the printer's default is used.
export const OCTET_STREAM = "application/octet-stream";

export function defaultFormat(formats: DocumentFormats): string {
  const first = Object.keys(formats)[0];
  if (first === undefined) throw new Error("ipp: no document format is configured");
  return first;
}
