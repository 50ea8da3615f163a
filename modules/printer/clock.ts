import { wallClockPlausible } from "../cloud/registration.js";
import type { DeviceNotice } from "../device/state.js";
import type { Hal } from "../hal/hal.js";
import { SntpClient, type SntpOptions } from "../sntp/client.js";
import { FIRMWARE_BUILT_MS } from "./config.js";

// Wall time for the printer: SNTP where the configuration names time
// servers, and whether the clock can be trusted yet (registration and the
// cloud's TLS wait for it; the device state carries the notice meanwhile).
export class PrinterClock {
  readonly sntp: SntpClient | undefined;

  constructor(private readonly hal: Hal, options: (Partial<Omit<SntpOptions, "servers">> & { servers: string[] }) | undefined, changed: () => void) {
    this.sntp = timeClient(hal, options, changed);
  }

  // Whether wall time can be trusted: SNTP has answered where it is
  // configured, and the clock reads a date this century in any case.
  isSet(): boolean {
    return (this.sntp === undefined || this.sntp.state === "set") && wallClockPlausible(this.hal.clock);
  }

  // What the pages and semantic_state say about the clock while it is not set.
  notice(): string | undefined {
    if (this.isSet()) return undefined;
    if (!this.sntp) return "The printer's clock is not set";
    const error = this.sntp.lastError;
    return `Setting the clock from the network (${this.sntp.options.servers.join(", ")})${error ? `; last try: ${error}` : ""}`;
  }

  noticeItem(): DeviceNotice | undefined {
    const notice = this.notice();
    return notice === undefined ? undefined : { code: "setting-clock", description: notice };
  }

  // A board that boots onto its setup access point has no internet until
  // the person joins a network; SNTP's failed rounds then wait up to
  // minutes, so the join starts a fresh one.
  networkJoined(): void {
    if (this.sntp && this.sntp.state !== "set") this.sntp.start();
  }
}

function timeClient(hal: Hal, options: (Partial<Omit<SntpOptions, "servers">> & { servers: string[] }) | undefined, changed: () => void): SntpClient | undefined {
  if (!options || options.servers.length === 0) return undefined;
  if (!hal.datagrams) {
    hal.log("warn", "sntp: this platform has no UDP for the core; the clock stays as the host set it");
    return undefined;
  }
  const sntp = new SntpClient({ clock: hal.clock, datagrams: hal.datagrams, resolver: hal.resolver, random: hal.random, log: hal.log },
    { notBeforeMs: FIRMWARE_BUILT_MS, ...options });
  sntp.onChange(changed);
  return sntp;
}
