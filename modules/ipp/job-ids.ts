import type { Clock } from "../hal/clock.js";
import type { Job } from "../jobs/job.js";
import type { JobStore } from "../jobs/store.js";
import type { JobLifecycle } from "../print/lifecycle.js";
import type { JobTicket } from "./ticket.js";

// The IPP ticket of a job IPP took (the job's own; a Privet or cloud job's
// ticket is a CJT, which IPP does not show).
export function ippTicket(job: Job): JobTicket | undefined {
  return job.origin === "ipp" ? job.ticket as JobTicket | undefined : undefined;
}

// IPP names jobs by integers; the store by random strings. Every job the
// lifecycle makes (Privet, cloud or IPP) gets the next integer here, so IPP
// clients see the one queue whoever submitted to it. The map holds no more
// entries than the store can know jobs (its slots, its ring, the job
// printing), and an entry is shown only while the store still knows its job.

export interface IppJob {
  id: number;
  job: Job;
  // Seconds of printer-up-time.
  createdAt: number;
  processingAt: number | undefined;
  completedAt: number | undefined;
  // A document has arrived, or started to.
  hasDocument: boolean;
}

// Before this the wall clock is not set (a board that has not reached the network).
export const CLOCK_SET_MS = Date.UTC(2020, 0, 1);

export function upTimeOf(monotonicMs: number): number {
  return Math.floor(monotonicMs / 1000) + 1;
}

// IPP job ids are positive 32-bit integers.
const MAX_ID = 0x7fffffff;

export class IppJobIds {
  private readonly entries: IppJob[] = [];
  private nextId = 1;
  private readonly capacity: number;

  constructor(private readonly store: JobStore, lifecycle: JobLifecycle, private readonly clock: Clock) {
    this.capacity = store.options.slots + store.options.ringSize + 2;
    lifecycle.listen((event) => {
      if (event.from === undefined) return void this.add(event.job);
      const entry = this.entries.find((e) => e.job === event.job);
      if (!entry) return;
      const now = this.upTime();
      if (event.to === "in_progress") {
        entry.hasDocument = true;
        if (entry.processingAt === undefined) entry.processingAt = now;
      }
      if (event.to === "done" || event.to === "aborted") entry.completedAt = now;
    });
  }

  // printer-up-time: seconds since boot, counted from 1 as RFC 8011 5.4.29
  // wants it positive.
  upTime(): number {
    return upTimeOf(this.clock.monotonic());
  }

  // Wall-clock ms at a printer-up-time, undefined while the clock is not set.
  wallAt(at: number): number | undefined {
    const wall = this.clock.wall();
    return wall < CLOCK_SET_MS ? undefined : wall - (this.upTime() - at) * 1000;
  }

  private add(job: Job): IppJob {
    if (this.entries.length >= this.capacity) {
      // The oldest entry whose job the store has forgotten goes first.
      const gone = this.entries.findIndex((e) => !this.live(e));
      this.entries.splice(gone >= 0 ? gone : 0, 1);
    }
    const entry: IppJob = {
      id: this.nextId, job, createdAt: upTimeOf(job.createdAt), processingAt: undefined, completedAt: undefined,
      hasDocument: false,
    };
    this.nextId = this.nextId >= MAX_ID ? 1 : this.nextId + 1;
    this.entries.push(entry);
    return entry;
  }

  private live(entry: IppJob): boolean {
    return this.store.find(entry.job.id) === entry.job;
  }

  byId(id: number): IppJob | undefined {
    const entry = this.entries.find((e) => e.id === id);
    return entry && this.live(entry) ? entry : undefined;
  }

  of(job: Job): IppJob | undefined {
    return this.entries.find((e) => e.job === job);
  }

  // Newest first, the jobs the store still knows.
  list(): IppJob[] {
    return this.entries.filter((e) => this.live(e)).reverse();
  }
}
