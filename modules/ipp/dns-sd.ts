import type { EngineCapabilities } from "../hal/engine.js";
import type { IppDevice } from "./exchange.js";
import { airPrintTxt } from "./airprint.js";
import { printerUuid } from "./printer-operations.js";
import { PRINTER_PATH } from "./target.js";

// The _ipp._tcp TXT record IPP Everywhere asks for (PWG 5100.14 section 4.2,
// Bonjour Printing 1.2): where the printer is (rp), what it is (ty,
// product), what it takes (pdl, Color, Duplex, kind), and its UUID, so a
// client that sees it on several interfaces knows it is one printer. TLS is
// left out: it is not offered. AirPrint's keys (URF and the rest) follow when
// image/urf is among the formats.

export function ippTxt(device: IppDevice, caps: EngineCapabilities, formats: string[], adminUrl: string): Array<[string, string]> {
  const roll = caps.media.some((m) => m.continuous);
  return [
    ["txtvers", "1"],
    ["qtotal", "1"],
    ["rp", PRINTER_PATH.slice(1)],
    ["ty", `${device.manufacturer} ${device.model}`],
    ["adminurl", adminUrl],
    ["note", device.location],
    ["priority", "50"],
    ["product", `(${device.model})`],
    ["pdl", formats.join(",")],
    ["kind", roll ? "receipt" : "document"],
    ["UUID", printerUuid(device.serialNumber).slice("urn:uuid:".length)],
    ["Color", caps.colorSpaces.includes("srgb_8") ? "T" : "F"],
    ["Duplex", "F"],
    ["usb_MFG", device.manufacturer],
    ["usb_MDL", device.model],
    ...airPrintTxt(caps, formats),
  ];
}
