import Timer from "timer";
import type { IndicatorMode, Panel, PanelButton } from "../../modules/hal/panel.js";

// A panel for the Moddable simulator, which has no buttons: when the printer
// starts waiting for confirmation (its indicator blinks), OK is pressed after
// a short delay, as `npm start -- --confirm auto` does on the Node host. For
// demos and tests only; a board confirms with a real button (GpioPanel).

export interface AutoPanelConfig {
  auto: true;
  delayMs?: number;
}

export class AutoPanel implements Panel {
  private readonly listeners: Array<(button: PanelButton) => void> = [];
  private pending: Timer | undefined;

  constructor(private readonly config: AutoPanelConfig, private readonly log: (message: string) => void) {}

  onButton(listener: (button: PanelButton) => void): void {
    this.listeners.push(listener);
  }

  indicator(mode: IndicatorMode): void {
    if (mode !== "blink") {
      if (this.pending !== undefined) Timer.clear(this.pending);
      this.pending = undefined;
      return;
    }
    if (this.pending !== undefined) return;
    this.pending = Timer.set(() => {
      this.pending = undefined;
      this.log("panel: OK pressed by itself (auto panel)");
      for (const listener of this.listeners.slice()) listener("ok");
    }, this.config.delayMs ?? 500);
  }

  message(text: string | undefined): void {
    if (text !== undefined) this.log(`panel: ${text}`);
  }
}
