import type { Log } from "../hal/log.js";
import type { Job, JobCause, JobState } from "../jobs/job.js";
import type { JobStore } from "../jobs/store.js";

// The one place a job changes state. Every front end (Privet jobstate, the
// cloud's job reports, IPP job state) learns of a change from the event
// emitted here, so they cannot drift apart, and a transition the Privet
// model does not have (done -> in_progress, say) is a bug caught at once.

export interface JobEvent {
  job: Job;
  // undefined when the job has just been made.
  from: JobState | undefined;
  to: JobState;
  pagesPrinted: number;
  cause: JobCause | undefined;
}

export type JobListener = (event: JobEvent) => void;

const NEXT: Record<JobState, readonly JobState[]> = {
  draft: ["queued", "in_progress", "aborted"],
  queued: ["in_progress", "aborted"],
  in_progress: ["stopped", "done", "aborted"],
  // A fault that comes after the last page is out still leaves a done job.
  stopped: ["in_progress", "done", "aborted"],
  done: [],
  aborted: [],
};

export class JobLifecycle {
  private readonly listeners: JobListener[] = [];

  constructor(readonly jobs: JobStore, private readonly log: Log) {}

  // Returns a function that stops listening.
  listen(listener: JobListener): () => void {
    this.listeners.push(listener);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }

  // createjob: a draft in one of the slots, or undefined when every slot
  // holds a job that is printing.
  createDraft(ticket: unknown): Job | undefined {
    const job = this.jobs.create(ticket);
    if (job) this.emit(job, undefined);
    return job;
  }

  // A job whose document is about to arrive without a draft (simple printing,
  // a cloud job, an IPP Print-Job).
  createQueued(ticket?: unknown): Job {
    const job = this.jobs.createUnslotted(ticket);
    this.emit(job, undefined);
    return job;
  }

  start(job: Job): void {
    this.jobs.started(job);
    this.move(job, "in_progress", undefined, undefined);
  }

  // The engine stopped with a fault; the job waits for it to be cleared.
  stop(job: Job, description: string, cause: JobCause): void {
    this.move(job, "stopped", description, cause);
  }

  resume(job: Job): void {
    this.move(job, "in_progress", undefined, undefined);
  }

  abort(job: Job, description: string, cause: JobCause): void {
    this.move(job, "aborted", description, cause);
  }

  // The engine is done with the job: it is done unless it was aborted, and
  // its state moves to the ring of finished jobs either way.
  finish(job: Job, pagesPrinted: number): void {
    job.pagesPrinted = pagesPrinted;
    if (job.state !== "aborted") this.move(job, "done", undefined, undefined);
    this.jobs.finished(job);
  }

  // Pages printed as of now, without a state change (jobstate asks for it).
  progress(job: Job, pagesPrinted: number): void {
    if (job.state === "in_progress" || job.state === "stopped") job.pagesPrinted = pagesPrinted;
  }

  private move(job: Job, to: JobState, description: string | undefined, cause: JobCause | undefined): void {
    const from = job.state;
    if (!NEXT[from].includes(to)) throw new Error(`job ${job.id}: no transition from ${from} to ${to}`);
    job.state = to;
    job.description = description;
    job.cause = cause;
    this.emit(job, from);
  }

  // A listener that throws is logged and skipped, so one front end's bug
  // cannot stop the others from hearing about the job.
  private emit(job: Job, from: JobState | undefined): void {
    const event: JobEvent = { job, from, to: job.state, pagesPrinted: job.pagesPrinted, cause: job.cause };
    for (const listener of this.listeners.slice()) {
      try {
        listener(event);
      } catch (error) {
        this.log("error", `job ${job.id}: a listener of ${from ?? "new"} -> ${job.state} failed: ${String(error)}`);
      }
    }
  }
}
