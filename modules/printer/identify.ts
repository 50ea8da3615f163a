import type { Hal } from "../hal/hal.js";

// How long Identify-Printer blinks the indicator.
const IDENTIFY_MS = 5000;

// IPP's Identify-Printer on this device: the panel's indicator blinks, its
// display (the console in the simulator) shows the message; without a panel,
// the log does. panelTaken: a registration waiting for the button owns the
// panel until it is answered.
export function identifyPolicy(hal: Hal, name: () => string, panelTaken: () => boolean): {
  identifyActions: string[];
  identify: (actions: string[], message: string | undefined) => void;
} {
  const panel = hal.panel;
  return {
    identifyActions: panel ? ["flash", "display"] : ["display"],
    identify: (actions, message) => {
      hal.log("info", `identify: ${actions.join(", ")}${message ? `: ${message}` : ""}`);
      if (!panel || panelTaken()) return;
      if (actions.includes("display")) panel.message(message ?? `This is ${name()}`);
      if (actions.includes("flash")) {
        panel.indicator("blink");
        hal.clock.setTimer(() => panel.indicator("off"), IDENTIFY_MS);
      }
    },
  };
}
