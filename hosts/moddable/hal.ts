import Preference from "preference";
import type { PrintEngine } from "../../modules/hal/engine.js";
import type { Udp } from "../../modules/hal/udp.js";
import type { Hal } from "../../modules/hal/hal.js";
import type { Storage } from "../../modules/hal/storage.js";
import type { Panel } from "../../modules/hal/panel.js";
import type { Network } from "../../modules/hal/network.js";
import { NullEngine } from "../../modules/print/null-engine.js";
import { OFFICE_CAPABILITIES } from "../../modules/print/office-capabilities.js";
import { clock } from "./clock.js";
import { moddableDatagrams } from "./datagrams.js";
import { heapHas } from "./heap.js";
import { moddableResolver } from "./resolver.js";
import { moddableTcp } from "./tcp.js";
import { moddableTls } from "./tls.js";

const DOMAIN = "privet";

export { clock };

// Preference writes one NVS key at a time on the ESP32, and NVS keeps the old
// value until the new one is fully written: a power cut leaves one or the other.
const storage: Storage = {
  read(key) {
    const value = Preference.get(DOMAIN, key);
    return typeof value === "string" ? value : undefined;
  },
  write(key, value) {
    Preference.set(DOMAIN, key, value);
  },
  remove(key) {
    Preference.delete(DOMAIN, key);
  },
};

export interface ModdableHalOptions {
  engine?: PrintEngine;
  udp?: Udp;
  // The OK/Cancel buttons and LED, where the board has them (registration).
  panel?: Panel;
  // Wi-Fi the firmware sets up itself (hosts/moddable/network.ts).
  network?: Network;
  // DNS servers ("a.b.c.d" or "a.b.c.d:port"); the ones DHCP gave when absent.
  dnsServers?: string[];
}

export function moddableHal(options: ModdableHalOptions = {}): Hal {
  return {
    clock,
    // XS's Math.random reads esp_random() on the ESP32, the hardware RNG.
    random: { fill: (bytes) => { for (let i = 0; i < bytes.length; i++) bytes[i] = (Math.random() * 256) | 0; } },
    storage,
    tcp: moddableTcp,
    resolver: moddableResolver(options.dnsServers),
    tls: moddableTls,
    log: (level, message) => trace(`${level} ${message}\n`),
    // Without a mechanism (the desktop simulators), pages are decoded and dropped.
    engine: options.engine ?? new NullEngine(OFFICE_CAPABILITIES),
    udp: options.udp,
    datagrams: moddableDatagrams,
    panel: options.panel,
    network: options.network,
    // XS's fixed heap, measured (heap.c): the memory gate's gauge.
    heap: { has: heapHas },
  };
}
