import type { MemoryReserveConfig } from "../device/memory.js";
import type { Cost } from "../http/turns.js";
import type { HttpServerOptions } from "../http/server.js";
import type { CloudOptions } from "../cloud/cloud.js";
import type { HttpClientOptions } from "../http/client.js";
import type { DeviceDescription } from "../device/record.js";
import type { XmppClientOptions } from "../xmpp/client.js";
import type { IppLimits } from "../ipp-codec/decode.js";
import type { SntpOptions } from "../sntp/client.js";

// Where the service's XMPP notification channel is (cloud-print-service.md
// §3.1); the rest of the client's options (timeouts, pings) may be tuned too.
export type PrinterXmppConfig = Pick<XmppClientOptions, "host" | "port" | "transport">
  & Partial<Omit<XmppClientOptions, "host" | "port" | "transport" | "jid" | "accessToken" | "printerId">>;

// How the printer reaches the Cloud Print service named by url.
export interface PrinterCloudConfig extends Partial<CloudOptions> {
  // The OAuth token endpoint; derived from url when absent.
  tokenUrl?: string;
  // The OAuth client the printer's robot account is issued to.
  clientId?: string;
  clientSecret?: string;
  // X-CloudPrint-Proxy and the register "proxy" field; derived from the serial when absent.
  proxy?: string;
  // http:// to a host that is not loopback (an emulator on a LAN).
  allowPlainText?: boolean;
  // The HTTP client's timeouts and limits (tests shorten them).
  http?: Partial<HttpClientOptions>;
  // The notification channel; without it the printer learns of jobs only at
  // startup and its /printer checks.
  xmpp?: PrinterXmppConfig;
}

export interface PrinterConfig extends DeviceDescription {
  port: number;
  // "127.0.0.1" keeps the printer on this machine; "0.0.0.0" puts it on the LAN.
  host: string;
  // The mDNS host label (host.local); derived from the serial number when absent.
  hostName?: string;
  // Host names besides its own addresses and .local names that the printer
  // answers to (a name the router's DNS gives it); any other is refused as
  // DNS rebinding. Lower or upper case, with or without a port.
  allowedHosts?: string[];
  http?: Partial<Omit<HttpServerOptions, "port" | "host">>;
  // submitdoc refuses larger documents with document_too_large.
  maxDocumentBytes: number;
  cloud?: PrinterCloudConfig;
  // Bounds on an IPP request's attributes (the document is streamed, not
  // held), and how much of a document is kept to print its further copies
  // (copiesBufferBytes; none when absent, and IPP offers one copy).
  ipp?: Partial<IppLimits> & { copiesBufferBytes?: number };
  // Time servers; absent where the host's wall clock is already right (a
  // desktop). While SNTP has not answered, registration and the cloud wait.
  sntp?: Partial<Omit<SntpOptions, "servers">> & { servers: string[] };
  // The UDP port of the setup access point's DNS (53 on the board); without
  // it no DNS runs there and phones do not open the setup page by themselves.
  wifiDnsPort?: number;
  // How long the setup access point stays up after a join, so the person on
  // it can read the printer's new address (a minute; tests shorten it).
  wifiLingerMs?: number;
  budget?: MemoryBudgetConfig;
}

// The heap left for large activities, as a budget of shares (http/turns.ts):
// activities whose shares add up to at most the capacity may run together,
// the others wait. The shares say which pairs fit, as measured in mcsim
// (README: the heap budget), not bytes: a cloud call fits beside neither an
// attributes answer nor a JPEG job, which fit beside each other. A share
// absent takes the whole budget (one at a time). Absent altogether: one
// large exchange at a time, and no reservation for a job (the desktop).
export interface MemoryBudgetConfig {
  capacity: number;
  cloudCall?: number | Cost;
  printerAttributes?: number | Cost;
  // A JPEG job holds this for its whole length (its decoder's rows and the
  // placement's tables); a PWG or URF job keeps one line and holds nothing.
  jpegJob?: number | Cost;
  // What must be free in the heap for a request (device/memory.ts), beside
  // each large activity's own need (its Cost above): absent on Node.
  reserve?: MemoryReserveConfig;
}

export const FIRMWARE_VERSION = "0.1.0";
// When this firmware was built (a release bumps it): a network time before it
// is wrong for certain, so SNTP refuses it.
export const FIRMWARE_BUILT_MS = Date.UTC(2026, 11, 7);

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
