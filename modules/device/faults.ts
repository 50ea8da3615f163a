import type { EngineFault } from "../hal/engine.js";

// The one table of what an engine fault means, in each protocol's words.
// IPP's enum encoding stays in ipp/; the words are here.
export interface FaultMeaning {
  // printer-state-reasons (RFC 8011 5.4.12).
  ippReason: string;
  // A stopped job's cause (Cloud Print's job state, Privet's jobstate).
  jobErrorCode: "INPUT_TRAY" | "MEDIA_PATH" | "OTHER";
  // semantic_state's input tray, when the fault is the tray's.
  trayState?: "EMPTY";
  // A job may be taken and wait for someone to clear it (out of paper:
  // PWG self-cert I-20 expects Print-Job taken); a jam or an open door must
  // be seen to first.
  jobsWait: boolean;
}

export const FAULTS: Record<EngineFault, FaultMeaning> = {
  "media-empty": { ippReason: "media-empty-error", jobErrorCode: "INPUT_TRAY", trayState: "EMPTY", jobsWait: true },
  "media-jam": { ippReason: "media-jam-error", jobErrorCode: "MEDIA_PATH", jobsWait: false },
  "door-open": { ippReason: "door-open-error", jobErrorCode: "OTHER", jobsWait: false },
};
