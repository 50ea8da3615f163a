import { FAULTS } from "../device/faults.js";
import type { DeviceState } from "../device/state.js";
import { upTimeOf } from "./job-ids.js";
import { PrinterState } from "./printer-attributes.js";

// printer-state, its reasons and message (RFC 8011 5.4.11-13), and when they
// last changed (printer-state-change-time): the device state in IPP's words.

export interface StatusNow {
  state: number;
  reasons: string[];
  message: string;
  changedAt: number;
}

export function printerStatus(device: DeviceState): StatusNow {
  const fault = device.fault;
  const state = fault ? PrinterState.stopped : device.busy ? PrinterState.processing : PrinterState.idle;
  const reasons = fault ? [FAULTS[fault.code].ippReason] : ["none"];
  // A job is waiting for paper (PWG self-cert I-20; as ippeveprinter does).
  // Without a suffix, as clients match it whole; RFC 8011 5.4.12 reads a
  // reason without one as an error.
  if (fault?.code === "media-empty" && device.busy) reasons.push("media-needed");
  return { state, reasons, message: fault ? fault.description : "", changedAt: upTimeOf(device.since) };
}
