import type { Clock } from "../hal/clock.js";
import type { Log } from "../hal/log.js";
import type { EngineFault, PrintEngine } from "../hal/engine.js";
import type { HttpRequest } from "../http/server.js";
import type { Job, JobCause } from "../jobs/job.js";
import type { JobStore } from "../jobs/store.js";
import { PwgDecoder, RasterError, type RasterSink } from "../pwg/decoder.js";
import type { PageFormat, PageHeader } from "../pwg/header.js";

// Streams one document from the connection through the PWG decoder into the
// engine. When the engine is full the decoder stops mid-chunk, the request is
// paused, and TCP's window holds the client back (Privet 5.2); nothing here
// grows with the document.

const YIELD_BYTES = 32 * 1024;

export type ReceiveResult = { ok: true } | { ok: false; description: string };

const FAULT_CAUSE: Record<EngineFault, JobCause> = {
  "media-empty": { device_state_cause: { error_code: "INPUT_TRAY" } },
  "media-jam": { device_state_cause: { error_code: "MEDIA_PATH" } },
  "door-open": { device_state_cause: { error_code: "OTHER" } },
};

export class Spooler implements RasterSink {
  private job: Job | undefined;
  private request: HttpRequest | undefined;
  private decoder: PwgDecoder | undefined;
  private waitingForEngine = false;
  private bodyEnded = false;
  private receiving = false;
  private onReceived: ((result: ReceiveResult) => void) | undefined;
  // Called whenever the active job or the engine's state changes.
  onChange: () => void = () => {};

  private yielding = false;
  private sinceYield = 0;

  constructor(private readonly engine: PrintEngine, private readonly jobs: JobStore, private readonly clock: Clock, private readonly log: Log) {
    engine.setEvents({
      ready: () => this.engineReady(),
      statusChanged: () => this.engineStatus(),
      jobFinished: (pages) => this.engineFinished(pages),
    });
  }

  // The job receiving or printing, if any.
  get active(): Job | undefined {
    return this.job;
  }

  // Starts printing job from request's body; onReceived is called once the
  // whole document has been taken in (or refused as invalid).
  start(job: Job, request: HttpRequest, onReceived: (result: ReceiveResult) => void): void {
    if (this.job) throw new Error("spooler: already printing");
    this.job = job;
    this.request = request;
    this.onReceived = onReceived;
    this.waitingForEngine = false;
    this.bodyEnded = false;
    this.receiving = true;
    job.state = "in_progress";
    this.jobs.started(job);
    const caps = this.engine.capabilities;
    this.decoder = new PwgDecoder(this, { maxWidth: caps.maxWidth, maxHeight: caps.maxHeight });
    this.engine.beginJob(job.id);
    if (this.engine.fault) this.engineStatus();
    this.log("info", `job ${job.id}: printing ${job.jobName ? `"${job.jobName}" ` : ""}(${job.jobSize} bytes)`);
    request.readBody({
      data: (chunk) => this.data(chunk),
      end: () => {
        this.bodyEnded = true;
        if (!this.waitingForEngine) this.complete();
      },
      abort: (reason) => this.abort(reason, { device_action_cause: { error_code: "DOWNLOAD_FAILURE" } }, false),
    });
    this.onChange();
  }

  // ---- the decoder's sink: straight into the engine ----

  beginPage(header: PageHeader, format: PageFormat, pageNumber: number): void {
    const caps = this.engine.capabilities;
    if (!caps.colorSpaces.includes(format.colorSpace)) {
      throw new RasterError(`page ${pageNumber} is ${format.colorSpace}; this printer takes ${caps.colorSpaces.join(", ")}`);
    }
    if (!caps.resolutions.some((r) => r.x === header.xDpi && r.y === header.yDpi)) {
      throw new RasterError(`page ${pageNumber} is at ${header.xDpi} x ${header.yDpi} dpi; this printer prints at ${caps.resolutions.map((r) => `${r.x} x ${r.y}`).join(", ")} dpi`);
    }
    this.engine.beginPage({ width: header.width, height: header.height, xDpi: header.xDpi, yDpi: header.yDpi, colorSpace: format.colorSpace, bytesPerLine: header.bytesPerLine });
  }

  line(data: Uint8Array, repeat: number): boolean {
    return this.engine.line(data, repeat);
  }

  endPage(): void {
    this.engine.endPage();
  }

  // ---- the body ----

  private data(chunk: Uint8Array): void {
    if (!this.receiving || !this.decoder) return;
    let more: boolean;
    try {
      more = this.decoder.write(chunk);
    } catch (error) {
      return this.invalid(error);
    }
    if (!more) {
      this.waitingForEngine = true;
      this.request!.pause();
      return;
    }
    // Decoding takes a while; every YIELD_BYTES step aside so /privet/info
    // and jobstate are answered while a document streams (Privet 5.2). Hosts
    // that hand over big chunks (Node: 64 KB) yield after each; those that
    // hand over small ones (Moddable: one segment) are not slowed by it.
    this.sinceYield += chunk.length;
    if (this.sinceYield >= YIELD_BYTES && !this.yielding && !this.bodyEnded) {
      this.sinceYield = 0;
      this.yielding = true;
      this.request!.pause();
      this.clock.defer(() => {
        this.yielding = false;
        if (this.receiving && !this.waitingForEngine) this.request?.resume();
      });
    }
  }

  private engineReady(): void {
    if (!this.receiving || !this.waitingForEngine || !this.decoder) return;
    let more: boolean;
    try {
      more = this.decoder.resume();
    } catch (error) {
      return this.invalid(error);
    }
    if (!more) return;
    this.waitingForEngine = false;
    if (this.bodyEnded) this.complete();
    else if (!this.yielding) this.request!.resume();
  }

  private complete(): void {
    try {
      this.decoder!.end();
    } catch (error) {
      return this.invalid(error);
    }
    this.receiving = false;
    this.log("info", `job ${this.job!.id}: document received, ${this.decoder!.pages} page(s)`);
    this.decoder = undefined;
    this.engine.endJob(false);
    this.finishReceiving({ ok: true });
  }

  private invalid(error: unknown): void {
    if (!(error instanceof RasterError)) throw error;
    this.abort(error.message, { device_action_cause: { error_code: "PRINT_FAILURE" } }, true);
  }

  // The job ends here; the engine still has to let go of what it holds.
  private abort(description: string, cause: JobCause, answer: boolean): void {
    const job = this.job;
    if (!job || !this.receiving) return;
    this.receiving = false;
    this.decoder = undefined;
    job.state = "aborted";
    job.description = description;
    job.cause = cause;
    this.log("warn", `job ${job.id}: aborted: ${description}`);
    this.engine.endJob(true);
    if (answer) this.finishReceiving({ ok: false, description });
    else this.onReceived = undefined;
    this.onChange();
  }

  private finishReceiving(result: ReceiveResult): void {
    const callback = this.onReceived;
    this.onReceived = undefined;
    this.request = undefined;
    callback?.(result);
  }

  // ---- the engine ----

  private engineStatus(): void {
    const job = this.job;
    if (job && (job.state === "in_progress" || job.state === "stopped")) {
      const fault = this.engine.fault;
      if (fault) {
        job.state = "stopped";
        job.description = this.engine.faultDescription;
        job.cause = FAULT_CAUSE[fault];
      } else if (job.state === "stopped") {
        job.state = "in_progress";
        job.description = undefined;
        job.cause = undefined;
      }
    }
    this.onChange();
  }

  private engineFinished(pages: number): void {
    const job = this.job;
    if (!job) return;
    job.pagesPrinted = pages;
    if (job.state !== "aborted") {
      job.state = "done";
      job.description = undefined;
      job.cause = undefined;
    }
    this.log("info", `job ${job.id}: ${job.state}, ${pages} page(s) printed`);
    this.jobs.finished(job);
    this.job = undefined;
    this.onChange();
  }

  // pages_printed as of now, for jobstate.
  refresh(): void {
    if (this.job && this.job.state !== "aborted") this.job.pagesPrinted = this.engine.pagesPrinted;
  }
}
