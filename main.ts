import config from "mc/config";
import { moddableHal } from "./hosts/moddable/hal.js";
import { Printer } from "./modules/printer/printer.js";

// Moddable entry point: the same Printer the Node host runs, on the board's HAL.
// Port and name come from the manifest's config for each platform.
const settings = config.privet ?? {};
const printer = new Printer(moddableHal(), {
  host: "0.0.0.0",
  port: settings.port ?? 80,
  name: settings.name ?? "Privet Printer",
});
printer.start().then(
  (port) => trace(`privet: listening on port ${port}\n`),
  (error) => trace(`privet: failed to start: ${String(error)}\n`),
);
