import type { Clock } from "../hal/clock.js";
import type { EngineFault } from "../hal/engine.js";

// The one device state: idle, processing or stopped, the fault, a notice
// that is not a fault (the clock being set), and since when (monotonic ms).
// The print path's events push it (printer/ wires the spooler's and the
// lifecycle's to update()); /privet/info, TXT, IPP's printer-state, the
// cloud's semantic_state and the pages read it and keep no copy.

export type DeviceActivity = "idle" | "processing" | "stopped";

export interface DeviceFault {
  code: EngineFault;
  description: string;
}

export interface DeviceNotice {
  code: string;
  description: string;
}

export class DeviceState {
  activity: DeviceActivity = "idle";
  fault: DeviceFault | undefined;
  notice: DeviceNotice | undefined;
  // Whether a job is printing (with or without a fault).
  busy = false;
  // When activity, fault or notice last changed (printer-state-change-time).
  since: number;
  private readonly listeners: Array<() => void> = [];

  constructor(private readonly clock: Clock) {
    this.since = clock.monotonic();
  }

  // What the engine and the spooler say now; listeners hear only of a change.
  update(fault: DeviceFault | undefined, busy: boolean, notice: DeviceNotice | undefined): void {
    const activity: DeviceActivity = fault ? "stopped" : busy ? "processing" : "idle";
    const same = activity === this.activity && busy === this.busy
      && fault?.code === this.fault?.code && fault?.description === this.fault?.description
      && notice?.code === this.notice?.code && notice?.description === this.notice?.description;
    if (same) return;
    this.activity = activity;
    this.busy = busy;
    this.fault = fault;
    this.notice = notice;
    this.since = this.clock.monotonic();
    for (const listener of this.listeners.slice()) listener();
  }

  // Returns a function that stops listening.
  onChange(listener: () => void): () => void {
    this.listeners.push(listener);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }
}
