// A printer that publishes a second service beside Privet (_ipp._tcp with the
// _print subtype, as IPP Everywhere will), for tests that must run it as its
// own process, inside a network namespace:
//   node two-service-printer.js ADDRESS NAME PORT STATE_DIR
// Logs go to stderr; SIGTERM stops it with mDNS goodbyes.
import { Printer } from "../../modules/printer/printer.js";
import { consoleLog, nodeHal } from "../../hosts/node/hal.js";

export const IPP_TXT = (name: string): Array<[string, string]> =>
  [["txtvers", "1"], ["qtotal", "1"], ["rp", "ipp/print"], ["ty", name], ["pdl", "image/pwg-raster"], ["kind", "document"]];

const [address, name, port, stateDir] = process.argv.slice(2);
if (address !== undefined) {
  const printer = new Printer(nodeHal({ stateDir, mdnsInterface: address, log: consoleLog("info") }), { port: Number(port), host: address, name });
  const bound = await printer.start();
  // Added while the host name is still being probed: it is announced with it.
  printer.publish({ instance: name, type: "_ipp._tcp", subtypes: ["_print"], port: bound, txt: IPP_TXT(name) });
  process.on("SIGTERM", () => void printer.stop().then(() => process.exit(0)));
}
