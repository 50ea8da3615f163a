import type { Clock } from "../hal/clock.js";
import type { PrintEngine } from "../hal/engine.js";
import type { Log } from "../hal/log.js";
import type { Random } from "../hal/random.js";
import { JobStore } from "../jobs/store.js";
import { JobLifecycle } from "./lifecycle.js";
import { Spooler } from "./spooler.js";

// The path every job takes, whoever sends it: job records, the one place
// their state changes, and the spooler feeding the engine. The Printer puts
// its network front ends on top; the MCU bench drives it with an embedded
// page and no network at all, so both measure and run the same objects.

export interface PrintPath {
  jobs: JobStore;
  lifecycle: JobLifecycle;
  spooler: Spooler;
}

export function printPath(parts: { engine: PrintEngine; clock: Clock; random: Random; log: Log }): PrintPath {
  const jobs = new JobStore(parts.clock, parts.random);
  const lifecycle = new JobLifecycle(jobs, parts.log);
  const spooler = new Spooler(parts.engine, lifecycle, parts.clock, parts.log);
  return { jobs, lifecycle, spooler };
}
