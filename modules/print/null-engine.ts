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

