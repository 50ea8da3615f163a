import type { EngineFault } from "../hal/engine.js";
import type { IppContext } from "./exchange.js";
import { upTimeOf } from "./job-ids.js";
import { PrinterState } from "./printer-attributes.js";

// printer-state, its reasons and message (RFC 8011 5.4.11-13) from the
// engine's fault and the spooler, and when they last changed
// (printer-state-change-time). The printer calls refresh() whenever its
// device state may have moved; reading refreshes too.

const FAULT_REASON: Record<EngineFault, string> = {
  "media-empty": "media-empty-error",
  "media-jam": "media-jam-error",
  "door-open": "door-open-error",
};

export interface StatusNow {
  state: number;
  reasons: string[];
  message: string;
  changedAt: number;
}

export class PrinterStatus {
  private key = "";
  private changedAt: number;

  constructor(private readonly context: IppContext) {
    this.changedAt = upTimeOf(context.clock.monotonic());
  }

  refresh(): StatusNow {
    const { engine, spooler } = this.context;
    const fault = engine.fault;
    const state = fault ? PrinterState.stopped : spooler.active ? PrinterState.processing : PrinterState.idle;
    const reasons = fault ? [FAULT_REASON[fault]] : ["none"];
    // A job is waiting for paper (PWG self-cert I-20; as ippeveprinter does).
    // Without a suffix, as clients match it whole; RFC 8011 5.4.12 reads a
    // reason without one as an error.
    if (fault === "media-empty" && spooler.active) reasons.push("media-needed");
    const message = fault ? engine.faultDescription : "";
    const key = `${state} ${reasons.join(",")} ${message}`;
    if (key !== this.key) {
      if (this.key !== "") this.changedAt = upTimeOf(this.context.clock.monotonic());
      this.key = key;
    }
    return { state, reasons, message, changedAt: this.changedAt };
  }
}
