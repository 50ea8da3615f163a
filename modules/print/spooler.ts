import type { Clock } from "../hal/clock.js";
import type { Cost } from "../http/turns.js";
import type { Log } from "../hal/log.js";
import { FAULTS } from "../device/faults.js";
import type { PrintEngine } from "../hal/engine.js";
import type { Job, JobCause } from "../jobs/job.js";
import { PwgDecoder, RasterError, type RasterSink } from "../pwg/decoder.js";
import type { PageFormat, PageHeader } from "../pwg/header.js";
import { escapeControls } from "../text/utf8.js";
import type { JobLifecycle } from "./lifecycle.js";
import { SegmentSource } from "./segment-source.js";
import type { DecoderFactory, DocumentConsumer, DocumentDecoder, DocumentSource } from "./source.js";

// Streams one document from its source through the PWG decoder into the
// engine. When the engine is full the decoder stops mid-chunk, the source is
// paused, and for a network source TCP's window holds the sender back
// (Privet 5.2); nothing here grows with the document.

const YIELD_BYTES = 32 * 1024;

// The decoder a document gets unless its front end names another.
export const pwgDecoder: DecoderFactory = (sink, limits) => new PwgDecoder(sink, limits);

export type ReceiveResult =
  // copies, when more than one was asked for: how many will print, 1 when
  // the document was too long to keep for the others.
  | { ok: true; copies?: number }
  // invalid_document: the bytes are not a document this printer takes;
  // printer_error: the printer itself failed while taking it.
  | { ok: false; error: "invalid_document" | "printer_error"; description: string };

// A fresh object per job: a job's cause is stringified (jobstate, cloud reports),
// and on the board XS cannot stringify a preloaded module's objects.
const cancelled = (): JobCause => ({ user_action_cause: { action_code: "CANCELLED" } });

// Copies beyond the first are the kept document decoded again, so they are
// offered only for a document of at most maxBytes (the first copy's bytes
// are kept as they stream past; a longer one prints once).
export interface CopiesRequest {
  count: number;
  maxBytes: number;
}

const enum Phase {
  // No job.
  Idle,
  // Decoding the document as the source delivers it.
  Streaming,
  // The source is paused for one turn of the event loop, so other requests
  // are answered while a long document streams.
  Yielding,
  // The engine is full: the decoder holds the rest of a chunk, the source is paused.
  EngineFull,
  // As EngineFull, and the source has already ended.
  EngineFullAtEnd,
  // The whole document is in; the engine is still printing what it holds.
  Finishing,
  // The job was aborted; the engine is letting go of what it holds.
  Aborting,
}

// How long a job waits for its decoder's share of the heap (a JPEG's rows).
const BUDGET_WAIT_MS = 60_000;

export class Spooler implements RasterSink {
  private phase = Phase.Idle;
  private job: Job | undefined;
  private source: DocumentSource | undefined;
  private decoder: DocumentDecoder | undefined;
  private onReceived: ((result: ReceiveResult) => void) | undefined;
  private sinceYield = 0;
  private decode: DecoderFactory = pwgDecoder;
  private copiesLeft = 0;
  private copiesMaxBytes = 0;
  // The document as it came, while it may still be printed again.
  private held: Uint8Array[] | undefined;
  private heldBytes = 0;
  private replaying = false;
  private copiesAsked = false;
  // The decoders' pages so far, over all copies (the log's count).
  private pagesDecoded = 0;
  // The engine's fault began or ended (with or without a job), or the
  // spooler let go of a job: what the device state follows.
  onEngineStatus: () => void = () => {};

  // The device's memory budget (http/turns.ts, given by the printer); absent, nothing is reserved.
  budget: { run(work: () => Promise<void>, cost: number | Cost): Promise<void>; withdraw?(work: () => unknown): boolean } | undefined;
  private giveBack: (() => void) | undefined;

  constructor(private readonly engine: PrintEngine, private readonly lifecycle: JobLifecycle, private readonly clock: Clock, private readonly log: Log) {
    // try/catch in place rather than a guard taking a closure: these run for
    // every chunk and every band, and must not allocate.
    engine.setEvents({
      ready: () => { try { this.engineReady(); } catch (error) { this.failed(error); } },
      statusChanged: () => { try { this.engineStatus(); } catch (error) { this.failed(error); } },
      jobFinished: (pages) => { try { this.engineFinished(pages); } catch (error) { this.failed(error); } },
    });
  }

  // The job receiving or printing, if any.
  get active(): Job | undefined {
    return this.job;
  }

  // Starts printing job from source; onReceived is called once the whole
  // document has been taken in or refused. A source that fails (the sender
  // went away) gets no answer: there is no one to answer, and the aborted
  // job's event tells every listener.
  // decode turns the bytes into lines; PWG raster unless the front end says otherwise.
  // copies beyond one are printed only when the document fits copies.maxBytes.
  start(job: Job, source: DocumentSource, onReceived: (result: ReceiveResult) => void, decode: DecoderFactory = pwgDecoder, copies?: CopiesRequest): void {
    if (this.phase !== Phase.Idle) throw new Error("spooler: already printing");
    this.job = job;
    this.source = source;
    this.onReceived = onReceived;
    this.sinceYield = 0;
    this.phase = Phase.Streaming;
    this.decode = decode;
    this.pagesDecoded = 0;
    this.copiesLeft = copies && copies.count > 1 && copies.maxBytes > 0 ? copies.count - 1 : 0;
    this.copiesMaxBytes = copies?.maxBytes ?? 0;
    this.held = this.copiesLeft > 0 ? [] : undefined;
    this.heldBytes = 0;
    this.replaying = false;
    this.copiesAsked = copies !== undefined && copies.count > 1;
    this.lifecycle.start(job);
    this.decoder = this.newDecoder();
    this.log("info", `job ${job.id}: printing ${job.jobName ? `"${escapeControls(job.jobName)}" ` : ""}(${job.jobSize ?? "unknown"} bytes)`);
    try {
      this.engine.beginJob(job.id);
      if (this.engine.fault) this.engineStatus();
    } catch (error) {
      return this.failed(error);
    }
    // A decoder that holds much for the whole job (a JPEG's rows) first takes
    // its share of the heap: until then the document is not read, so TCP's
    // window holds the sender, and what holds the rest (a cloud call) ends first.
    const cost = decode.workingShare;
    if (this.budget && cost) {
      // Not for ever: a heap that never has the room (a cloud call that
      // will not end, a leak) must not hold the printer; the job ends,
      // saying why, and its share is let go when it comes.
      const budget = this.budget;
      const work = () => new Promise<void>((done) => {
        this.clock.clearTimer(waited);
        this.giveBack = done;
        if (this.job === job && this.phase === Phase.Streaming) this.read(source);
        else this.releaseBudget();
      });
      const waited = this.clock.setTimer(() => {
        if (this.job === job && this.giveBack === undefined) {
          budget.withdraw?.(work);
          this.abort(`the printer had no room for this document's decoder within ${BUDGET_WAIT_MS / 1000} s; try again when it is idle`, { device_action_cause: { error_code: "OTHER" } }, "printer_error");
        }
      }, BUDGET_WAIT_MS);
      void budget.run(work, cost);
    } else {
      this.read(source);
    }
  }

  private read(source: DocumentSource): void {
    source.readBody({
      data: (chunk) => { try { this.data(chunk); } catch (error) { this.failed(error); } },
      end: () => { try { this.sourceEnded(); } catch (error) { this.failed(error); } },
      abort: (reason) => this.abort(reason, { device_action_cause: { error_code: "DOWNLOAD_FAILURE" } }, undefined),
    });
  }

  private releaseBudget(): void {
    const done = this.giveBack;
    this.giveBack = undefined;
    if (done) done();
  }

  // A person cancelled the job (IPP Cancel-Job) while its document was still
  // coming in: it ends aborted with a CANCELLED cause, and the front end
  // that started it hears so. Once the whole document is in the engine the
  // pages are on their way and false is returned.
  // A front end that learned of the cancellation elsewhere (the cloud) says why.
  cancel(job: Job, description = "canceled by the user", cause: JobCause = cancelled()): boolean {
    if (job !== this.job || this.phase === Phase.Idle || this.phase === Phase.Aborting || this.phase === Phase.Finishing) return false;
    this.abort(description, cause, "printer_error");
    return true;
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

  line(data: Uint8Array, repeat: number, runs?: Uint16Array): boolean {
    return this.engine.line(data, repeat, runs);
  }

  endPage(): void {
    this.engine.endPage();
  }

  // ---- the document ----

  private newDecoder(): DocumentDecoder {
    const caps = this.engine.capabilities;
    return this.decode(this, { maxWidth: caps.maxWidth, maxHeight: caps.maxHeight });
  }

  private data(chunk: Uint8Array): void {
    if (this.phase !== Phase.Streaming && this.phase !== Phase.Yielding) {
      // Only a source that ignores pause() gets here while the engine is full.
      if (this.phase === Phase.EngineFull) this.abort("the document source sent data while paused", { device_action_cause: { error_code: "DOWNLOAD_FAILURE" } }, "printer_error");
      return;
    }
    if (this.held && !this.replaying) this.hold(chunk);
    if (!this.decoder!.write(chunk)) {
      this.phase = Phase.EngineFull;
      this.source!.pause();
      return;
    }
    // Decoding takes a while; every YIELD_BYTES step aside so /privet/info
    // and jobstate are answered while a document streams (Privet 5.2). Hosts
    // that hand over big chunks (Node: 64 KB) yield after each; those that
    // hand over small ones (Moddable: one segment) are not slowed by it.
    this.sinceYield += chunk.length;
    if (this.sinceYield >= YIELD_BYTES && this.phase === Phase.Streaming) {
      this.sinceYield = 0;
      this.phase = Phase.Yielding;
      this.source!.pause();
      this.clock.defer(() => {
        if (this.phase !== Phase.Yielding) return;
        this.phase = Phase.Streaming;
        this.source!.resume();
      });
    }
  }

  private sourceEnded(): void {
    if (this.phase === Phase.Streaming || this.phase === Phase.Yielding) this.complete();
    else if (this.phase === Phase.EngineFull) this.phase = Phase.EngineFullAtEnd;
  }

  private engineReady(): void {
    if (this.phase !== Phase.EngineFull && this.phase !== Phase.EngineFullAtEnd) return;
    if (!this.decoder!.resume()) return;
    if (this.phase === Phase.EngineFullAtEnd) return this.complete();
    this.phase = Phase.Streaming;
    this.source!.resume();
  }

  // The chunk is only lent (DocumentConsumer.data), so a copy is kept; past
  // the bound all of it goes at once rather than at the end of the job.
  private hold(chunk: Uint8Array): void {
    if (this.heldBytes + chunk.length > this.copiesMaxBytes) {
      this.log("info", `job ${this.job!.id}: the document is longer than ${this.copiesMaxBytes} bytes: one copy is printed`);
      this.held = undefined;
      this.heldBytes = 0;
      return;
    }
    this.held!.push(chunk.slice());
    this.heldBytes += chunk.length;
  }

  private complete(): void {
    this.decoder!.end();
    const job = this.job!;
    this.pagesDecoded += this.decoder!.pages;
    this.decoder = undefined;
    this.source = undefined;
    const held = this.held;
    if (held && this.copiesLeft > 0) {
      // The whole document is in: the front end can answer while the further
      // copies print. The engine's job stays open across them, so its page
      // count (the job's impressions) covers every copy.
      if (this.onReceived) {
        this.log("info", `job ${job.id}: document received, ${this.pagesDecoded} page(s), ${this.copiesLeft + 1} copies`);
        this.answer({ ok: true, copies: this.copiesLeft + 1 });
      }
      this.copiesLeft--;
      return this.replay(held);
    }
    this.phase = Phase.Finishing;
    this.log("info", `job ${job.id}: document received, ${this.pagesDecoded} page(s)`);
    this.held = undefined;
    this.engine.endJob(false);
    // With copies the answer went after the first; here it is a single copy.
    this.answer(this.copiesAsked ? { ok: true, copies: 1 } : { ok: true });
  }

  // One more copy from the kept bytes, through the same phases as the first.
  private replay(held: Uint8Array[]): void {
    // One buffer, kept for any copy after this one, read back as the bench's pages are.
    if (held.length > 1) held.splice(0, held.length, concatenate(held, this.heldBytes));
    const source = new SegmentSource(held[0] ?? new Uint8Array(0), REPLAY_SEGMENT, this.clock);
    this.source = source;
    this.replaying = true;
    this.sinceYield = 0;
    this.phase = Phase.Streaming;
    this.decoder = this.newDecoder();
    // A copy of a job that has since ended (canceled) delivers nothing.
    const mine = () => this.source === source;
    const consumer: DocumentConsumer = {
      data: (chunk) => { if (!mine()) return; try { this.data(chunk); } catch (error) { this.failed(error); } },
      end: () => { if (!mine()) return; try { this.sourceEnded(); } catch (error) { this.failed(error); } },
      abort: () => {},
    };
    source.readBody(consumer);
  }

  // Anything thrown on the print path (a bad document, or a bug in an engine
  // or decoder) ends the job, never the host's socket callback.
  private failed(error: unknown): void {
    if (error instanceof RasterError) {
      this.abort(error.message, { device_action_cause: { error_code: "PRINT_FAILURE" } }, "invalid_document");
    } else {
      this.log("error", `job ${this.job?.id ?? "-"}: print path failed: ${escapeControls(String(error))}`);
      this.abort(`the printer failed: ${String(error)}`, { device_action_cause: { error_code: "OTHER" } }, "printer_error");
    }
  }

  // The job ends here; the engine still has to let go of what it holds.
  private abort(description: string, cause: JobCause, answer: "invalid_document" | "printer_error" | undefined): void {
    const job = this.job;
    if (!job || this.phase === Phase.Aborting || this.phase === Phase.Idle) return;
    this.phase = Phase.Aborting;
    this.decoder = undefined;
    this.held = undefined;
    // What the source still sends is dropped (a front end's answer ends it).
    this.source = undefined;
    this.lifecycle.abort(job, description, cause);
    this.log("warn", `job ${job.id}: aborted: ${escapeControls(description)}`);
    if (answer) this.answer({ ok: false, error: answer, description });
    else this.onReceived = undefined;
    try {
      this.engine.endJob(true);
    } catch (error) {
      // The engine cannot even let go: forget the job so the printer takes the next one.
      this.log("error", `job ${job.id}: engine failed to end the job: ${String(error)}`);
      this.engineFinished(job.pagesPrinted);
    }
  }

  private answer(result: ReceiveResult): void {
    const callback = this.onReceived;
    this.onReceived = undefined;
    callback?.(result);
  }

  // ---- the engine ----

  private engineStatus(): void {
    const job = this.job;
    if (job) {
      const fault = this.engine.fault;
      if (fault && job.state === "in_progress") this.lifecycle.stop(job, this.engine.faultDescription, { device_state_cause: { error_code: FAULTS[fault].jobErrorCode } });
      else if (!fault && job.state === "stopped") this.lifecycle.resume(job);
    }
    this.onEngineStatus();
  }

  private engineFinished(pages: number): void {
    const job = this.job;
    if (!job || this.phase === Phase.Idle) return;
    this.phase = Phase.Idle;
    this.job = undefined;
    this.decoder = undefined;
    this.source = undefined;
    this.held = undefined;
    this.releaseBudget();
    this.lifecycle.finish(job, pages);
    this.log("info", `job ${job.id}: ${job.state}, ${pages} page(s) printed`);
    this.onEngineStatus();
  }

  // pages_printed as of now, for jobstate.
  refresh(): void {
    if (this.job) this.lifecycle.progress(this.job, this.engine.pagesPrinted);
  }
}

// A copy is read back in pieces of about a network read, so the engine's
// backpressure and the event loop's turns work as for the first copy.
const REPLAY_SEGMENT = 4096;

function concatenate(pieces: readonly Uint8Array[], length: number): Uint8Array {
  const whole = new Uint8Array(length);
  let at = 0;
  for (const piece of pieces) {
    whole.set(piece, at);
    at += piece.length;
  }
  return whole;
}
