import type { DeviceState } from "../device/state.js";
import { FAULTS } from "../device/faults.js";
import type { Spooler } from "./spooler.js";

// The one decision whether a job may print now, asked by every front end
// (Privet's submitdoc and createjob, IPP's Print-Job and Send-Document, the
// cloud before a download), each answering a refusal in its own words:
// - closed: local printing is off (Privet: the API is not there, 404; IPP:
//   not-accepting-jobs); a cloud job is not local, so the cloud does not ask it;
// - format: the print path decodes no such document (invalid_document_type,
//   document-format-not-supported);
// - faulted: the engine stopped with a fault that a job may not wait out
//   (printer_error, server-error-busy); out of paper a job is taken and
//   waits where the front end says so (IPP, PWG self-cert I-20);
// - busy: another job holds the engine (printer_busy with Retry-After,
//   server-error-busy; the cloud waits for the job to end); or, on the
//   board, the heap has no room now for the document's decoder (a JPEG's
//   rows): refused as busy rather than taken and left waiting for room.
// The spooler's start() still throws for a job nobody admitted.

export type Refusal =
  | { why: "closed" | "format" | "busy"; description: string }
  | { why: "faulted"; description: string };

export interface AdmissionParts {
  state: DeviceState;
  spooler: Spooler;
  // Local printing is allowed (the setting, and registration where there is a cloud).
  open(): boolean;
  // The MIME types the print path decodes, the default first.
  formats(): string[];
  // The heap has room now for this format's decoder (absent: always).
  roomToDecode?(format: string): boolean;
}

export interface AdmissionAsk {
  // The document's MIME type, when the front end knows it yet.
  format?: string;
  // A local job (Privet, IPP): refused while local printing is off.
  local?: boolean;
  // The front end lets a job wait out a fault that allows it (out of paper).
  waitsOutFault?: boolean;
  // Only the job's record is made now (createjob, Create-Job): a busy engine does not refuse it.
  recordOnly?: boolean;
}

export class Admission {
  constructor(private readonly parts: AdmissionParts) {}

  // undefined: the job may go ahead.
  check(ask: AdmissionAsk = {}): Refusal | undefined {
    const { state, spooler } = this.parts;
    if (ask.local && !this.parts.open()) return { why: "closed", description: "local printing is turned off" };
    if (ask.format !== undefined && !this.parts.formats().includes(ask.format)) {
      return { why: "format", description: `${ask.format === "" ? "no document type" : ask.format} is not supported; send ${this.parts.formats().join(", ")}` };
    }
    const fault = state.fault;
    if (fault && !(ask.waitsOutFault && FAULTS[fault.code].jobsWait)) return { why: "faulted", description: fault.description || "the printer is stopped" };
    if (!ask.recordOnly && spooler.active) return { why: "busy", description: "the printer is printing another job" };
    if (!ask.recordOnly && ask.format !== undefined && this.parts.roomToDecode && !this.parts.roomToDecode(ask.format)) {
      return { why: "busy", description: `the printer is short of memory for ${ask.format} now; try again shortly` };
    }
    return undefined;
  }

  // Resolves once no job holds the engine (the cloud waits here for a local
  // job to end, on the device state's change rather than a timer);
  // cancelled() ends the wait early with false.
  whenFree(): { done: Promise<boolean>; cancel: () => void } {
    const { state, spooler } = this.parts;
    let stop: (() => void) | undefined;
    let resolved: ((free: boolean) => void) | undefined;
    const done = new Promise<boolean>((resolve) => {
      if (!spooler.active) return resolve(true);
      resolved = resolve;
      stop = state.onChange(() => {
        if (spooler.active) return;
        stop?.();
        resolve(true);
      });
    });
    return { done, cancel: () => { stop?.(); resolved?.(false); } };
  }
}
