import type { Clock, TimerId } from "../hal/clock.js";
import type { Log } from "../hal/log.js";
import type { Job } from "../jobs/job.js";
import type { JobEvent, JobLifecycle } from "../print/lifecycle.js";
import type { CloudApi, CloudResult } from "./api.js";
import type { Json } from "./values.js";

// What the printer tells the service beside its cloud jobs' reports:
// local jobs once finished (Privet 5.2's note, reference 5.6) so they show
// in the user's history, and, with /update as they change, the printer's
// semantic_state (idle, processing, stopped with the fault) and what a
// person may change on the printer itself (its name and description, and
// local_settings current: Privet 4.1.3 has the device confirm its settings).

export interface ReportsOptions {
  // At most one state /update per window; the state at its end wins.
  stateIntervalMs: number;
  // Tries of one local job's report before it is dropped with a warning.
  localJobAttempts: number;
  localJobRetryMs: number;
  // Finished local jobs waiting to be reported; beyond that the oldest go.
  localJobsKept: number;
}

export const DEFAULT_REPORTS_OPTIONS: ReportsOptions = {
  stateIntervalMs: 10_000,
  localJobAttempts: 3,
  localJobRetryMs: 30_000,
  localJobsKept: 10,
};

export interface ReportsDeps {
  api: CloudApi;
  clock: Clock;
  log: Log;
  printerId(): string;
  authorized<T>(call: (token: string) => Promise<CloudResult<T>>): Promise<CloudResult<T>>;
  // The printer's CDS state ({version, printer:{state, ...}}), from the host.
  semanticState?: () => unknown;
  // Other /update fields that follow the device (name, description,
  // local_settings), each sent when its value changes.
  describe?: () => Array<[string, string]>;
}

interface LocalReport { fields: Array<[string, string]>; tries: number; job: Job }

export class CloudReports {
  readonly options: ReportsOptions;
  private stopped = true;
  private unlisten: (() => void) | undefined;
  // State: what the service was last told of each field, when, and a trailing send.
  private readonly last = new Map<string, string>();
  private lastStateAt = -Infinity;
  private stateTimer: TimerId | undefined;
  private stateSending = false;
  // Local jobs: a bounded queue, sent one at a time.
  private readonly queue: LocalReport[] = [];
  private sending = false;
  private retryTimer: TimerId | undefined;

  constructor(private readonly deps: ReportsDeps, private readonly lifecycle: JobLifecycle | undefined, options: Partial<ReportsOptions> = {}) {
    this.options = { ...DEFAULT_REPORTS_OPTIONS, ...options };
  }

  // The service learned the state with /register (or last time this ran):
  // only changes from here on are sent.
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.remember(this.fields());
    if (this.lifecycle) this.unlisten = this.lifecycle.listen((event) => this.jobEvent(event));
  }

  stop(): void {
    this.stopped = true;
    this.unlisten?.();
    this.unlisten = undefined;
    if (this.stateTimer !== undefined) this.deps.clock.clearTimer(this.stateTimer);
    this.stateTimer = undefined;
    if (this.retryTimer !== undefined) this.deps.clock.clearTimer(this.retryTimer);
    this.retryTimer = undefined;
  }

  // Registration just finished: /register carried the state of that moment.
  registered(): void {
    this.remember(this.fields());
    this.lastStateAt = this.deps.clock.monotonic();
  }

  // Another call told the service this value (the confirmation of pending settings).
  sent(name: string, value: string): void {
    this.last.set(name, value);
  }

  private remember(fields: Array<[string, string]>): void {
    for (const [name, value] of fields) this.last.set(name, value);
  }

  private fields(): Array<[string, string]> {
    const fields: Array<[string, string]> = [];
    const state = this.deps.semanticState?.();
    if (state !== undefined) fields.push(["semantic_state", JSON.stringify(state)]);
    const described = this.deps.describe?.();
    if (described) for (const field of described) fields.push(field);
    return fields;
  }

  private changed(): Array<[string, string]> {
    return this.fields().filter(([name, value]) => this.last.get(name) !== value);
  }

  // The device state may have changed (the host calls this on every engine
  // and job event): send it now, or at the end of the current window.
  stateChanged(): void {
    if (this.stopped || this.stateTimer !== undefined || this.stateSending) return;
    if (this.deps.printerId() === "" || this.changed().length === 0) return;
    const wait = this.lastStateAt + this.options.stateIntervalMs - this.deps.clock.monotonic();
    if (wait <= 0) {
      void this.sendState();
      return;
    }
    this.stateTimer = this.deps.clock.setTimer(() => {
      this.stateTimer = undefined;
      void this.sendState();
    }, wait);
  }

  private async sendState(): Promise<void> {
    const printerId = this.deps.printerId();
    const changed = this.changed();
    if (this.stopped || printerId === "" || changed.length === 0) return;
    this.stateSending = true;
    this.lastStateAt = this.deps.clock.monotonic();
    const answer = await this.deps.authorized((token) => this.deps.api.update(printerId, token, changed));
    this.stateSending = false;
    if (answer.ok) this.remember(changed);
    // Not retried by itself: the next change (or the next window) tries again.
    else this.deps.log("warn", `cloud: state report failed: ${answer.failure.message}`);
    // A change that came in while this one was on its way.
    this.stateChanged();
  }

  private jobEvent(event: JobEvent): void {
    if (event.to !== "done" && event.to !== "aborted") return;
    // A draft that expired unused never printed anything.
    if (event.from === "draft") return;
    // A cloud job is reported through /control already.
    if (this.deps.printerId() === "" || event.job.origin === "cloud") return;
    const job = event.job;
    const state: Json = event.to === "done"
      ? { version: "1.0", state: { type: "DONE" }, pages_printed: event.pagesPrinted }
      : { version: "1.0", state: { type: "ABORTED", ...(event.cause ?? { device_action_cause: { error_code: "OTHER" } }) }, pages_printed: event.pagesPrinted };
    const fields: Array<[string, string]> = [
      ["title", job.jobName !== undefined && job.jobName !== "" ? job.jobName : `Local job ${job.id}`],
      ["contentType", job.jobType ?? "application/octet-stream"],
      ["final_semantic_state", JSON.stringify(state)],
    ];
    // A Privet job's ticket is a CJT, as the service keeps them; an IPP job's
    // is IPP's own (and holds the engine's preloaded media, which XS cannot stringify).
    if (job.origin !== "ipp" && typeof job.ticket === "object" && job.ticket !== null) fields.push(["ticket", JSON.stringify(job.ticket)]);
    this.queue.push({ fields, tries: 0, job });
    if (this.queue.length > this.options.localJobsKept) {
      const dropped = this.queue.shift()!;
      this.deps.log("warn", `cloud: too many local job reports waiting; job ${dropped.job.id} is not reported`);
    }
    void this.sendLocal();
  }

  private async sendLocal(): Promise<void> {
    if (this.sending || this.retryTimer !== undefined) return;
    this.sending = true;
    try {
      while (!this.stopped && this.queue.length > 0) {
        const printerId = this.deps.printerId();
        if (printerId === "") {
          this.queue.length = 0;
          break;
        }
        const report = this.queue[0];
        report.tries++;
        const answer = await this.deps.authorized((token) => this.deps.api.submitLocal(printerId, token, report.fields));
        if (answer.ok) {
          this.queue.shift();
          // jobstate shows it from now on (reference 5.6: server_job_id).
          if (answer.value.jobId !== "") report.job.serverJobId = answer.value.jobId;
          this.deps.log("info", `cloud: local job ${report.job.id} reported as ${answer.value.jobId || "a job"}`);
          continue;
        }
        // A refusal will be refused again; anything else gets a few tries.
        if (answer.failure.kind === "refused" || answer.failure.kind === "revoked" || report.tries >= this.options.localJobAttempts) {
          this.queue.shift();
          this.deps.log("warn", `cloud: local job ${report.job.id} not reported: ${answer.failure.message}`);
          continue;
        }
        this.deps.log("info", `cloud: local job ${report.job.id} report failed (${answer.failure.message}); trying again later`);
        this.retryTimer = this.deps.clock.setTimer(() => {
          this.retryTimer = undefined;
          void this.sendLocal();
        }, this.options.localJobRetryMs * 2 ** (report.tries - 1));
        break;
      }
    } finally {
      this.sending = false;
    }
  }
}
