import { FAULTS } from "../device/faults.js";
import type { DeviceState } from "../device/state.js";

// The device state as Cloud Print's semantic_state (also /privet/info's).
export interface CloudDeviceState {
  version: "1.0";
  printer: { state: "IDLE" | "PROCESSING" | "STOPPED"; [key: string]: unknown };
}

const STATE = { idle: "IDLE", processing: "PROCESSING", stopped: "STOPPED" } as const;

export function semanticState(device: DeviceState): CloudDeviceState {
  const printer: CloudDeviceState["printer"] = { state: STATE[device.activity] };
  const items: Array<{ state: string; description: string; vendor_id: string }> = [];
  const fault = device.fault;
  if (fault) {
    items.push({ state: "ERROR", description: fault.description, vendor_id: fault.code });
    const tray = FAULTS[fault.code].trayState;
    if (tray) printer.input_tray_state = { item: [{ vendor_id: "tray-1", state: tray }] };
  }
  const notice = device.notice;
  if (notice) items.push({ state: "INFO", description: notice.description, vendor_id: notice.code });
  if (items.length > 0) printer.vendor_state = { item: items };
  return { version: "1.0", printer };
}
