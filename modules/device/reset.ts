import type { Log } from "../hal/log.js";
import type { DeviceSettings } from "./settings.js";

// What keeps something of the owner's: the cloud's credentials, the Wi-Fi network.
export interface Forgets {
  readonly forgets: string;
  factoryReset(): void;
}

// The local factory reset (Privet 6.1) in one place: every part that keeps
// something of the owner's is listed here and forgets it, in the order
// given (the cloud's credentials first, so a registration cannot outlive
// it), and the settings go back to their defaults last, name and
// description with them.
export class FactoryReset {
  private readonly parts: Forgets[] = [];

  constructor(private readonly settings: DeviceSettings, private readonly log: Log) {}

  add(part: Forgets): void {
    this.parts.push(part);
  }

  run(): void {
    this.log("info", `factory reset: ${[...this.parts.map((p) => p.forgets), "settings"].join(", ")}`);
    for (const part of this.parts) {
      try {
        part.factoryReset();
      } catch (error) {
        // One part failing must not keep the others' data.
        this.log("error", `factory reset: ${part.forgets} failed: ${String(error)}`);
      }
    }
    this.settings.reset();
  }
}
