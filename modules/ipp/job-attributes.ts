import type { Job } from "../jobs/job.js";
import { ippTicket, type IppJob } from "./job-ids.js";
import { ticketAttributes } from "./ticket.js";
import { attr, dateTime, enumValue, integer, keyword, mimeType, name, noValue, text, unknownValue, uri, type IppAttribute, type IppValue } from "../ipp-codec/values.js";

// A job as IPP describes it (RFC 8011 5.3): job-state and its reasons from
// the one lifecycle's state, times in printer-up-time seconds, pages from
// what the engine reported.

export const JobStateEnum = { pending: 3, held: 4, processing: 5, stopped: 6, canceled: 7, aborted: 8, completed: 9 } as const;

export function jobState(job: Job): number {
  switch (job.state) {
    case "draft": return JobStateEnum.pending;
    case "queued": return JobStateEnum.pending;
    case "in_progress": return JobStateEnum.processing;
    case "stopped": return JobStateEnum.stopped;
    case "done": return JobStateEnum.completed;
    case "aborted": return canceled(job) ? JobStateEnum.canceled : JobStateEnum.aborted;
  }
}

export function canceled(job: Job): boolean {
  return job.cause?.user_action_cause?.action_code === "CANCELLED";
}

export function completed(job: Job): boolean {
  return job.state === "done" || job.state === "aborted";
}

export function jobStateReasons(job: Job): string[] {
  switch (job.state) {
    // Made by Create-Job (or Privet's createjob): waiting for its document.
    case "draft": return ["job-incoming"];
    case "queued": return ["job-queued"];
    case "in_progress": return ["job-printing"];
    case "stopped": return ["printer-stopped"];
    case "done": return ["job-completed-successfully"];
    case "aborted":
      if (canceled(job)) return ["job-canceled-by-user"];
      if (job.cause?.device_action_cause?.error_code === "PRINT_FAILURE") return ["aborted-by-system", "document-format-error"];
      return ["aborted-by-system"];
  }
}

// Attributes of the job-template group and the rest (job-description and
// job-status), for requested-attributes.
const TEMPLATE = ["copies", "media", "media-col", "sides", "print-color-mode", "print-quality", "printer-resolution", "print-scaling", "orientation-requested"];

// Which attributes a request asked for: its names, with the group names
// 'all', 'job-template' and 'job-description' expanded.
export function wantsJobAttribute(requested: string[] | undefined, attrName: string): boolean {
  if (!requested) return true;
  if (requested.includes("all") || requested.includes(attrName)) return true;
  const template = TEMPLATE.includes(attrName);
  return template ? requested.includes("job-template") : requested.includes("job-description");
}

export interface JobUris {
  printerUri: string;
  jobUri(id: number): string;
}

// printer-up-time now, and the wall clock at a given up-time (undefined
// while a board has not learned the time: date-time-* are then 'unknown').
export interface JobTimes {
  upTime(): number;
  wallAt(upTime: number): number | undefined;
}

// PWG 5100.14 Table 9 asks for job-uuid. The store's job id is random and
// lives as long as the job, so the uuid is made from it and the IPP job-id
// rather than kept in a field every job would carry on the board.
export function jobUuid(entry: IppJob): string {
  const hex = (entry.job.id.toLowerCase().replace(/[^0-9a-f]/g, "") + "0".repeat(12)).slice(0, 12);
  const id = ("0000000" + entry.id.toString(16)).slice(-8);
  return `urn:uuid:${id}-0000-4000-8000-${hex}`;
}

export function jobAttributes(entry: IppJob, uris: JobUris, times: JobTimes, requested: string[] | undefined): IppAttribute[] {
  const job = entry.job;
  const upTime = times.upTime();
  // no-value for an event yet to happen; unknown when the clock is not set.
  const dateAt = (at: number | undefined): IppValue => {
    if (at === undefined) return noValue();
    const wall = times.wallAt(at);
    return wall === undefined ? unknownValue() : dateTime(wall);
  };
  const all: IppAttribute[] = [
    attr("job-id", integer(entry.id)),
    attr("job-uri", uri(uris.jobUri(entry.id))),
    attr("job-printer-uri", uri(uris.printerUri)),
    attr("job-uuid", uri(jobUuid(entry))),
    attr("job-name", name(job.jobName ?? "Untitled")),
    attr("job-originating-user-name", name(job.userName ?? "anonymous")),
    attr("job-state", enumValue(jobState(job))),
    attr("job-state-reasons", ...jobStateReasons(job).map(keyword)),
    attr("job-state-message", text(job.description ?? "")),
    attr("job-printer-up-time", integer(upTime)),
    attr("time-at-creation", integer(entry.createdAt)),
    attr("time-at-processing", entry.processingAt === undefined ? noValue() : integer(entry.processingAt)),
    attr("time-at-completed", entry.completedAt === undefined ? noValue() : integer(entry.completedAt)),
    attr("date-time-at-creation", dateAt(entry.createdAt)),
    attr("date-time-at-processing", dateAt(entry.processingAt)),
    attr("date-time-at-completed", dateAt(entry.completedAt)),
    attr("number-of-documents", integer(entry.hasDocument ? 1 : 0)),
    attr("number-of-intervening-jobs", integer(0)),
    // The document is streamed, never counted ahead: its size in impressions
    // is known once it has printed whole.
    attr("job-impressions", job.state === "done" ? integer(job.pagesPrinted) : noValue()),
    attr("job-impressions-completed", integer(job.pagesPrinted)),
    // One-sided: a sheet is an impression.
    attr("job-media-sheets-completed", integer(job.pagesPrinted)),
  ];
  if (job.jobSize !== undefined) all.push(attr("job-k-octets", integer(Math.ceil(job.jobSize / 1024))));
  if (job.jobType !== undefined) all.push(attr("document-format-supplied", mimeType(job.jobType)));
  const ticket = ippTicket(job);
  if (ticket) all.push(...ticketAttributes(ticket));
  return all.filter((a) => wantsJobAttribute(requested, a.name));
}
