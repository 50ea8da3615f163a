import type { Clock } from "../hal/clock.js";
import type { Random } from "../hal/random.js";
import type { Job } from "./job.js";

// Fixed memory for jobs (Privet 5): a few slots for jobs made by createjob
// and waiting for their document, and a ring of finished jobs' states.

export interface JobStoreOptions {
  slots: number;
  ringSize: number;
  // How long a draft waits for its document; Privet asks for at least 5 minutes.
  draftLifetimeMs: number;
  // How long a finished job's state is kept; Privet asks for at least 5 minutes.
  statusLifetimeMs: number;
}

export const defaultJobStoreOptions: JobStoreOptions = {
  slots: 3,
  ringSize: 10,
  draftLifetimeMs: 10 * 60_000,
  statusLifetimeMs: 10 * 60_000,
};

export class JobStore {
  readonly options: JobStoreOptions;
  private readonly slots: Array<Job | undefined>;
  private readonly ring: Array<Job | undefined>;
  private ringNext = 0;
  // A simple-printing job has no slot while it prints.
  private unslotted: Job | undefined;

  constructor(private readonly clock: Clock, private readonly random: Random, options: Partial<JobStoreOptions> = {}) {
    this.options = { ...defaultJobStoreOptions, ...options };
    this.slots = new Array(this.options.slots).fill(undefined);
    this.ring = new Array(this.options.ringSize).fill(undefined);
  }

  private newId(): string {
    const bytes = new Uint8Array(6);
    this.random.fill(bytes);
    let id = "";
    for (const b of bytes) id += (b < 16 ? "0" : "") + b.toString(16);
    return id;
  }

  private printing(job: Job | undefined): boolean {
    return job !== undefined && (job.state === "in_progress" || job.state === "stopped" || job.state === "queued");
  }

  // createjob: the first free slot (an expired draft counts as free), else
  // the oldest job that is not printing is replaced. Undefined when every
  // slot holds a printing job.
  create(ticket: unknown): Job | undefined {
    const now = this.clock.monotonic();
    let index = this.slots.findIndex((job) => job === undefined || (job.state === "draft" && job.expiresAt <= now));
    if (index < 0) {
      let oldest = -1;
      this.slots.forEach((job, i) => {
        if (!this.printing(job) && (oldest < 0 || job!.createdAt < this.slots[oldest]!.createdAt)) oldest = i;
      });
      index = oldest;
    }
    if (index < 0) return undefined;
    const job: Job = { id: this.newId(), state: "draft", createdAt: now, expiresAt: now + this.options.draftLifetimeMs, ticket, pagesPrinted: 0 };
    this.slots[index] = job;
    return job;
  }

  // submitdoc with a job_id: the draft, if it is still here and unexpired.
  draft(id: string): Job | undefined {
    const now = this.clock.monotonic();
    return this.slots.find((job) => job !== undefined && job.id === id && job.state === "draft" && job.expiresAt > now);
  }

  // A job that goes straight to printing: submitdoc without a job_id, a cloud
  // or IPP job.
  createUnslotted(ticket?: unknown): Job {
    const now = this.clock.monotonic();
    const job: Job = { id: this.newId(), state: "queued", createdAt: now, expiresAt: now + this.options.statusLifetimeMs, ticket, pagesPrinted: 0 };
    this.unslotted = job;
    return job;
  }

  // A job that started printing stays findable and is not replaced.
  started(job: Job): void {
    job.expiresAt = this.clock.monotonic() + this.options.statusLifetimeMs;
  }

  // done or aborted: the slot is freed and the state goes into the ring,
  // pushing out the oldest entry when the ring is full.
  finished(job: Job): void {
    const index = this.slots.indexOf(job);
    if (index >= 0) this.slots[index] = undefined;
    if (this.unslotted === job) this.unslotted = undefined;
    job.expiresAt = this.clock.monotonic() + this.options.statusLifetimeMs;
    this.ring[this.ringNext] = job;
    this.ringNext = (this.ringNext + 1) % this.ring.length;
  }

  // jobstate: any job we still know, unless its record has expired.
  find(id: string): Job | undefined {
    const now = this.clock.monotonic();
    const live = (job: Job | undefined) => job !== undefined && job.id === id && (this.printing(job) || job.expiresAt > now);
    return this.slots.find(live) ?? (live(this.unslotted) ? this.unslotted : undefined) ?? this.ring.find(live);
  }

  // Every job still known (slots, the one printing, the ring), newest first:
  // what a status page lists.
  list(): Job[] {
    const now = this.clock.monotonic();
    const seen: Job[] = [];
    for (const job of [...this.slots, this.unslotted, ...this.ring]) {
      if (job !== undefined && !seen.includes(job) && (this.printing(job) || job.expiresAt > now)) seen.push(job);
    }
    return seen.sort((a, b) => b.createdAt - a.createdAt);
  }

  get slotCount(): number {
    return this.slots.filter((job) => job !== undefined).length;
  }
}
