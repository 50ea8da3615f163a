import type { IppExchange } from "./exchange.js";
import type { IppJob, IppJobIds } from "./job-ids.js";
import { Status, find, firstInteger, firstString } from "../ipp-codec/values.js";

// Which printer or job a request is about (RFC 8011 4.1.5): printer-uri,
// plus job-id for a job, or job-uri alone.

export const PRINTER_PATH = "/ipp/print";

export function uriPath(value: string): string | undefined {
  const match = /^(?:ipps?|https?):\/\/[^/?#]+(\/[^?#]*)?/i.exec(value);
  return match ? (match[1] ?? "/") : undefined;
}

// The printer-uri is present and names this printer; otherwise the request
// is answered and false returned.
export function checkPrinterUri(exchange: IppExchange): boolean {
  const value = firstString(find(exchange.operation, "printer-uri"));
  if (value === undefined) {
    exchange.respond(Status.badRequest, [], "printer-uri is missing");
    return false;
  }
  if (uriPath(value) !== PRINTER_PATH) {
    exchange.respond(Status.notFound, [], `${value} is not a printer here; use ${exchange.printerUri}`);
    return false;
  }
  return true;
}

// The job a job operation names, or undefined once the request is answered.
export function targetJob(exchange: IppExchange, ids: IppJobIds): IppJob | undefined {
  const jobUri = firstString(find(exchange.operation, "job-uri"));
  let id: number | undefined;
  if (jobUri !== undefined) {
    const path = uriPath(jobUri);
    const match = path === undefined ? null : /^\/ipp\/print\/([0-9]{1,10})$/.exec(path);
    if (!match) {
      exchange.respond(Status.notFound, [], `${jobUri} is not a job here`);
      return undefined;
    }
    id = Number(match[1]);
  } else {
    if (!checkPrinterUri(exchange)) return undefined;
    id = firstInteger(find(exchange.operation, "job-id"));
    if (id === undefined) {
      exchange.respond(Status.badRequest, [], "job-id (or job-uri) is missing");
      return undefined;
    }
  }
  const job = ids.byId(id);
  if (!job) exchange.respond(Status.notFound, [], `job ${id} is unknown or has expired`);
  return job;
}
