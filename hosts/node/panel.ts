import type { IndicatorMode, Panel, PanelButton } from "../../modules/hal/panel.js";

// The simulator's front panel: the console types the buttons (ok, cancel,
// reset) and shows the indicator and the panel's words. With auto, OK
// presses itself shortly after the printer asks for it (demos and tests).

export interface ConsolePanelOptions {
  // Where the panel's words go (stdout in the CLI).
  write(line: string): void;
  auto?: boolean;
  autoDelayMs?: number;
}

export class ConsolePanel implements Panel {
  private readonly listeners: Array<(button: PanelButton) => void> = [];
  mode: IndicatorMode = "off";
  text: string | undefined;
  private autoTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ConsolePanelOptions) {}

  onButton(listener: (button: PanelButton) => void): void {
    this.listeners.push(listener);
  }

  press(button: PanelButton): void {
    for (const listener of this.listeners.slice()) listener(button);
  }

  indicator(mode: IndicatorMode): void {
    if (mode === this.mode) return;
    this.mode = mode;
    this.options.write(`[panel] indicator ${mode === "blink" ? "blinking" : mode}`);
    clearTimeout(this.autoTimer);
    if (mode === "blink" && this.options.auto) {
      this.autoTimer = setTimeout(() => {
        this.options.write("[panel] OK pressed (--confirm auto)");
        this.press("ok");
      }, this.options.autoDelayMs ?? 500);
      this.autoTimer.unref();
    }
  }

  message(text: string | undefined): void {
    if (text === this.text) return;
    this.text = text;
    if (text !== undefined) this.options.write(`[panel] ${text}${this.mode === "blink" && !this.options.auto ? " (type ok or cancel)" : ""}`);
  }
}
