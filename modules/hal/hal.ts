import type { Clock } from "./clock.js";
import type { PrintEngine } from "./engine.js";
import type { HeapGauge } from "./heap.js";
import type { Log } from "./log.js";
import type { Network } from "./network.js";
import type { Panel } from "./panel.js";
import type { Random } from "./random.js";
import type { Resolver } from "./resolver.js";
import type { Storage } from "./storage.js";
import type { Tcp } from "./tcp.js";
import type { Tls } from "./tls.js";
import type { Datagrams, Udp } from "./udp.js";

// Everything the firmware core needs from the platform it runs on.
export interface Hal {
  clock: Clock;
  random: Random;
  storage: Storage;
  tcp: Tcp;
  resolver: Resolver;
  // Absent where the platform has no TLS (then only plain-text peers the
  // configuration allows can be reached).
  tls?: Tls;
  // Absent where the platform has no multicast path (then no discovery).
  udp?: Udp;
  // Unicast UDP (SNTP, the setup access point's DNS); absent where the
  // platform has none (then the clock is the host's and there is no captive portal).
  datagrams?: Datagrams;
  log: Log;
  engine: PrintEngine;
  // Buttons and an indicator; absent where there are none (then a printer
  // with a cloud URL cannot be registered, as registration needs a button).
  panel?: Panel;
  // Wi-Fi the firmware manages itself (scan, join, a setup access point);
  // absent where the platform's network is set up outside the firmware.
  network?: Network;
  // The heap's free room where it is fixed (the board); absent where it grows.
  heap?: HeapGauge;
}
