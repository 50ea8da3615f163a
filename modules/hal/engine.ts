// The print mechanism behind the firmware: a thermal head on the board, PNG
// files in the simulator, nothing at all in the benchmark.

export type EngineColorSpace = "sgray_8" | "srgb_8" | "black_1";
export type EngineFault = "media-empty" | "media-jam" | "door-open";

export interface EnginePage {
  width: number;
  height: number;
  xDpi: number;
  yDpi: number;
  colorSpace: EngineColorSpace;
  bytesPerLine: number;
}

export interface MediaSize {
  // CDD names, e.g. "ISO_A4", "NA_LETTER", "CUSTOM".
  name: string;
  widthMicrons: number;
  heightMicrons: number;
  // A roll: heightMicrons is the longest page it takes.
  continuous?: boolean;
}

// What the engine can really do; the CDD is built from this, so clients
// render at sizes the engine takes.
export interface EngineCapabilities {
  colorSpaces: EngineColorSpace[];
  resolutions: Array<{ x: number; y: number }>;
  media: MediaSize[];
  maxWidth: number;
  maxHeight: number;
  // The rated speed in pages per minute (IPP's pages-per-minute; PWG 5100.12
  // asks every printer to state it), and in colour when it prints colour.
  pagesPerMinute?: number;
}

export interface EngineEvents {
  // The engine was full (line() returned false) and can take more now.
  ready(): void;
  // A fault began or ended.
  statusChanged(): void;
  // Everything of the job has been printed (or thrown away after an abort).
  jobFinished(pagesPrinted: number): void;
}

export interface PrintEngine {
  readonly capabilities: EngineCapabilities;
  readonly fault: EngineFault | undefined;
  // Words for a person, e.g. "Out of paper in tray 1".
  readonly faultDescription: string;
  // Pages of the current job that have come out.
  readonly pagesPrinted: number;
  setEvents(events: EngineEvents): void;
  beginJob(jobId: string): void;
  beginPage(page: EnginePage): void;
  // One decoded line, printed repeat times. The data is only valid during
  // the call. Returns false when full: send nothing more until ready().
  // runs, when the source knows them (see LineRuns), lets an engine work per
  // run instead of per pixel; the dots must be the same with or without it.
  line(data: Uint8Array, repeat: number, runs?: Uint16Array): boolean;
  endPage(): void;
  endJob(aborted: boolean): void;
}
