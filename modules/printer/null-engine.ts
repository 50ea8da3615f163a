import type { EngineCapabilities, EngineEvents, EngineFault, EnginePage, PrintEngine } from "../hal/engine.js";

// An engine that takes every line at once and prints nowhere: for the
// benchmark (the pipeline without a mechanism) and for boards without one.
export class NullEngine implements PrintEngine {
  readonly fault: EngineFault | undefined = undefined;
  readonly faultDescription = "";
  pagesPrinted = 0;
  linesTaken = 0;
  private events: EngineEvents | undefined;

  constructor(readonly capabilities: EngineCapabilities) {}

  setEvents(events: EngineEvents): void {
    this.events = events;
  }

  beginJob(_jobId: string): void {
    this.pagesPrinted = 0;
  }

  beginPage(_page: EnginePage): void {}

  line(_data: Uint8Array, repeat: number): boolean {
    this.linesTaken += repeat;
    return true;
  }

  endPage(): void {
    this.pagesPrinted++;
  }

  endJob(_aborted: boolean): void {
    this.events?.jobFinished(this.pagesPrinted);
  }
}

// The media and resolutions a desktop simulator offers by default.
export const OFFICE_CAPABILITIES: EngineCapabilities = {
  colorSpaces: ["srgb_8", "sgray_8", "black_1"],
  resolutions: [{ x: 300, y: 300 }, { x: 150, y: 150 }, { x: 600, y: 600 }],
  media: [
    { name: "ISO_A4", widthMicrons: 210_000, heightMicrons: 297_000 },
    { name: "NA_LETTER", widthMicrons: 215_900, heightMicrons: 279_400 },
  ],
  maxWidth: 5100,
  maxHeight: 7020,
};
