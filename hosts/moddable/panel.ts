import Digital from "embedded:io/digital";
import Time from "time";
import Timer from "timer";
import type { IndicatorMode, Panel, PanelButton } from "../../modules/hal/panel.js";

// The board's front panel on ECMA-419 digital pins: an OK button, an
// optional Cancel button and an LED. Holding OK for longPressMs is the
// factory reset (Privet 6.1 asks for one on the device). Pins come from the
// manifest's config (privet.panel).

export interface GpioPanelConfig {
  ok: number;
  cancel?: number;
  led?: number;
  // Buttons pull the pin to ground (the usual wiring with the internal pull-up).
  buttonsActiveLow?: boolean;
  ledActiveLow?: boolean;
  longPressMs?: number;
  debounceMs?: number;
}

const BLINK_MS = 400;

export class GpioPanel implements Panel {
  private readonly listeners: Array<(button: PanelButton) => void> = [];
  private readonly led: Digital | undefined;
  private readonly ledOn: 0 | 1;
  private blinkTimer: Timer | undefined;
  private lit = false;
  private readonly inputs: Digital[] = [];

  constructor(private readonly config: GpioPanelConfig, private readonly log: (message: string) => void) {
    this.ledOn = config.ledActiveLow ? 0 : 1;
    if (config.led !== undefined) {
      this.led = new Digital({ pin: config.led, mode: Digital.Output });
      this.led.write(this.ledOn === 1 ? 0 : 1);
    }
    this.watch(config.ok, "ok");
    if (config.cancel !== undefined) this.watch(config.cancel, "cancel");
  }

  onButton(listener: (button: PanelButton) => void): void {
    this.listeners.push(listener);
  }

  indicator(mode: IndicatorMode): void {
    if (this.blinkTimer !== undefined) Timer.clear(this.blinkTimer);
    this.blinkTimer = undefined;
    if (mode === "blink") {
      this.blinkTimer = Timer.set(() => this.light(!this.lit), 0, BLINK_MS);
    } else {
      this.light(mode === "on");
    }
  }

  // No display on this board: the words go to the debug log.
  message(text: string | undefined): void {
    if (text !== undefined) this.log(`panel: ${text}`);
  }

  private light(on: boolean): void {
    this.lit = on;
    this.led?.write(on === (this.ledOn === 1) ? 1 : 0);
  }

  private emit(button: PanelButton): void {
    for (const listener of this.listeners.slice()) listener(button);
  }

  // A press counts on release, so a long hold can become the reset instead;
  // edges closer together than the debounce time are contact bounce.
  private watch(pin: number, button: "ok" | "cancel"): void {
    const activeLow = this.config.buttonsActiveLow ?? true;
    const longPressMs = this.config.longPressMs ?? 5000;
    const debounceMs = this.config.debounceMs ?? 30;
    let pressedAt = -1;
    let lastEdge = -debounceMs;
    let longTimer: Timer | undefined;
    let consumed = false;
    const self = this;
    const input = new Digital({
      pin,
      mode: activeLow ? Digital.InputPullUp : Digital.InputPullDown,
      edge: Digital.Rising | Digital.Falling,
      onReadable(this: Digital) {
        const now = Time.ticks;
        if (now - lastEdge < debounceMs) return;
        lastEdge = now;
        const down = (this.read() === 0) === activeLow;
        if (down && pressedAt < 0) {
          pressedAt = now;
          consumed = false;
          if (button === "ok") {
            longTimer = Timer.set(() => {
              longTimer = undefined;
              consumed = true;
              self.emit("reset");
            }, longPressMs);
          }
        } else if (!down && pressedAt >= 0) {
          pressedAt = -1;
          if (longTimer !== undefined) Timer.clear(longTimer);
          longTimer = undefined;
          if (!consumed) self.emit(button);
        }
      },
    });
    this.inputs.push(input);
  }
}
