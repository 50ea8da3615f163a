import type { DeviceRecord } from "../device/record.js";

// The /privet/info document (Privet 4.2.2).
export function infoDocument(device: DeviceRecord, token: string, uptimeSeconds: number, api: string[]): Record<string, unknown> {
  const info: Record<string, unknown> = {
    version: "1.0",
    name: device.name,
    description: device.description,
    url: device.url,
    type: ["printer"],
    id: device.id,
    device_state: device.deviceState,
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
  info.semantic_state = device.semanticState();
  return info;
}
