import { randomUUID } from "node:crypto";
import { atLeast, isDevice, roleOf } from "./access.js";
import { ERR, fail, ok, type Answer, type ApiCall, type Context } from "./context.js";
import { ConversionError, plan, pwgFor, PWG } from "./conversion.js";
import { lookupPrinter } from "./printers.js";
import type { JobRecord, Subject } from "./store.js";
import { jobView, legacyStatus, queuedJobs } from "./views.js";

// Jobs (reference 1.1 and 5): submit, jobs, fetch, ticket, control, deletejob and the
// fileUrl download. Documents are kept as submitted and converted for the printer when it
// downloads them (conversion.ts); what cannot be converted is a 415, as the service answered.

const STATES = ["DRAFT", "HELD", "QUEUED", "IN_PROGRESS", "STOPPED", "DONE", "ABORTED"];
const FINAL = ["DONE", "ABORTED"];
const MAX_TITLE = 1024;

function parseJsonObject(text: string, name: string): Record<string, unknown> | string {
  try {
    const value = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch { /* answered below */ }
  return `${name} is not a JSON object`;
}

// ABORTED and STOPPED need a cause (reference 5.5).
function checkState(state: unknown): string | undefined {
  if (typeof state !== "object" || state === null) return "state is missing";
  const s = state as Record<string, unknown>;
  if (typeof s.type !== "string" || !STATES.includes(s.type)) return `state.type must be one of ${STATES.join(", ")}`;
  const causes = ["device_state_cause", "device_action_cause", "user_action_cause", "service_action_cause"];
  if ((s.type === "ABORTED" || s.type === "STOPPED") && !causes.some((c) => c in s)) return `${s.type} needs a cause`;
  return undefined;
}

function dataUrl(text: string): { type: string; bytes: Buffer } | undefined {
  const match = /^data:([^;,]*)(;base64)?,(.*)$/s.exec(text.trim());
  if (!match) return undefined;
  try {
    const bytes = match[2] ? Buffer.from(match[3], "base64") : Buffer.from(decodeURIComponent(match[3]), "utf8");
    return { type: match[1] || "text/plain", bytes };
  } catch {
    return undefined;
  }
}

export function submit(ctx: Context, call: ApiCall): Answer {
  const { params } = call;
  const found = lookupPrinter(ctx, call, params.get("printerid"), "USER");
  if ("refusal" in found) return found.refusal;
  const printer = found.printer;
  const subject = call.principal!.subject;
  const title = params.get("title") ?? "Untitled";
  if (title.length > MAX_TITLE) return fail(ERR.badRequest, `title is longer than ${MAX_TITLE} characters`);
  const tags = params.all("tag");
  if (tags.length > 100 || tags.some((t) => t.length > 1024)) return fail(ERR.badRequest, "too many or too long tags");

  let ticket: unknown = null;
  const ticketText = params.get("ticket");
  if (ticketText !== undefined) {
    const parsed = parseJsonObject(ticketText, "ticket");
    if (typeof parsed === "string") return fail(ERR.badRequest, parsed);
    ticket = parsed;
  } else if (params.get("capabilities") !== undefined) {
    // GCP 1.x sent its settings as `capabilities`; kept as they came.
    const legacy = params.get("capabilities")!;
    const parsed = parseJsonObject(legacy, "capabilities");
    ticket = typeof parsed === "string" ? legacy : parsed;
  }

  const now = ctx.now();
  const job: JobRecord = {
    id: randomUUID(), printerId: printer.id, ownerId: subject.kind === "user" ? subject.email : printer.ownerId!, title, contentType: "", size: 0, ticket, tags,
    semanticState: { version: "1.0", state: { type: "QUEUED" }, delivery_attempts: 0 },
    numberOfPages: 0, message: "", errorCode: "", createTime: now, updateTime: now,
  };
  const contentType = params.get("contentType") ?? "";

  const finalText = params.get("final_semantic_state");
  if (finalText !== undefined) {
    // A job the printer already printed locally, reported so it shows in the user's history (Privet 5.2 note).
    const parsed = parseJsonObject(finalText, "final_semantic_state");
    if (typeof parsed === "string") return fail(ERR.badRequest, parsed);
    const problem = checkState(parsed.state);
    if (problem) return fail(ERR.badRequest, `final_semantic_state: ${problem}`);
    const type = (parsed.state as Record<string, unknown>).type as string;
    if (!FINAL.includes(type)) return fail(ERR.badRequest, "final_semantic_state must be DONE or ABORTED");
    job.contentType = contentType;
    job.semanticState = { ...parsed, version: "1.0", state: parsed.state as Record<string, unknown>, delivery_attempts: 0 };
    if (typeof parsed.pages_printed === "number") job.numberOfPages = parsed.pages_printed;
  } else {
    const content = params.file("content");
    if (!content) return fail(ERR.badRequest, "Missing parameter: content.");
    if (contentType === "") return fail(ERR.badRequest, "Missing parameter: contentType.");
    let bytes = content.data;
    let type = contentType;
    if (contentType === "dataUrl") {
      const decoded = dataUrl(bytes.toString("latin1"));
      if (!decoded) return fail(ERR.badRequest, "content is not a data: URL");
      ({ bytes, type } = decoded);
    } else if (contentType === "url") {
      return fail(ERR.unsupported, "The emulator does not fetch documents from URLs; send the content.");
    } else if (!/^[\w.+-]+\/[\w.+*-]+$/.test(contentType)) {
      return fail(ERR.badRequest, "contentType must be a MIME type, dataUrl or url");
    }
    job.contentType = type;
    job.size = bytes.length;
    job.document = ctx.store.saveDocument(bytes);
  }
  ctx.store.state.jobs[job.id] = job;
  ctx.commit();
  if (job.semanticState.state.type === "QUEUED") ctx.notify(printer.id, printer.id);
  return ok({ job: jobView(ctx, job) }, "Print job added.");
}

// A job taken away from its printer (deleted, or aborted by a person) may be
// printing there now. The reference names no push of its own for this, so the
// printer hears the one every device acts on, "look at your jobs" (<printerid>,
// reference 3.2 step 8), and finds its job in hand gone at its next /control.
// Call it with the job as it was before it was taken away.
export function withdrawn(ctx: Context, job: JobRecord): void {
  if (!FINAL.includes(String(job.semanticState.state.type))) ctx.notify(job.printerId, job.printerId);
}

// A job is the business of whoever submitted it, of the printer it is for, and of those who
// manage that printer; a shared USER sees only their own.
function jobVisible(ctx: Context, job: JobRecord, subject: Subject): boolean {
  const printers = ctx.store.state.printers;
  const printer = Object.hasOwn(printers, job.printerId) ? printers[job.printerId] : undefined;
  if (subject.kind === "user" && job.ownerId === subject.email) return true;
  return printer !== undefined && atLeast(roleOf(printer, subject), "MANAGER");
}

function lookupJob(ctx: Context, call: ApiCall): { job: JobRecord } | { refusal: Answer } {
  const id = call.params.get("jobid") ?? call.params.get("id");
  if (!id) return { refusal: fail(ERR.badRequest, "Missing parameter: jobid.") };
  const jobs = ctx.store.state.jobs;
  const job = Object.hasOwn(jobs, id) ? jobs[id] : undefined;
  if (!job) return { refusal: fail(ERR.notFound, "Unknown job id.") };
  const subject = call.principal!.subject;
  const printer = ctx.store.state.printers[job.printerId];
  if (!jobVisible(ctx, job, subject)) return { refusal: fail(ERR.forbidden, "User is not authorized.") };
  if (isDevice(subject) && printer) printer.robotSeenAt = ctx.now();
  return { job };
}

export function jobs(ctx: Context, call: ApiCall): Answer {
  const { params } = call;
  const subject = call.principal!.subject;
  const printerId = params.get("printerid");
  const owner = params.get("owner")?.toLowerCase();
  const status = params.get("status")?.toUpperCase();
  const q = params.get("q")?.toLowerCase();
  const found = Object.values(ctx.store.state.jobs).filter((job) => {
    if (!jobVisible(ctx, job, subject)) return false;
    if (printerId !== undefined && job.printerId !== printerId) return false;
    if (owner !== undefined && job.ownerId !== owner) return false;
    const type = String(job.semanticState.state.type);
    if (status !== undefined && type !== status && legacyStatus(type) !== status) return false;
    if (q !== undefined && q !== "" && ![job.title, ...job.tags].some((s) => s.toLowerCase().includes(q))) return false;
    return true;
  }).sort((a, b) => b.createTime - a.createTime);
  return ok({ jobs: found.map((j) => jobView(ctx, j)), jobsCount: found.length, range: { jobsCount: found.length, jobsTotal: found.length, offset: 0 } });
}

export function fetchJobs(ctx: Context, call: ApiCall): Answer {
  const noJobs = fail(ERR.noJobs, "No print job available on specified printer.");
  const found = lookupPrinter(ctx, call, call.params.get("printerid"));
  // The real service answered an unknown printer exactly like an empty queue.
  if ("refusal" in found) return found.refusal.body.errorCode === ERR.notFound ? noJobs : found.refusal;
  const queued = queuedJobs(ctx, found.printer.id);
  if (queued.length === 0) return noJobs;
  for (const job of queued) job.semanticState.delivery_attempts += 1;
  ctx.commit();
  return ok({ jobs: queued.map((j) => jobView(ctx, j)) }, `${queued.length} print job(s) available.`);
}

export function ticket(ctx: Context, call: ApiCall): Answer {
  const found = lookupJob(ctx, call);
  if ("refusal" in found) return found.refusal;
  const cjt = found.job.ticket;
  // The answer is the CJT itself, with no success envelope (reference 1.1, [G] Ticket).
  const body = typeof cjt === "object" && cjt !== null ? cjt as Record<string, unknown> : { version: "1.0", print: {} };
  const { params } = call;
  const legacy = params.get("use_cjt") !== "true" && (params.get("output") === "xml" || params.get("format") === "xps");
  return { status: 200, body: legacy ? legacyTicket(body) : body, raw: true };
}

// The job's ticketUrl as a GCP 1.x connector read it: it made every top-level key a CUPS
// option, so the settings are flat strings there, never the nested CJT. A ticket submitted the
// 1.x way (capabilities, no print section) was already flat and goes back as it came.
export function legacyTicket(ticket: Record<string, unknown>): Record<string, unknown> {
  const print = ticket.print;
  if (typeof print !== "object" || print === null) return ticket.version === "1.0" ? { copies: "1", duplex: "NO_DUPLEX" } : ticket;
  const item = (name: string) => (print as Record<string, unknown>)[name] as Record<string, unknown> | undefined;
  const copies = item("copies")?.copies;
  const flat: Record<string, string> = {
    copies: String(Number.isInteger(copies) && (copies as number) > 0 ? copies : 1),
    duplex: typeof item("duplex")?.type === "string" ? item("duplex")!.type as string : "NO_DUPLEX",
  };
  // Without a color item the printer's default applies, which only the printer knows.
  const color = item("color");
  if (typeof color?.type === "string") flat.color = color.type;
  else if (typeof color?.vendor_id === "string") flat.color = color.vendor_id;
  return flat;
}

export function control(ctx: Context, call: ApiCall): Answer {
  const found = lookupJob(ctx, call);
  if ("refusal" in found) return found.refusal;
  const job = found.job;
  if (FINAL.includes(String(job.semanticState.state.type))) return fail(ERR.conflict, "Can't modify the finished job.");
  const { params } = call;
  const diffText = params.get("semantic_state_diff");
  const legacy = params.get("status");
  if (diffText !== undefined) {
    const diff = parseJsonObject(diffText, "semantic_state_diff");
    if (typeof diff === "string") return fail(ERR.badRequest, diff);
    if (diff.state !== undefined) {
      const problem = checkState(diff.state);
      if (problem) return fail(ERR.badRequest, `semantic_state_diff: ${problem}`);
      job.semanticState.state = diff.state as Record<string, unknown>;
    }
    if (diff.pages_printed !== undefined) {
      if (!Number.isInteger(diff.pages_printed) || (diff.pages_printed as number) < 0) return fail(ERR.badRequest, "pages_printed must be a whole number");
      job.semanticState.pages_printed = diff.pages_printed as number;
    }
  } else if (legacy !== undefined) {
    // GCP 1.x status onto the semantic state; ERROR is 1.x's ABORTED.
    const mapped: Record<string, Record<string, unknown>> = {
      QUEUED: { type: "QUEUED" },
      IN_PROGRESS: { type: "IN_PROGRESS" },
      DONE: { type: "DONE" },
      ERROR: { type: "ABORTED", device_action_cause: { error_code: "OTHER" } },
    };
    const state = mapped[legacy.toUpperCase()];
    if (!state) return fail(ERR.badRequest, "status must be QUEUED, IN_PROGRESS, DONE or ERROR");
    job.semanticState.state = state;
    const printed = params.get("pagesprinted");
    if (printed !== undefined && /^\d{1,9}$/.test(printed)) job.semanticState.pages_printed = Number(printed);
    const pages = params.get("numpages");
    if (pages !== undefined && /^\d{1,9}$/.test(pages)) job.numberOfPages = Number(pages);
    job.message = (params.get("message") ?? job.message).slice(0, 1024);
    job.errorCode = (params.get("code") ?? job.errorCode).slice(0, 64);
  } else {
    return fail(ERR.badRequest, "Missing parameter: semantic_state_diff (or the legacy status).");
  }
  // A free-text reason beside the semantic diff, which has no field for one.
  if (diffText !== undefined && params.get("message") !== undefined) job.message = params.get("message")!.slice(0, 1024);
  job.updateTime = ctx.now();
  ctx.commit();
  // Only a person's ABORTED is news to the printer; its own reports are not.
  if (call.principal!.subject.kind === "user" && FINAL.includes(String(job.semanticState.state.type))) ctx.notify(job.printerId, job.printerId);
  return ok({ job: jobView(ctx, job) }, "Print job updated successfully.");
}

export function deleteJob(ctx: Context, call: ApiCall): Answer {
  const found = lookupJob(ctx, call);
  if ("refusal" in found) return found.refusal;
  delete ctx.store.state.jobs[found.job.id];
  withdrawn(ctx, found.job);
  if (found.job.document) ctx.store.removeDocument(found.job.document);
  if (found.job.converted) ctx.store.removeDocument(found.job.converted.document);
  ctx.commit();
  return ok({}, "Print job deleted successfully.");
}

export async function download(ctx: Context, call: ApiCall): Promise<Answer> {
  const found = lookupJob(ctx, call);
  if ("refusal" in found) return found.refusal;
  const job = found.job;
  if (!job.document) return fail(ERR.notFound, "This job was printed locally and has no document.", 404);
  const printer = ctx.store.state.printers[job.printerId];
  if (!printer) return fail(ERR.notFound, "Unknown printer.", 404);
  const chosen = plan(job, printer, call.req.headers.accept, call.params.get("forcepwg") === "1");
  if ("refuse" in chosen) return fail(ERR.unsupported, chosen.refuse, 415);
  if (chosen.serve === "stored") return { status: 200, body: {}, contentType: job.contentType, bytes: ctx.store.readDocument(job.document) };
  try {
    const bytes = await pwgFor(ctx.store, job, chosen.settings, () => ctx.commit(), ctx.options.conversionTimeoutSeconds);
    return { status: 200, body: {}, contentType: PWG, bytes };
  } catch (error) {
    // The service's own failure to convert is still a 415 to the device, which aborts the job (reference 5.4).
    if (error instanceof ConversionError) return fail(ERR.unsupported, `Conversion to ${PWG} failed: ${error.message.slice(0, 300)}`, 415);
    throw error;
  }
}
