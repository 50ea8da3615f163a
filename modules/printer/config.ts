import type { HttpServerOptions } from "../http/server.js";
import type { DeviceDescription } from "../privet/device.js";

export interface PrinterConfig extends DeviceDescription {
  port: number;
  // "127.0.0.1" keeps the printer on this machine; "0.0.0.0" puts it on the LAN.
  host: string;
  // The mDNS host label (host.local); derived from the serial number when absent.
  hostName?: string;
  http?: Partial<Omit<HttpServerOptions, "port" | "host">>;
  // submitdoc refuses larger documents with document_too_large.
  maxDocumentBytes: number;
}

export const FIRMWARE_VERSION = "0.1.0";

export const defaultPrinterConfig: PrinterConfig = {
  name: "Privet Printer",
  description: "",
  manufacturer: "Privet Printer Firmware",
  model: "ESP32 PWG Printer",
  firmware: FIRMWARE_VERSION,
  url: "",
  port: 8631,
  host: "127.0.0.1",
  // Documents stream through a line at a time, so the limit is a policy, not memory.
  maxDocumentBytes: 8 * 1024 * 1024 * 1024,
};
