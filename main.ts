import config from "mc/config";
import { clock, moddableHal } from "./hosts/moddable/hal.js";
import { startOutboundCheck } from "./hosts/moddable/outbound-check.js";
import { expandRuns } from "./hosts/moddable/runs.js";
import { useRunExpander } from "./modules/pwg/decoder.js";
import { Printer } from "./modules/printer/printer.js";
import type { PrintEngine } from "./modules/hal/engine.js";
import type { Panel } from "./modules/hal/panel.js";
import type { Udp } from "./modules/hal/udp.js";
import type { Network } from "./modules/hal/network.js";

// Moddable entry point: the same Printer the Node host runs, on the board's
// HAL. What the board has (port, name, mDNS, the thermal printer's UART and
// head) comes from the manifest's config for each platform.
const settings = config.privet ?? {};
const log = (message: string) => trace(`privet: ${message}\n`);

// Gray and 1-bit PWG (and URF) lines are expanded by the decoder's run loop
// in C (hosts/moddable/runs.c): in XS it was most of a gray receipt's time.
useRunExpander(expandRuns);

type BoardParts = { engine?: PrintEngine; udp?: Udp; panel?: Panel; network?: Network };

async function board(): Promise<BoardParts> {
  const parts: BoardParts = {};
  // Loaded only where configured: the simulators have neither a UART nor multicast.
  if (settings.thermal) {
    const { thermalEngine } = await import("./hosts/moddable/thermal-board.js");
    parts.engine = thermalEngine(settings.thermal, clock, (level, message) => trace(`${level} ${message}\n`));
  }
  if (settings.mdns) parts.udp = (await import("./hosts/moddable/udp.js")).moddableUdp;
  // The registration button and LED (Privet 6.1's physical confirmation).
  // The desktop simulators have no buttons: privet.panel.auto confirms by itself.
  if (settings.panel?.auto) parts.panel = new (await import("./hosts/moddable/auto-panel.js")).AutoPanel(settings.panel, log);
  else if (settings.panel) parts.panel = new (await import("./hosts/moddable/panel.js")).GpioPanel(settings.panel, log);
  // Wi-Fi set up from the printer's own page (a setup access point until a
  // network is stored), where the firmware manages the radio itself.
  if (settings.wifiSetup) parts.network = new (await import("./hosts/moddable/network.js")).ModdableWifi(log);
  return parts;
}

board().then(async (parts) => {
  const hal = moddableHal({ ...parts, dnsServers: settings.dns?.servers });
  const printer = new Printer(hal, {
    host: "0.0.0.0",
    port: settings.port ?? 80,
    name: settings.name ?? "Privet Printer",
    // Names besides its addresses and .local name it answers to (README: Which names).
    allowedHosts: settings.allowedHosts,
    // A device budget: each connection owns one head buffer.
    http: settings.http,
    // A Cloud Print service to register with; local-only without one.
    url: settings.cloud?.url ?? "",
    // Each outbound request's response head gets the board's budget
    // (privet.httpClient), not the desktop's 8 KB; a cloud.http of its own wins.
    cloud: settings.cloud && { ...settings.cloud, http: { ...settings.httpClient, ...settings.cloud.http } },
    // Time servers (the board boots in 1970); the desktop simulators' clock is the computer's.
    sntp: settings.sntp,
    // The setup access point's DNS answers every name with the printer, so a
    // phone that joins it opens the setup page by itself.
    wifiDnsPort: settings.wifiSetup ? settings.wifiDnsPort ?? 53 : undefined,
    // The heap as a budget: what large activities may hold at once (README: the heap budget).
    budget: settings.budget,
    // IPP's bounds, and copiesBufferBytes: a document kept for its further
    // copies costs the heap that much, so a board leaves it out (one copy).
    ipp: settings.ipp,
  });
  const port = await printer.start();
  log(`listening on port ${port}`);
  // Optional: DNS, a route out, trust anchors and the clock, checked once (README).
  if (settings.outboundCheck) startOutboundCheck(hal, settings.outboundCheck, log);
}).catch((error) => log(`failed to start: ${String(error)}`));
