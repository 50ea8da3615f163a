import type { Clock } from "./clock.js";
import type { PrintEngine } from "./engine.js";
import type { Log } from "./log.js";
import type { Random } from "./random.js";
import type { Storage } from "./storage.js";
import type { Tcp } from "./tcp.js";
import type { Udp } from "./udp.js";

// Everything the firmware core needs from the platform it runs on.
export interface Hal {
  clock: Clock;
  random: Random;
  storage: Storage;
  tcp: Tcp;
  // Absent where the platform has no multicast path (then no discovery).
  udp?: Udp;
  log: Log;
  engine: PrintEngine;
}
