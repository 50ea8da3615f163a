// The printer's front panel: the buttons a person presses to confirm a
// registration (Privet 6.1 asks for a physical action) and an indicator that
// says the printer is waiting for one. On the board these are GPIO pins; in
// the simulator, console commands.

// "reset" is how a host reports its factory-reset gesture (a long press on
// the board, a console command in the simulator).
export type PanelButton = "ok" | "cancel" | "reset";

export type IndicatorMode = "off" | "on" | "blink";

export interface Panel {
  onButton(listener: (button: PanelButton) => void): void;
  indicator(mode: IndicatorMode): void;
  // Words for a person (a display, the console); undefined clears them.
  message(text: string | undefined): void;
}
