import type { Clock, TimerId } from "../../modules/hal/clock.js";

interface Timer { id: number; at: number; callback: () => void }

// A clock that moves only when the test says so; timers fire in time order.
export class FakeClock implements Clock {
  now = 0;
  wallOffset = 1_800_000_000_000;
  private timers: Timer[] = [];
  private nextId = 1;

  monotonic(): number {
    return this.now;
  }

  wall(): number {
    return this.wallOffset + this.now;
  }

  setTimer(callback: () => void, delayMs: number): TimerId {
    const timer = { id: this.nextId++, at: this.now + Math.max(0, delayMs), callback };
    this.timers.push(timer);
    return timer.id;
  }

  defer(callback: () => void): void {
    this.setTimer(callback, 0);
  }

  clearTimer(id: TimerId): void {
    this.timers = this.timers.filter((t) => t.id !== id);
  }

  get pending(): number {
    return this.timers.length;
  }

  advance(ms: number): void {
    const end = this.now + ms;
    for (let guard = 0; guard < 100_000; guard++) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.now = next.at;
      next.callback();
    }
    this.now = end;
  }
}
