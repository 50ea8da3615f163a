import Time from "time";
import Timer from "timer";
import type { Clock } from "../../modules/hal/clock.js";

// Time.ticks counts from an arbitrary origin on some platforms (the lin
// simulator's is not boot), so uptime is measured from when this module loads.
const bootTicks = Time.ticks;

export const clock: Clock = {
  monotonic: () => Time.ticks - bootTicks,
  wall: () => Date.now(),
  // The SDK's clock has whole seconds; SNTP's milliseconds are rounded away.
  set: (wallMs) => Time.set(Math.round(wallMs / 1000)),
  setTimer: (callback, delayMs) => Timer.set(() => callback(), delayMs),
  clearTimer: (id) => Timer.clear(id as Timer),
  defer: (callback) => { Timer.set(() => callback(), 0); },
};
