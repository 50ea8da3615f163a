import type { Clock } from "../hal/clock.js";
import type { PrintEngine } from "../hal/engine.js";
import { readSmallBody, type HttpRequest, type HttpResponse } from "../http/server.js";
import { jobStateDocument } from "../jobs/job.js";
import type { JobStore } from "../jobs/store.js";
import type { Admission, Refusal } from "../print/admission.js";
import type { JobLifecycle } from "../print/lifecycle.js";
import type { Spooler } from "../print/spooler.js";
import { utf8Decode } from "../text/utf8.js";
import type { PrivetRoute } from "./api.js";
import { cloudDeviceDescription } from "./cdd.js";
import { sendPrivetError } from "./errors.js";
import { MAX_TICKET_BYTES, checkTicket } from "./ticket.js";

// The printer APIs of Privet 4.5 and 5: capabilities, createjob, submitdoc
// and jobstate.

export interface PrintingContext {
  clock: Clock;
  engine: PrintEngine;
  jobs: JobStore;
  lifecycle: JobLifecycle;
  spooler: Spooler;
  // Whether a job may print now: the one decision of the print layer.
  admission: Admission;
  // Whether local printing is offered right now (Privet 4.1, 6.1).
  exposed(): boolean;
  maxDocumentBytes: number;
}

// What a client should wait before retrying while another job prints.
export const BUSY_RETRY_S = 10;
const PWG_RASTER = "image/pwg-raster";

// A refusal of the print layer in Privet's words.
function refuse(response: HttpResponse, refusal: Refusal): void {
  switch (refusal.why) {
    case "busy": return sendPrivetError(response, "printer_busy", refusal.description, BUSY_RETRY_S);
    case "format": return sendPrivetError(response, "invalid_document_type", refusal.description);
    // Local printing went away between the route's check and now (Privet 6.1).
    case "closed": return response.send(404, `${refusal.description}\n`);
    case "faulted": return sendPrivetError(response, "printer_error", refusal.description);
  }
}

export function printingRoutes(context: PrintingContext): PrivetRoute[] {
  const { engine, jobs, lifecycle, spooler, clock, admission } = context;
  const exposed = () => context.exposed();

  const capabilities: PrivetRoute = {
    path: "/privet/capabilities",
    method: "GET",
    exposed,
    // offline=1 gets the same answer: this printer's capabilities do not depend on the cloud.
    handle: (_request, response) => response.json(cloudDeviceDescription(engine.capabilities)),
  };

  const createjob: PrivetRoute = {
    path: "/privet/printer/createjob",
    method: "POST",
    exposed,
    handle: (request, response) => {
      const refused = admission.check({ local: true, recordOnly: true });
      if (refused) return refuse(response, refused);
      if (request.contentLength > MAX_TICKET_BYTES) return sendPrivetError(response, "invalid_ticket", `the ticket is larger than ${MAX_TICKET_BYTES} bytes`);
      readSmallBody(request, MAX_TICKET_BYTES, (body) => {
        if (response.sent) return;
        const ticket = checkTicket(utf8Decode(body ?? new Uint8Array(0)), engine.capabilities);
        if (typeof ticket === "string") return sendPrivetError(response, "invalid_ticket", ticket);
        const job = lifecycle.createDraft(ticket);
        if (!job) return sendPrivetError(response, "printer_busy", "every job slot holds a job that is printing", BUSY_RETRY_S);
        job.origin = "privet";
        response.json({ job_id: job.id, expires_in: Math.ceil((job.expiresAt - clock.monotonic()) / 1000) });
      });
    },
  };

  const submitdoc: PrivetRoute = {
    path: "/privet/printer/submitdoc",
    method: "POST",
    exposed,
    handle: (request, response) => submit(request, response),
  };

  function submit(request: HttpRequest, response: HttpResponse): void {
    const query = request.query;
    const jobId = query.job_id;
    const draft = jobId !== undefined ? jobs.draft(jobId) : undefined;
    if (jobId !== undefined && !draft) {
      return sendPrivetError(response, "invalid_print_job", `job ${JSON.stringify(jobId)} is unknown, already used or expired; create a new one`);
    }
    const contentType = (request.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (contentType !== PWG_RASTER) {
      return sendPrivetError(response, "invalid_document_type", `${contentType === "" ? "no Content-Type" : contentType} is not supported; send ${PWG_RASTER}`);
    }
    if (request.header("content-length") === undefined) {
      return sendPrivetError(response, "invalid_document", "a Content-Length header is required");
    }
    if (request.contentLength === 0) return sendPrivetError(response, "invalid_document", "the document is empty");
    if (request.contentLength > context.maxDocumentBytes) {
      return sendPrivetError(response, "document_too_large", `the document is ${request.contentLength} bytes; this printer takes at most ${context.maxDocumentBytes}`);
    }
    const refused = admission.check({ local: true, format: PWG_RASTER });
    if (refused) return refuse(response, refused);

    const job = draft ?? lifecycle.createQueued();
    job.origin = "privet";
    job.jobType = PWG_RASTER;
    job.jobSize = request.contentLength;
    if (query.job_name !== undefined) job.jobName = query.job_name;
    if (query.user_name !== undefined) job.userName = query.user_name;
    if (query.client_name !== undefined) job.clientName = query.client_name;
    spooler.start(job, request, (result) => {
      if (response.sent) return;
      if (!result.ok) return sendPrivetError(response, result.error, result.description);
      const answer: Record<string, unknown> = {
        job_id: job.id,
        expires_in: Math.ceil((job.expiresAt - clock.monotonic()) / 1000),
        job_type: job.jobType,
        job_size: job.jobSize,
      };
      if (job.jobName !== undefined) answer.job_name = job.jobName;
      response.json(answer);
    });
  }

  const jobstate: PrivetRoute = {
    path: "/privet/printer/jobstate",
    method: "GET",
    exposed,
    handle: (request, response) => {
      const id = request.query.job_id;
      if (id === undefined || id === "") return sendPrivetError(response, "invalid_params", "job_id is required");
      const job = jobs.find(id);
      if (!job) return sendPrivetError(response, "invalid_print_job", `job ${JSON.stringify(id)} is unknown or expired`);
      if (job === spooler.active) spooler.refresh();
      response.json(jobStateDocument(job, clock.monotonic()));
    },
  };

  return [capabilities, createjob, submitdoc, jobstate];
}
