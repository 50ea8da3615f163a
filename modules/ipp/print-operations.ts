import type { Job } from "../jobs/job.js";
import type { IppExchange, Printing } from "./exchange.js";
import { OCTET_STREAM, defaultFormat } from "./formats.js";
import { canceled, completed, jobAttributes } from "./job-attributes.js";
import { ippTicket, type IppJob } from "./job-ids.js";
import { checkPrinterUri, targetJob } from "./target.js";
import { checkTicket, defaultTicket, maxCopies, type JobTicket } from "./ticket.js";
import {
  GroupTag, Status, attr, find, firstBoolean, firstString, integer, keyword, mimeType, type IppAttribute, type IppGroup,
} from "../ipp-codec/values.js";

// The operations that make jobs and give them documents (RFC 8011 4.2.1,
// 4.2.3, 4.2.4, 4.3.1; PWG 5100.11 Close-Job). Jobs are made through the
// one lifecycle and printed by the one spooler, as Privet's are, so the
// printer's three slots and its ring of finished jobs hold them all.

// Fresh per job: XS cannot stringify a preloaded module's objects (the cause reaches jobstate and cloud reports).
const cancelCause = () => ({ user_action_cause: { action_code: "CANCELLED" as const } });
// What the answer to a job-making operation describes of the job.
const JOB_SUMMARY = ["job-id", "job-uri", "job-state", "job-state-reasons", "job-state-message"];

interface Checked {
  ticket: JobTicket;
  unsupported: IppAttribute[];
  // successful-ok, or -ignored-or-substituted-attributes when something was.
  status: number;
}

function unsupportedGroup(attributes: IppAttribute[]): IppGroup {
  return { tag: GroupTag.unsupported, attributes };
}

function jobGroups(x: IppExchange, p: Printing, entry: IppJob, unsupported: IppAttribute[]): IppGroup[] {
  const job = jobAttributes(entry, { printerUri: x.printerUri, jobUri: (id) => x.jobUri(id) }, p.ids, JOB_SUMMARY);
  return [unsupportedGroup(unsupported), { tag: GroupTag.job, attributes: job }];
}

// document-format: one of the table's, the default when absent or
// application/octet-stream; otherwise the request is answered.
// Get-Printer-Attributes takes it too, to answer for that format.
export function documentFormat(x: IppExchange, p: Printing): string | undefined {
  const asked = firstString(find(x.operation, "document-format"));
  if (asked === undefined || asked === OCTET_STREAM) return defaultFormat(p.context.formats);
  const format = asked.toLowerCase();
  if (p.context.formats[format]) return format;
  x.respond(Status.documentFormatNotSupported, [unsupportedGroup([attr("document-format", mimeType(asked))])],
    `${asked} is not supported; send ${Object.keys(p.context.formats).join(" or ")}`);
  return undefined;
}

function compressionOk(x: IppExchange): boolean {
  const compression = firstString(find(x.operation, "compression"));
  if (compression === undefined || compression === "none") return true;
  x.respond(Status.compressionNotSupported, [unsupportedGroup([attr("compression", keyword(compression))])],
    `compression ${compression} is not supported`);
  return false;
}

// The job template checked against the engine (RFC 8011 4.1.7) and, for
// copies, against the document's format (undefined: not known yet).
function checkJob(x: IppExchange, p: Printing, format: string | undefined): Checked | undefined {
  const copies = maxCopies(p.context.copiesBufferBytes ?? 0, format);
  const { ticket, unsupported } = checkTicket(p.context.engine.capabilities, x.jobGroup, copies);
  if (unsupported.length > 0 && firstBoolean(find(x.operation, "ipp-attribute-fidelity")) === true) {
    x.respond(Status.attributesOrValuesNotSupported, [unsupportedGroup(unsupported)],
      `not supported: ${unsupported.map((a) => a.name).join(", ")}`);
    return undefined;
  }
  return { ticket, unsupported, status: unsupported.length > 0 ? Status.okIgnoredOrSubstituted : Status.ok };
}

function accepting(x: IppExchange, p: Printing): boolean {
  const refused = p.context.admission.check({ local: true, recordOnly: true, waitsOutFault: true });
  if (refused?.why !== "closed") return true;
  x.respond(Status.notAcceptingJobs, [], refused.description);
  return false;
}

// The engine and the spooler can take a document now, and it is not too large.
// Out of paper the job is taken and waits, stopped, with media-needed, until
// someone loads paper (RFC 8011 'stopped'; PWG self-cert I-20 expects the
// Print-Job taken); a jam or an open door must be seen to first.
function ready(x: IppExchange, p: Printing, format: string): boolean {
  const { admission, maxDocumentBytes } = p.context;
  const length = x.document.declaredLength;
  if (length !== undefined && length > maxDocumentBytes) {
    x.respond(Status.requestEntityTooLarge, [], `the document is ${length} bytes; this printer takes at most ${maxDocumentBytes}`);
    return false;
  }
  const refused = admission.check({ local: true, waitsOutFault: true, format });
  if (!refused) return true;
  x.respond(refused.why === "closed" ? Status.notAcceptingJobs : Status.busy, [], refused.description);
  return false;
}

// A document announced longer than the copies buffer prints once; with
// ipp-attribute-fidelity that is known to be refused before a byte is read.
function copiesFit(x: IppExchange, p: Printing, checked: Checked): boolean {
  const length = x.document.declaredLength;
  const bound = p.context.copiesBufferBytes ?? 0;
  if (checked.ticket.copies === 1 || length === undefined || length <= bound) return true;
  if (firstBoolean(find(x.operation, "ipp-attribute-fidelity")) !== true) return true;
  x.respond(Status.attributesOrValuesNotSupported, [unsupportedGroup([attr("copies", integer(checked.ticket.copies))])],
    `the document is ${length} bytes; copies are printed of documents up to ${bound}`);
  return false;
}

// The document is in; an engine that prints at once (the simulator's PNGs)
// ends the job a moment later. RFC 8011 4.2.1.2 answers the job-state as it
// is when the answer goes, so the answer waits that moment: a job that ends
// within it is answered completed, not 'processing' that is over before the
// client reads it (which sent PWG self-cert I-13 looking for a job no longer
// there). A slow engine's job is answered 'processing' after the wait, true
// then and for a while after.
const SETTLE_MS = 1000;

function whenSettled(p: Printing, job: Job, answer: () => void): void {
  whenOrAfter(p, () => completed(job), SETTLE_MS, answer);
}

// A document for a job that already exists (Send-Document) waits for the job
// printing before it, unread in the TCP window, as a queued job does on a
// printer that spools; Print-Job's clients retry server-error-busy, but
// Send-Document's job has been promised, and PWG self-cert I-18.1 takes no
// busy. Past the wait (a long job ahead) the answer is busy, as before.
const SEND_WAIT_MS = 60_000;

function whenFree(p: Printing, go: () => void): void {
  const spooler = p.context.spooler;
  // The spooler lets its job go before the job's last event is told.
  whenOrAfter(p, () => !spooler.active, SEND_WAIT_MS, go);
}

// Runs then once ready() holds after some job event, or after ms at the latest.
function whenOrAfter(p: Printing, ready: () => boolean, ms: number, then: () => void): void {
  if (ready()) return then();
  const { clock, lifecycle } = p.context;
  let pending = true;
  const settle = () => {
    if (!pending) return;
    pending = false;
    stop();
    clock.clearTimer(timer);
    then();
  };
  const stop = lifecycle.listen(() => {
    if (ready()) settle();
  });
  const timer = clock.setTimer(settle, ms);
}

function setOwner(x: IppExchange, job: Job): void {
  const jobName = firstString(find(x.operation, "job-name")) ?? firstString(find(x.operation, "document-name"));
  if (jobName !== undefined) job.jobName = jobName;
  if (x.user !== undefined) job.userName = x.user;
}

function print(x: IppExchange, p: Printing, entry: IppJob, format: string, checked: Checked): void {
  const job = entry.job;
  // An IPP job keeps its IPP ticket; a Privet draft keeps its CJT.
  if (job.origin === "ipp") job.ticket ??= checked.ticket;
  job.jobType = format;
  if (x.document.declaredLength !== undefined) job.jobSize = x.document.declaredLength;
  const decode = p.context.formats[format](checked.ticket);
  const ticket = checked.ticket;
  const maxBytes = p.context.copiesBufferBytes ?? 0;
  // Create-Job took copies before the format was known; a document whose
  // format the printer makes no copies of prints once, and says so.
  if (ticket.copies > maxCopies(maxBytes, format)) {
    checked = { ...checked, status: Status.okIgnoredOrSubstituted, unsupported: [...checked.unsupported, attr("copies", integer(ticket.copies))] };
    ticket.copies = 1;
  }
  const copies = { count: ticket.copies, maxBytes };
  p.context.spooler.start(job, x.document, (result) => {
    if (result.ok) {
      // The document outgrew the copies buffer: one copy printed. The answer
      // goes once the document is in, so it can still say so (as a
      // substitution: the printer took the job with its own value).
      if (result.copies === 1 && ticket.copies > 1) {
        checked = { ...checked, status: Status.okIgnoredOrSubstituted, unsupported: [...checked.unsupported, attr("copies", integer(ticket.copies))] };
        ticket.copies = 1;
      }
      const status = checked.status, unsupported = checked.unsupported;
      return whenSettled(p, job, () => x.respond(status, jobGroups(x, p, entry, unsupported)));
    }
    const groups = jobGroups(x, p, entry, checked.unsupported);
    if (canceled(job)) return x.respond(Status.jobCanceled, groups, "the job was canceled");
    x.respond(result.error === "invalid_document" ? Status.documentFormatError : Status.deviceError, groups, result.description);
  }, decode, copies);
}

export function validateJob(x: IppExchange, p: Printing): void {
  if (!checkPrinterUri(x)) return;
  const format = documentFormat(x, p);
  if (!format || !compressionOk(x)) return;
  const checked = checkJob(x, p, format);
  if (checked) x.respond(checked.status, [unsupportedGroup(checked.unsupported)]);
}

export function printJob(x: IppExchange, p: Printing): void {
  if (!checkPrinterUri(x) || !accepting(x, p)) return;
  const format = documentFormat(x, p);
  if (!format || !compressionOk(x)) return;
  const checked = checkJob(x, p, format);
  if (!checked || !ready(x, p, format) || !copiesFit(x, p, checked)) return;
  const job = p.context.lifecycle.createQueued();
  job.origin = "ipp";
  setOwner(x, job);
  print(x, p, p.ids.of(job)!, format, checked);
}

export function createJob(x: IppExchange, p: Printing): void {
  if (!checkPrinterUri(x) || !accepting(x, p)) return;
  // RFC 8011 leaves document-format to Send-Document; a client that names it
  // here already (as ipptool and PWG 5100.7 clients may) has copies checked for it.
  const named = firstString(find(x.operation, "document-format"))?.toLowerCase();
  const format = named === undefined || named === OCTET_STREAM ? undefined : p.context.formats[named] ? named : undefined;
  const checked = checkJob(x, p, format);
  if (!checked) return;
  const job = p.context.lifecycle.createDraft(checked.ticket);
  if (!job) return x.respond(Status.busy, [], "every job slot holds a job that is printing");
  job.origin = "ipp";
  setOwner(x, job);
  const entry = p.ids.of(job)!;
  x.respond(checked.status, jobGroups(x, p, entry, checked.unsupported));
}

// A job made by Create-Job (or Privet's createjob) that has no document yet.
function waiting(x: IppExchange, entry: IppJob): boolean {
  if (entry.job.state === "draft") return true;
  if (completed(entry.job)) x.respond(Status.notPossible, [], `job ${entry.id} is ${entry.job.state === "done" ? "completed" : "aborted or canceled"}`);
  else x.respond(Status.multipleDocumentJobsNotSupported, [], `job ${entry.id} already has its document`);
  return false;
}

// A job closed before any document came: there is nothing to print.
function closeEmpty(p: Printing, job: Job): void {
  p.context.lifecycle.abort(job, "closed without a document", { device_action_cause: { error_code: "OTHER" } });
  p.context.lifecycle.finish(job, 0);
}

export function sendDocument(x: IppExchange, p: Printing): void {
  const entry = targetJob(x, p.ids);
  if (!entry || !waiting(x, entry)) return;
  const last = firstBoolean(find(x.operation, "last-document"));
  if (last === undefined) return x.respond(Status.badRequest, [], "last-document is missing");
  if (x.document.noDocument) {
    if (last) closeEmpty(p, entry.job);
    return x.respond(Status.ok, jobGroups(x, p, entry, []));
  }
  const format = documentFormat(x, p);
  if (!format || !compressionOk(x)) return;
  whenFree(p, () => {
    // The job may have been canceled (or timed out) while its document waited.
    if (!waiting(x, entry) || !ready(x, p, format)) return;
    const ticket = ippTicket(entry.job) ?? defaultTicket(p.context.engine.capabilities);
    print(x, p, entry, format, { ticket, unsupported: [], status: Status.ok });
  });
}

export function closeJob(x: IppExchange, p: Printing): void {
  const entry = targetJob(x, p.ids);
  if (!entry) return;
  if (completed(entry.job)) return x.respond(Status.notPossible, [], `job ${entry.id} is already finished`);
  if (entry.job.state === "draft") closeEmpty(p, entry.job);
  x.respond(Status.ok, jobGroups(x, p, entry, []));
}

// Cancel-Job and Cancel-My-Jobs: a job without a document ends at once; one
// receiving its document is stopped by the spooler. undefined when done,
// otherwise why not.
export function cancelJob(p: Printing, entry: IppJob): string | undefined {
  const job = entry.job;
  if (completed(job)) return `job ${entry.id} is already ${job.state === "done" ? "completed" : "aborted or canceled"}`;
  if (job === p.context.spooler.active) {
    return p.context.spooler.cancel(job) ? undefined : `job ${entry.id} has all its pages in the engine`;
  }
  p.context.lifecycle.abort(job, "canceled by the user", cancelCause());
  p.context.lifecycle.finish(job, job.pagesPrinted);
  return undefined;
}
