// A printer with its two services, _privet._tcp and IPP Everywhere's
// _ipp._tcp with the _print subtype, for tests that must run it as its own
// process, inside a network namespace:
//   node two-service-printer.js ADDRESS NAME PORT STATE_DIR
// Logs go to stderr; SIGTERM stops it with mDNS goodbyes.
import { Printer } from "../../modules/printer/printer.js";
import { consoleLog, nodeHal } from "../../hosts/node/hal.js";

const [address, name, port, stateDir] = process.argv.slice(2);
if (address !== undefined) {
  const printer = new Printer(nodeHal({ stateDir, mdnsInterface: address, log: consoleLog("info") }), { port: Number(port), host: address, name });
  await printer.start();
  process.on("SIGTERM", () => void printer.stop().then(() => process.exit(0)));
}
