import { JOURNAL_KEYS } from "../device/keys.js";
import type { Clock, TimerId } from "../hal/clock.js";
import type { Log } from "../hal/log.js";
import type { Storage } from "../hal/storage.js";
import type { HttpResponse } from "../http/client.js";
import type { Job, JobCause } from "../jobs/job.js";
import type { Admission } from "../print/admission.js";
import type { JobEvent, JobLifecycle } from "../print/lifecycle.js";
import type { Spooler } from "../print/spooler.js";
import type { CloudApi, CloudJob, CloudResult } from "./api.js";
import { ResponseSource } from "./document.js";
import type { Json } from "./values.js";

// The printer's side of the cloud's job queue (cloud-print-service.md §5):
// fetch, then for each job in order the ticket (checked as createjob checks
// one), the document streamed into the same print path as a local job, and
// state reports (/control with semantic_state_diff) that follow the job's
// lifecycle events. One cloud job is handled at a time; while a local job
// prints, the cloud job waits in the service's queue (QUEUED there).

export interface CloudPrintPath {
  lifecycle: JobLifecycle;
  spooler: Spooler;
  // Whether the engine is free: the print layer's one decision; the cloud
  // waits on it for a local job to end.
  admission: Admission;
  // The parsed ticket, or why this printer cannot honour it.
  checkTicket(text: string): Record<string, unknown> | string;
  // The Accept header of a download: the types the print path takes.
  accept: string;
}

export interface CloudJobsOptions {
  // Tries of one download before the job is reported ABORTED; a failure
  // after pages came out is not retried (they would print twice).
  downloadAttempts: number;
  // The wait before the second try, doubled for each next one.
  downloadRetryMs: number;
}

export const DEFAULT_CLOUD_JOBS_OPTIONS: CloudJobsOptions = {
  downloadAttempts: 3,
  downloadRetryMs: 2_000,
};

export interface CloudJobsDeps {
  api: CloudApi;
  clock: Clock;
  log: Log;
  print: CloudPrintPath;
  // The journal: the id of the cloud job in hand survives a power cut here.
  storage?: Storage;
  printerId(): string;
  // A call with the access token, refreshed on a 403 (the Cloud's).
  authorized<T>(call: (token: string) => Promise<CloudResult<T>>): Promise<CloudResult<T>>;
}

// reported: the job is done with here; skipped: nothing new happened (no
// need to fetch again for it); stop: leave the rest for the next round.
type Outcome = "reported" | "skipped" | "stop";

// Finished jobs remembered, with their last report: a job whose report
// never reached the service is still QUEUED there and must not print twice.
const FINISHED_KEPT = 10;

// Made fresh at each use, never module constants: on the board a preloaded
// module's objects live in flash, and XS's JSON.stringify marks each object it
// visits, so stringifying one of them throws "read only value".
const downloadFailure = (): JobCause => ({ device_action_cause: { error_code: "DOWNLOAD_FAILURE" } });
const invalidTicket = (): JobCause => ({ device_action_cause: { error_code: "INVALID_TICKET" } });
const cancelled = (): JobCause => ({ user_action_cause: { action_code: "CANCELLED" } });

// The cloud job printing when the power went (NVS keys: 15 characters with the journal's suffix).
const IN_HAND_KEY = JOURNAL_KEYS.cloudJob;
// Not printed again after a restart: the document was streamed, never kept,
// so printing it again means downloading it again, and the pages that came
// out before the cut would come out twice. The service hears it ABORTED, and
// the person who sent it can send it again knowing what they got.
const restarted = (): Json => ({ state: { type: "ABORTED", device_action_cause: { error_code: "OTHER" } } });
const RESTARTED_MESSAGE = "The printer restarted (power cut or crash) while printing this job; it was not finished.";

// The cloud job printing now. withdrawn: the service said it no longer
// wants it, so its end is not reported (there is nothing left to report to).
interface InHand { cloud: CloudJob; local: Job; withdrawn: boolean }

export class CloudJobs {
  readonly options: CloudJobsOptions;
  private running = false;
  private again = false;
  private stopped = true;
  private waitTimer: TimerId | undefined;
  private wake: (() => void) | undefined;
  // Reports of the job in hand go out in order, one after the other.
  private reports: Promise<unknown> = Promise.resolve();
  private readonly finished: Array<{ id: string; diff: Json }> = [];
  private inHand: InHand | undefined;
  private checking = false;

  constructor(private readonly deps: CloudJobsDeps, options: Partial<CloudJobsOptions> = {}) {
    this.options = { ...DEFAULT_CLOUD_JOBS_OPTIONS, ...options };
  }

  start(): void {
    this.stopped = false;
  }

  stop(): void {
    this.stopped = true;
    this.again = false;
    this.wakeUp();
  }

  // Jobs may be waiting (a push, the channel online, startup): fetch now, or
  // once more after the round under way.
  due(): void {
    if (this.stopped) return;
    // On XS an unhandled rejection aborts the whole device: whatever goes
    // wrong in a round is logged, and the next push or check tries again.
    this.checkInHand().catch((error: unknown) => this.deps.log("warn", `cloud jobs: checking the job in hand failed: ${String(error)}`));
    if (this.running) {
      this.again = true;
      return;
    }
    this.run().catch((error: unknown) => this.deps.log("warn", `cloud jobs: a round failed: ${String(error)}`));
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      do {
        this.again = false;
        const printerId = this.deps.printerId();
        if (printerId === "") break;
        if (!(await this.settleInterrupted())) break;
        const fetched = await this.deps.authorized((token) => this.deps.api.fetch(printerId, token));
        if (this.stopped) break;
        if (!fetched.ok) {
          // The next push, reconnection or check fetches again.
          this.deps.log("info", `cloud jobs: fetch failed: ${fetched.failure.message}`);
          break;
        }
        for (const job of fetched.value) {
          if (this.stopped || this.deps.printerId() !== printerId) break;
          const outcome = await this.handle(job);
          if (outcome === "stop") break;
          // Jobs handled here are no longer QUEUED at the service: look again
          // afterwards for any that came in meanwhile ([C] querymore).
          if (outcome === "reported") this.again = true;
        }
      } while (this.again && !this.stopped);
    } finally {
      this.running = false;
    }
  }

  // A push (or poll) while a job prints may be about that very job: the
  // service sends the same "look at your jobs" when its owner deletes or
  // aborts it. A progress report (pages so far, no state) asks whether the
  // service still takes reports on it; a refusal (deleted: unknown job;
  // aborted by a person: a finished one) means it is no longer wanted, and
  // it is aborted here like any other job, between two bands of the engine.
  private async checkInHand(): Promise<void> {
    const hand = this.inHand;
    if (!hand || this.checking) return;
    this.checking = true;
    try {
      this.deps.print.spooler.refresh();
      const diff: Json = { pages_printed: hand.local.pagesPrinted };
      const answer = await this.deps.authorized((token) => this.deps.api.control(hand.cloud.id, token, diff));
      if (answer.ok || answer.failure.kind !== "refused" || this.inHand !== hand) return;
      hand.withdrawn = true;
      this.deps.log("info", `cloud job ${hand.cloud.id}: the service no longer has it (${answer.failure.message}); cancelling`);
      if (!this.deps.print.spooler.cancel(hand.local, "canceled at the cloud print service", cancelled())) {
        // The whole document is in the engine already: its pages are on their way, as for IPP's Cancel-Job.
        this.deps.log("info", `cloud job ${hand.cloud.id}: too late to stop; the engine finishes it`);
      }
    } finally {
      this.checking = false;
    }
  }

  // A job the journal says was in hand at the last start never finished:
  // the service hears it ABORTED before anything new is fetched. False when
  // the service could not be told; the journal keeps it for the next round.
  private async settleInterrupted(): Promise<boolean> {
    const storage = this.deps.storage;
    const id = storage?.read(IN_HAND_KEY);
    if (!storage || id === undefined) return true;
    const answer = await this.deps.authorized((token) => this.deps.api.control(id, token, restarted(), [["message", RESTARTED_MESSAGE]]));
    if (this.stopped) return false;
    // Refused: deleted or finished at the service meanwhile; nothing to settle.
    if (!answer.ok && answer.failure.kind !== "refused") {
      this.deps.log("info", `cloud job ${id}: interrupted by a restart; reporting it failed (${answer.failure.message}), trying again later`);
      return false;
    }
    this.deps.log("info", `cloud job ${id}: interrupted by a restart; reported ABORTED${answer.ok ? "" : ` (${answer.failure.message})`}`);
    storage.remove(IN_HAND_KEY);
    return true;
  }

  private async handle(job: CloudJob): Promise<Outcome> {
    const { api, print, log } = this.deps;
    const done = this.finished.find((entry) => entry.id === job.id);
    if (done) {
      // Handled here already; only the report went missing. Send it again,
      // but do not fetch again for it (a service refusing it must not make
      // the printer spin).
      log("info", `cloud job ${job.id}: finished here before; reporting it again`);
      await this.report(job, done.diff);
      return "skipped";
    }
    const ticketText = await this.deps.authorized((token) => api.ticket(job.id, token));
    if (this.stopped) return "stop";
    if (!ticketText.ok) {
      // Unreachable: the job stays queued at the service for the next round.
      if (ticketText.failure.kind === "offline" || ticketText.failure.kind === "auth" || ticketText.failure.kind === "revoked") return "stop";
      return this.final(job, { state: { type: "ABORTED", ...invalidTicket() } }, `the ticket could not be had: ${ticketText.failure.message}`);
    }
    const ticket = print.checkTicket(ticketText.value);
    if (typeof ticket === "string") return this.final(job, { state: { type: "ABORTED", ...invalidTicket() } }, `ticket refused: ${ticket}`);

    // IN_PROGRESS goes to the service once, however many tries the download takes.
    const progress = { reported: false };
    for (let attempt = 1; ; attempt++) {
      if (!(await this.idle())) return "stop";
      const download = await this.deps.authorized((token) => api.download(job.fileUrl, token, print.accept));
      if (this.stopped) {
        if (download.ok) download.value.abort();
        return "stop";
      }
      if (!download.ok) {
        // 415: the service cannot make a document this printer takes; trying again will not help.
        if (download.failure.kind !== "refused" && attempt < this.options.downloadAttempts) {
          log("info", `cloud job ${job.id}: download failed (${download.failure.message}); try ${attempt + 1} of ${this.options.downloadAttempts} soon`);
          if (!(await this.sleep(this.options.downloadRetryMs * 2 ** (attempt - 1)))) return "stop";
          continue;
        }
        return this.final(job, { state: { type: "ABORTED", ...downloadFailure() } }, `download failed: ${download.failure.message}`);
      }
      if (print.admission.check()?.why === "busy") {
        // A local job took the printer while the head was on its way.
        download.value.abort();
        attempt--;
        continue;
      }
      const hand: InHand = { cloud: job, local: undefined!, withdrawn: false };
      const end = await this.print(job, download.value, ticket, progress, hand);
      this.deps.storage?.remove(IN_HAND_KEY);
      if (hand.withdrawn) {
        this.deps.log("info", `cloud job ${job.id}: ${end.to} after the service withdrew it; not reported`);
        this.finished.push({ id: job.id, diff: {} });
        if (this.finished.length > FINISHED_KEPT) this.finished.shift();
        return "reported";
      }
      const broken = end.to === "aborted" && end.cause?.device_action_cause?.error_code === "DOWNLOAD_FAILURE";
      if (broken && end.pagesPrinted === 0 && attempt < this.options.downloadAttempts && !this.stopped) {
        log("info", `cloud job ${job.id}: the download broke off before any page (${end.job.description ?? ""}); try ${attempt + 1} of ${this.options.downloadAttempts} soon`);
        if (!(await this.sleep(this.options.downloadRetryMs * 2 ** (attempt - 1)))) return "stop";
        continue;
      }
      const diff: Json = end.to === "done"
        ? { state: { type: "DONE" }, pages_printed: end.pagesPrinted }
        : { state: { type: "ABORTED", ...(end.cause ?? { device_action_cause: { error_code: "OTHER" } }) }, pages_printed: end.pagesPrinted };
      return this.final(job, diff, end.to === "done" ? `done, ${end.pagesPrinted} page(s)` : `aborted: ${end.job.description ?? ""}`);
    }
  }

  // The document into the print path as a local job; resolves with the
  // job's last event (done or aborted). The reports follow its events.
  private print(cloudJob: CloudJob, response: HttpResponse, ticket: Record<string, unknown>, progress: { reported: boolean }, hand: InHand): Promise<JobEvent> {
    const { lifecycle, spooler } = this.deps.print;
    return new Promise((resolve) => {
      const source = new ResponseSource(response);
      const job = lifecycle.createQueued(ticket);
      job.jobName = cloudJob.title;
      job.jobType = (response.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase() || undefined;
      job.jobSize = response.contentLength;
      job.serverJobId = cloudJob.id;
      job.origin = "cloud";
      hand.local = job;
      this.inHand = hand;
      // Written before the first page can come out.
      this.deps.storage?.write(IN_HAND_KEY, cloudJob.id);
      const unlisten = lifecycle.listen((event) => {
        if (event.job !== job) return;
        if (event.to === "in_progress") {
          // A resume after a stop says it again.
          if (!progress.reported || event.from === "stopped") this.report(cloudJob, { state: { type: "IN_PROGRESS" } });
          progress.reported = true;
        } else if (event.to === "stopped") {
          this.report(cloudJob, { state: { type: "STOPPED", ...(event.cause ?? { device_state_cause: { error_code: "OTHER" } }) } });
        } else if (event.to === "done" || event.to === "aborted") {
          unlisten();
          if (this.inHand === hand) this.inHand = undefined;
          // The rest of an aborted document is not wanted.
          if (event.to === "aborted") source.close();
          resolve(event);
        }
      });
      this.deps.log("info", `cloud job ${cloudJob.id}: printing as job ${job.id}`);
      spooler.start(job, source, () => {});
    });
  }

  private report(job: CloudJob, diff: Json): Promise<unknown> {
    this.reports = this.reports.then(async () => {
      const answer = await this.deps.authorized((token) => this.deps.api.control(job.id, token, diff));
      if (!answer.ok) this.deps.log("warn", `cloud job ${job.id}: report ${JSON.stringify(diff)} failed: ${answer.failure.message}`);
    });
    return this.reports;
  }

  private async final(job: CloudJob, diff: Json, why: string): Promise<Outcome> {
    this.deps.log("info", `cloud job ${job.id}: ${why}`);
    await this.report(job, diff);
    this.finished.push({ id: job.id, diff });
    if (this.finished.length > FINISHED_KEPT) this.finished.shift();
    return "reported";
  }

  // Resolves true once the engine is free, false when stopped first: the
  // device state's change when a local job ends wakes it, not a timer.
  private async idle(): Promise<boolean> {
    if (this.stopped) return false;
    const wait = this.deps.print.admission.whenFree();
    this.wake = wait.cancel;
    const free = await wait.done;
    if (this.wake === wait.cancel) this.wake = undefined;
    return free && !this.stopped;
  }

  private sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve(false);
      this.wake = () => resolve(false);
      this.waitTimer = this.deps.clock.setTimer(() => {
        this.waitTimer = undefined;
        this.wake = undefined;
        resolve(!this.stopped);
      }, ms);
    });
  }

  private wakeUp(): void {
    if (this.waitTimer !== undefined) this.deps.clock.clearTimer(this.waitTimer);
    this.waitTimer = undefined;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
