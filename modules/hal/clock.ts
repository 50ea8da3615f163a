// Time and timers come from the host: the core never reads a global clock, so
// tests can drive it with a fake one and the board can use its own timer.

export type TimerId = unknown;

export interface Clock {
  // Milliseconds since boot; never goes backwards (not wall time, which a board
  // only learns from the network and which may jump).
  monotonic(): number;
  // Milliseconds since the Unix epoch, as well as the host knows it.
  wall(): number;
  // Sets wall time (what SNTP learned). Absent where the host's wall clock is
  // kept by someone else (a desktop's own NTP), so the core must not move it.
  set?(wallMs: number): void;
  setTimer(callback: () => void, delayMs: number): TimerId;
  // Runs callback soon, after the I/O already waiting has been handled:
  // how a long job yields so other requests get answered meanwhile.
  defer(callback: () => void): void;
  clearTimer(id: TimerId): void;
}
