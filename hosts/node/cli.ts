import * as path from "node:path";
import { parseArgs } from "node:util";
import { Printer } from "../../modules/printer/printer.js";
import { defaultPrinterConfig } from "../../modules/printer/config.js";
import * as readline from "node:readline";
import type { EngineFault } from "../../modules/hal/engine.js";
import { consoleLog, nodeHal, settableClock } from "./hal.js";
import { parseServer } from "../../modules/sntp/client.js";
import { FAULT_DESCRIPTIONS, PngEngine } from "./png-engine.js";
import { NullEngine } from "../../modules/print/null-engine.js";
import { OFFICE_CAPABILITIES } from "../../modules/print/office-capabilities.js";
import { thermalSimulator } from "./thermal-sim.js";
import { firstLanAddress } from "./udp.js";
import { ConsolePanel } from "./panel.js";
import { FrontPanel } from "./front-panel.js";
import { SimulatedWifi } from "./network.js";

const USAGE = `Privet printer simulator

Usage: npm start -- [options]

  --port N           TCP port for the Privet HTTP API (default ${defaultPrinterConfig.port}; 0 picks a free one)
  --name TEXT        printer name shown to clients (default "${defaultPrinterConfig.name}")
  --description TEXT printer description, the TXT "note" (default empty)
  --state-dir DIR    where identity and settings are kept across restarts (default ./state)
  --lan              listen on every interface instead of 127.0.0.1 only
  --host ADDR        listen on this address (overrides --lan)
  --mdns-interface A announce with mDNS on the interface with IPv4 address A
                     (default 127.0.0.1; with --lan, the first LAN interface)
  --no-mdns          do not announce with mDNS at all
  --allow-host NAME  also answer to this host name (e.g. a name your router's DNS gives
                     the printer); repeat for more. Besides it the printer answers only to
                     its addresses, its .local name and localhost (DNS rebinding)
  --out DIR          where printed pages go, one PNG each (default ./out)
  --ppm N            print speed in pages per minute; 0 is as fast as data comes (default 0)
  --fault KIND       start with a fault: media-empty, media-jam or door-open
  --engine KIND      png writes pages to --out; thermal runs the board's ESC/POS
                     driver into a simulated 58 mm receipt printer (receipts to --out);
                     null decodes and drops pages (to measure the pipeline) (default png)
  --baud N           with --engine thermal: the UART's speed (default 115200)
  --max-document-mb N  refuse larger documents with document_too_large (default 8192)
  --cloud URL        register with the Cloud Print service at URL instead of the embedded
                     emulator (e.g. https://cloud.example/cloudprint); until registered only
                     /privet/info and /privet/register are offered (Privet 6.1)
  --cloud-port N     where the embedded Cloud Print emulator listens (default 8632; 0 picks)
  --xmpp HOST:PORT   with --cloud: the service's XMPP push channel (plain text; the embedded
                     emulator's is used by itself). Without it the printer polls for jobs
                     every 6 minutes
  --no-cloud         local-only: no cloud at all, local printing out of the box,
                     connection_state not-configured
  --confirm MODE     how registration is confirmed on the "panel": console (type ok or
                     cancel, the default) or auto (OK presses itself, for demos)

While it runs, type a command and Enter: empty, jam, door (make a fault),
clear (end it), status; ok, cancel (the panel's buttons, to confirm or refuse
a registration); reset (factory reset: forget the registration).
  --panel-port N     the front panel in a browser (buttons, faults, indicator, printed
                     pages) on 127.0.0.1:N (default 8633; 0 picks a free one)
  --no-panel         no front panel page
  --sntp HOST[:PORT] set the printer's clock from these time servers (comma-separated),
                     as the board does from pool.ntp.org; registration and the cloud wait
                     for it. Off by default: this computer's clock is already right, and
                     what SNTP learns only moves the simulator's own clock
  --wifi             simulate the board's Wi-Fi: no stored network opens a setup access
                     point, and /wifi joins one of a few pretend networks
  --wifi-dns-port N  with --wifi: the setup access point's DNS (every name is the printer,
                     so phones open the setup page by themselves) on UDP port N of the
                     printer's address; the board uses 53, which needs root here
  --verbose          log debug messages
  -h, --help         show this help
`;

function fail(message: string): never {
  process.stderr.write(`privet-printer: ${message}\n\n${USAGE}`);
  process.exit(2);
}

// The Cloud Print service that runs beside the printer when neither --cloud nor
// --no-cloud is given. It comes from the launcher (tools/launcher), which may
// depend on both the host and the emulator; the host depends on neither tools/.
export interface EmbeddedCloud {
  url: string;
  baseUrl: string;
  xmpp?: { host: string; port: number };
  close(): Promise<unknown>;
}
export type EmbeddedCloudStarter = (options: { port: number; stateDir: string }) => Promise<EmbeddedCloud>;

// The simulator host, from process.argv.
export async function runSimulator(startCloud?: EmbeddedCloudStarter): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: "string" },
        name: { type: "string" },
        description: { type: "string" },
        "state-dir": { type: "string" },
        lan: { type: "boolean" },
        host: { type: "string" },
        "mdns-interface": { type: "string" },
        "no-mdns": { type: "boolean" },
        "allow-host": { type: "string", multiple: true },
        out: { type: "string" },
        ppm: { type: "string" },
        fault: { type: "string" },
        engine: { type: "string" },
        baud: { type: "string" },
        "max-document-mb": { type: "string" },
        cloud: { type: "string" },
        "no-cloud": { type: "boolean" },
        "cloud-port": { type: "string" },
        xmpp: { type: "string" },
        confirm: { type: "string" },
        "panel-port": { type: "string" },
        "no-panel": { type: "boolean" },
        wifi: { type: "boolean" },
        sntp: { type: "string" },
        "wifi-dns-port": { type: "string" },
        verbose: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (error) {
    fail((error as Error).message);
  }

  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }

  const port = values.port === undefined ? defaultPrinterConfig.port : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a number from 0 to 65535, not ${values.port}`);
  const host = values.host ?? (values.lan ? "0.0.0.0" : "127.0.0.1");
  const stateDir = path.resolve(values["state-dir"] ?? "state");
  const log = consoleLog(values.verbose ? "debug" : "info");
  const mdnsInterface = values["no-mdns"] ? undefined
    : values["mdns-interface"] ?? (values.lan ? firstLanAddress() ?? "127.0.0.1" : "127.0.0.1");
  if (mdnsInterface !== undefined && !/^\d{1,3}(\.\d{1,3}){3}$/.test(mdnsInterface)) fail(`--mdns-interface takes an IPv4 address, not ${mdnsInterface}`);

  // A port is allowed (printer.lan:8631) and ignored, as the printer's own check ignores it.
  const allowedHosts = values["allow-host"] ?? [];
  for (const name of allowedHosts) {
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?(:\d{1,5})?$/i.test(name)) fail(`--allow-host takes a host name such as printer.lan, not ${name}`);
  }

  const ppm = Number(values.ppm ?? 0);
  if (!Number.isFinite(ppm) || ppm < 0) fail(`--ppm must be 0 or more, not ${values.ppm}`);
  const maxDocumentMb = Number(values["max-document-mb"] ?? 8192);
  if (!Number.isFinite(maxDocumentMb) || maxDocumentMb <= 0) fail(`--max-document-mb must be a positive number, not ${values["max-document-mb"]}`);
  const FAULTS = Object.keys(FAULT_DESCRIPTIONS) as EngineFault[];
  if (values.fault !== undefined && !FAULTS.includes(values.fault as EngineFault)) fail(`--fault must be one of ${FAULTS.join(", ")}, not ${values.fault}`);
  const outDir = path.resolve(values.out ?? "out");
  const engineKind = values.engine ?? "png";
  if (!["png", "thermal", "null"].includes(engineKind)) fail(`--engine must be png, thermal or null, not ${values.engine}`);
  const baud = Number(values.baud ?? 115200);
  if (!Number.isInteger(baud) || baud < 1200) fail(`--baud must be a whole number of at least 1200, not ${values.baud}`);
  const pngEngine = engineKind === "png" ? new PngEngine({ outDir, pagesPerMinute: ppm, log }) : undefined;
  const thermal = engineKind === "thermal" ? thermalSimulator({ outDir, baud, log }) : undefined;
  const engine = pngEngine ?? thermal?.engine ?? new NullEngine(OFFICE_CAPABILITIES);
  if (values.fault) {
    if (!pngEngine) fail("--fault needs the png engine (the thermal printer takes empty and door at the console)");
    pngEngine.setFault(values.fault as EngineFault);
  }

  if (values.cloud !== undefined && values["no-cloud"]) fail("--cloud and --no-cloud exclude each other");
  const cloudPort = values["cloud-port"] === undefined ? 8632 : Number(values["cloud-port"]);
  if (!Number.isInteger(cloudPort) || cloudPort < 0 || cloudPort > 65535) fail(`--cloud-port must be a number from 0 to 65535, not ${values["cloud-port"]}`);
  if (values["cloud-port"] !== undefined && (values.cloud !== undefined || values["no-cloud"])) fail("--cloud-port is for the embedded emulator; it goes with neither --cloud nor --no-cloud");
  // Without --cloud or --no-cloud the simulator brings its own Cloud Print
  // service, so registration works on a machine with nothing else running.
  const embedded = values["no-cloud"] || values.cloud !== undefined ? undefined : await startEmbeddedCloud();
  const cloudUrl = embedded ? embedded.baseUrl : values["no-cloud"] || values.cloud === undefined ? "" : cloudBaseUrl(values.cloud);

  async function startEmbeddedCloud(): Promise<EmbeddedCloud> {
    if (!startCloud) fail("this entry has no embedded Cloud Print emulator: start it with npm start, or give --cloud URL or --no-cloud");
    try {
      return await startCloud({ port: cloudPort, stateDir: path.join(stateDir, "cloud") });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EADDRINUSE") fail(`port ${cloudPort} for the embedded Cloud Print emulator is in use; pick another with --cloud-port, point at a running one with --cloud URL, or run local-only with --no-cloud`);
      throw error;
    }
  }
  const confirmMode = values.confirm ?? "console";
  if (confirmMode !== "console" && confirmMode !== "auto") fail(`--confirm must be console or auto, not ${values.confirm}`);
  const panel = new ConsolePanel({ write: (line) => process.stdout.write(`${line}\n`), auto: confirmMode === "auto" });

  // Where jobs are announced: the embedded emulator's own listener, or --xmpp.
  const xmppFlag: string | undefined = values.xmpp;
  const cloudFlag: string | undefined = values.cloud;
  function xmppChannel() {
    const plain = { transport: "plain" as const, allowPlainText: true };
    if (embedded?.xmpp) return { host: embedded.xmpp.host, port: embedded.xmpp.port, ...plain };
    if (xmppFlag === undefined) return undefined;
    if (cloudFlag === undefined) fail("--xmpp goes with --cloud (the embedded emulator brings its own)");
    const match = /^([^:\s]+):(\d{1,5})$/.exec(xmppFlag);
    if (!match || Number(match[2]) > 65535) fail(`--xmpp takes HOST:PORT, not ${xmppFlag}`);
    return { host: match[1], port: Number(match[2]), ...plain };
  }

  // The service base as Privet 4.2 shows it (with its protocol); a bare origin
  // gets the /cloudprint path every Cloud Print service had.
  function cloudBaseUrl(text: string): string {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      fail(`--cloud takes a URL such as http://127.0.0.1:8080/cloudprint, not ${text}`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") fail(`--cloud takes an http:// or https:// URL, not ${text}`);
    const path = url.pathname.replace(/\/+$/, "");
    return `${url.protocol}//${url.host}${path === "" ? "/cloudprint" : path}`;
  }

  const panelPort = values["panel-port"] === undefined ? 8633 : Number(values["panel-port"]);
  if (!Number.isInteger(panelPort) || panelPort < 0 || panelPort > 65535) fail(`--panel-port must be a number from 0 to 65535, not ${values["panel-port"]}`);
  const network = values.wifi ? new SimulatedWifi() : undefined;
  const wifiDnsPort = values["wifi-dns-port"] === undefined ? undefined : Number(values["wifi-dns-port"]);
  if (wifiDnsPort !== undefined && (!Number.isInteger(wifiDnsPort) || wifiDnsPort < 0 || wifiDnsPort > 65535)) fail(`--wifi-dns-port must be a number from 0 to 65535, not ${values["wifi-dns-port"]}`);
  if (wifiDnsPort !== undefined && !network) fail("--wifi-dns-port goes with --wifi");
  const sntpServers = values.sntp?.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const server of sntpServers ?? []) if (!parseServer(server)) fail(`--sntp takes HOST or HOST:PORT (comma-separated), not ${server}`);
  if (sntpServers?.length === 0) fail("--sntp needs at least one server");

  const clock = sntpServers ? { clock: settableClock() } : {};
  const printer = new Printer({ ...nodeHal({ stateDir, log, mdnsInterface, engine, panel }), network, ...clock }, {
    sntp: sntpServers && { servers: sntpServers },
    wifiDnsPort,
    url: cloudUrl,
    // The emulator on another machine of the LAN speaks plain HTTP (and XMPP).
    cloud: { allowPlainText: true, xmpp: xmppChannel() },
    maxDocumentBytes: Math.floor(maxDocumentMb * 1024 * 1024),
    // A desktop can keep a photo to print it again (IPP copies of a JPEG);
    // the board keeps none unless its manifest says so.
    ipp: { copiesBufferBytes: 1024 * 1024 },
    port,
    host,
    allowedHosts,
    name: values.name ?? defaultPrinterConfig.name,
    description: values.description ?? defaultPrinterConfig.description,
    // The server's defaults are the board's; a desktop can afford to read a
    // larger unread body rather than drop the connection.
    http: { maxHeldBytes: 256 * 1024, discardLimit: 256 * 1024 },
  });

  const frontPanel = values["no-panel"] ? undefined : new FrontPanel({
    printer, panel, port: panelPort,
    setFault: pngEngine ? (fault) => pngEngine.setFault(fault) : thermal ? (fault) => {
      thermal.device.paperOut = fault === "media-empty";
      thermal.device.coverOpen = fault === "door-open";
    } : undefined,
    pages: () => pngEngine?.pageFiles ?? [],
  });

  try {
    const bound = await printer.start();
    const pagesUrl = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${bound}/`;
    if (frontPanel) {
      frontPanel.printerUrl = pagesUrl;
      try {
        await frontPanel.start();
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
        if (values["panel-port"] !== undefined) fail(`port ${panelPort} for the front panel is in use; pick another with --panel-port or use --no-panel`);
        // The default port is taken (another simulator): any free one will do, and it is printed below.
        frontPanel.options.port = 0;
        await frontPanel.start();
      }
    }
    const shown = host === "0.0.0.0" ? "<this host's address>" : host;
    process.stdout.write(
      `Privet printer "${printer.device.name}" is listening on http://${shown}:${bound}/\n` +
      `  serial ${printer.device.serialNumber}, state in ${stateDir}\n` +
      (printer.mdns ? `  mDNS: ${printer.mdns.services.map((s) => `"${s.instanceName}.${s.type}.local"`).join(", ")} on ${mdnsInterface} (host ${printer.mdns.hostName}.local)\n` : "  mDNS: off\n") +
      `  answers to Host: its addresses, localhost, ${printer.ownHostNames().join(", ")} (--allow-host NAME adds one)\n` +
      `  its own pages (status, jobs, settings, registration${network ? ", Wi-Fi setup" : ""}): ${pagesUrl}\n` +
      (network ? `  Wi-Fi: simulated; while its setup access point is up, a probe such as http://connectivitycheck.gstatic.com/generate_204 ` +
        `is sent to the setup page${wifiDnsPort !== undefined ? `, and UDP ${host === "0.0.0.0" ? "127.0.0.1" : host}:${printer.captiveDns?.port ?? wifiDnsPort} answers every DNS name with the printer (dig -p ${printer.captiveDns?.port ?? wifiDnsPort} @${host === "0.0.0.0" ? "127.0.0.1" : host} example.com)` : ""}\n` : "") +
      (sntpServers ? `  clock: set by SNTP from ${sntpServers.join(", ")}; registration and the cloud wait for it\n` : "") +
      (frontPanel ? `  front panel (buttons, faults, indicator, printed pages): ${frontPanel.url}\n` : "") +
      `  try: curl -H 'X-Privet-Token: ""' http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${bound}/privet/info\n` +
      (pngEngine ? `  pages go to ${outDir} (${ppm > 0 ? `${ppm} pages per minute` : "as fast as data comes"})\n`
        : thermal ? `  engine: ESC/POS thermal receipt printer, 384 dots at 203 dpi on a ${baud} baud UART; receipts go to ${outDir}\n`
        : "  engine: null (pages are decoded and dropped)\n") +
      (embedded ? `  cloud: the embedded Cloud Print emulator at ${embedded.url} (state in ${path.join(stateDir, "cloud")}); ` +
        `sign in and see your printers at ${embedded.url}/cloudprint/printers\n` : "") +
      (printer.cloud ? `  cloud: ${cloudUrl}, ${printer.cloud.registered ? `registered as ${printer.cloud.printerId} for ${printer.cloud.owner}`
        : "not registered: until then only /privet/info and /privet/register are offered. Register with\n" +
          "    npm run privet -- register --user you@example.com --auto-claim\n" +
          `  in a second terminal, then type ok here${confirmMode === "auto" ? " (or not: --confirm auto presses it)" : ""}; --no-cloud prints without registering`}\n`
        : "  cloud: none (local-only; --cloud URL to register with a Cloud Print service)\n") +
      `  type empty, jam, door, clear or status and Enter to play with the engine; ok, cancel or reset for the panel; stop with Ctrl-C\n`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") fail(`port ${port} on ${host} is already in use; pick another with --port`);
    if (code === "EADDRNOTAVAIL") fail(`${host} is not an address of this machine`);
    throw error;
  }

  let stopping = false;
  function shutdown(signal: string): void {
    if (stopping) process.exit(1);
    stopping = true;
    log("info", `${signal}: stopping`);
    // Let the mDNS goodbye and closing sockets flush, but never hang on a stuck client.
    setTimeout(() => process.exit(0), 1000).unref();
    Promise.all([printer.stop(), embedded?.close(), frontPanel?.stop()]).then(() => process.exit(0));
  }
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));

  // A console for the simulated engine: faults on demand, to see jobs stop and resume.
  if (process.stdin.isTTY || process.env.PRIVET_CONSOLE === "1") {
    const commands: Record<string, EngineFault | undefined> = { empty: "media-empty", jam: "media-jam", door: "door-open", clear: undefined };
    readline.createInterface({ input: process.stdin }).on("line", (input) => {
      const word = input.trim().toLowerCase();
      if (word === "") return;
      if (word === "ok" || word === "cancel" || word === "reset") {
        panel.press(word);
        if (word === "reset") process.stdout.write("factory reset: registration and local settings erased\n");
      } else if (word in commands) {
        if (pngEngine) pngEngine.setFault(commands[word]);
        else if (thermal) {
          // The simulated receipt printer reports these through DLE EOT, as a real one would.
          thermal.device.paperOut = word === "empty";
          thermal.device.coverOpen = word === "door";
        } else process.stdout.write("the null engine cannot fault\n");
      }
      else if (word !== "status") process.stdout.write(`unknown command "${word}"; try empty, jam, door, clear, status, ok, cancel or reset\n`);
      const info = printer.info();
      const job = printer.spooler.active;
      process.stdout.write(`device ${info.device_state}${engine.fault ? ` (${engine.faultDescription})` : ""}; ` +
        `${job ? `job ${job.id} ${job.state}, ${engine.pagesPrinted} page(s) out` : "no job"}` +
        `${pngEngine ? `; ${pngEngine.pageFiles.length} page(s) printed since start` : ""}` +
        `${printer.cloud ? `; cloud ${info.connection_state}, ${printer.cloud.registered ? `registered as ${printer.cloud.printerId}` : `not registered (registration: ${printer.cloud.registration.phase})`}` : ""}\n`);
    });
  }
}
