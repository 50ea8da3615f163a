import type { Log } from "../hal/log.js";
import type { DeviceSettings } from "./settings.js";

// The local factory reset (Privet 6.1) in one place: every part that keeps
// something of the owner's says here how it forgets, in the order given
// (the cloud's credentials first, so a registration cannot outlive it), and
// the settings go back to their defaults last, name and description with them.
export class FactoryReset {
  private readonly parts: Array<{ name: string; forget: () => void }> = [];

  constructor(private readonly settings: DeviceSettings, private readonly log: Log) {}

  add(name: string, forget: () => void): void {
    this.parts.push({ name, forget });
  }

  run(): void {
    this.log("info", `factory reset: ${[...this.parts.map((p) => p.name), "settings"].join(", ")}`);
    for (const part of this.parts) {
      try {
        part.forget();
      } catch (error) {
        // One part failing must not keep the others' data.
        this.log("error", `factory reset: ${part.name} failed: ${String(error)}`);
      }
    }
    this.settings.reset();
  }
}
