import type { DeviceRecord } from "../device/record.js";
import type { DeviceState } from "../device/state.js";

// The /privet/info document (Privet 4.2.2).
// semantic: the cloud's semantic_state of the same device state.
export function infoDocument(device: DeviceRecord, state: DeviceState, semantic: unknown, token: string, uptimeSeconds: number, api: string[]): Record<string, unknown> {
  const info: Record<string, unknown> = {
    version: "1.0",
    name: device.name,
    description: device.description,
    url: device.url,
    type: ["printer"],
    id: device.id,
    device_state: state.activity,
    connection_state: device.connectionState,
    manufacturer: device.manufacturer,
    model: device.model,
    serial_number: device.serialNumber,
    firmware: device.firmware,
    uptime: uptimeSeconds,
  };
  if (device.setupUrl) info.setup_url = device.setupUrl;
  if (device.supportUrl) info.support_url = device.supportUrl;
  if (device.updateUrl) info.update_url = device.updateUrl;
  info["x-privet-token"] = token;
  info.api = api;
  info.semantic_state = semantic;
  return info;
}

// DNS-SD TXT pairs in the order Privet 2.2 gives; txtvers must come first.
export function privetTxt(device: DeviceRecord): Array<[string, string]> {
  const pairs: Array<[string, string]> = [["txtvers", "1"], ["ty", device.name]];
  if (device.description !== "") pairs.push(["note", device.description]);
  pairs.push(["url", device.url], ["type", "printer"], ["id", device.id], ["cs", device.connectionState]);
  return pairs;
}
