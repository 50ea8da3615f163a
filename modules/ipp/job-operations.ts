import type { IppExchange, Printing } from "./exchange.js";
import { completed, jobAttributes, type JobUris } from "./job-attributes.js";
import type { IppJob } from "./job-ids.js";
import { cancelJob } from "./print-operations.js";
import { checkPrinterUri, targetJob } from "./target.js";
import { GroupTag, Status, attr, find, firstBoolean, firstInteger, firstString, keyword, type IppGroup } from "../ipp-codec/values.js";

// The operations on jobs that exist (RFC 8011 4.2.6, 4.3.3, 4.3.4; PWG
// 5100.11 Cancel-My-Jobs), over every job of the one queue, whichever front
// end made it.

const WHICH_JOBS = ["completed", "not-completed", "all"];
// RFC 8011 4.2.6.1: Get-Jobs answers these two unless asked for more.
const GET_JOBS_DEFAULT = ["job-id", "job-uri"];

function uris(x: IppExchange): JobUris {
  return { printerUri: x.printerUri, jobUri: (id) => x.jobUri(id) };
}

export function getJobAttributes(x: IppExchange, p: Printing): void {
  const entry = targetJob(x, p.ids);
  if (!entry) return;
  if (entry.job === p.context.spooler.active) p.context.spooler.refresh();
  x.respond(Status.ok, [{ tag: GroupTag.job, attributes: jobAttributes(entry, uris(x), p.ids, x.requested()) }]);
}

export function getJobs(x: IppExchange, p: Printing): void {
  if (!checkPrinterUri(x)) return;
  const which = firstString(find(x.operation, "which-jobs")) ?? "not-completed";
  if (!WHICH_JOBS.includes(which)) {
    return x.respond(Status.attributesOrValuesNotSupported, [{ tag: GroupTag.unsupported, attributes: [attr("which-jobs", keyword(which))] }],
      `which-jobs ${which} is not supported`);
  }
  const limit = firstInteger(find(x.operation, "limit"));
  const mine = firstBoolean(find(x.operation, "my-jobs")) === true;
  const ids = find(x.operation, "job-ids")?.values.flatMap((v) => (v.kind === "integer" ? [v.value] : []));
  p.context.spooler.refresh();
  const requested = x.requested() ?? GET_JOBS_DEFAULT;
  const groups: IppGroup[] = [];
  for (const entry of p.ids.list()) {
    if (limit !== undefined && limit > 0 && groups.length >= limit) break;
    if (ids && !ids.includes(entry.id)) continue;
    if (!ids && which !== "all" && completed(entry.job) !== (which === "completed")) continue;
    if (mine && entry.job.userName !== x.user) continue;
    groups.push({ tag: GroupTag.job, attributes: jobAttributes(entry, uris(x), p.ids, requested) });
  }
  x.respond(Status.ok, groups);
}

export function cancelJobOperation(x: IppExchange, p: Printing): void {
  const entry = targetJob(x, p.ids);
  if (!entry) return;
  const refused = cancelJob(p, entry);
  if (refused) x.respond(Status.notPossible, [], refused);
  else x.respond(Status.ok);
}

// The requesting user's jobs that are not finished (or those of job-ids).
export function cancelMyJobs(x: IppExchange, p: Printing): void {
  if (!checkPrinterUri(x)) return;
  const ids = find(x.operation, "job-ids")?.values.flatMap((v) => (v.kind === "integer" ? [v.value] : []));
  const mine = (entry: IppJob) => entry.job.userName !== undefined && entry.job.userName === x.user;
  const targets = p.ids.list().filter((e) => !completed(e.job) && mine(e) && (!ids || ids.includes(e.id)));
  if (ids && targets.length !== ids.length) {
    return x.respond(Status.notPossible, [], "some of job-ids are not this user's unfinished jobs");
  }
  const refused = targets.map((e) => cancelJob(p, e)).filter((r) => r !== undefined);
  if (refused.length > 0) x.respond(Status.notPossible, [], refused.join("; "));
  else x.respond(Status.ok);
}
