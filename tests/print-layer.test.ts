import test from "ava";
import type { Job } from "../modules/jobs/job.js";
import { JobStore } from "../modules/jobs/store.js";
import { JobLifecycle, type JobEvent } from "../modules/print/lifecycle.js";
import type { DocumentConsumer, DocumentSource } from "../modules/print/source.js";
import { Spooler, pwgDecoder, type ReceiveResult } from "../modules/print/spooler.js";
import type { DecoderFactory } from "../modules/print/source.js";
import { Turns } from "../modules/http/turns.js";
import { FakeClock } from "./helpers/fake-clock.js";
import { encodeDocument, testPage } from "./helpers/pwg.js";
import { SeededRandom } from "./helpers/seeded-random.js";
import { TestEngine } from "./helpers/test-engine.js";

// The print layer on its own: fed by a source that is not HTTP at all (as a
// cloud download will be), with every state change coming from the lifecycle.

// A document in memory, delivered in fixed pieces, one per clock turn, and
// honouring pause() the way a socket does.
class MemorySource implements DocumentSource {
  readonly declaredLength: number | undefined;
  private consumer: DocumentConsumer | undefined;
  private offset = 0;
  paused = false;
  pauses = 0;
  private scheduled = false;

  constructor(private readonly bytes: Uint8Array, private readonly clock: FakeClock, private readonly piece: number, announce = true, private readonly failAt = -1) {
    this.declaredLength = announce ? bytes.length : undefined;
  }

  readBody(consumer: DocumentConsumer): void {
    this.consumer = consumer;
    this.schedule();
  }

  pause(): void {
    if (!this.paused) this.pauses++;
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.clock.setTimer(() => { this.scheduled = false; this.pump(); }, 1);
  }

  private pump(): void {
    while (!this.paused && this.offset < this.bytes.length) {
      if (this.failAt >= 0 && this.offset >= this.failAt) return this.consumer!.abort("the download broke off");
      const piece = this.bytes.subarray(this.offset, this.offset + this.piece);
      this.offset += piece.length;
      this.consumer!.data(piece);
      if (this.paused) return;
    }
    if (!this.paused && this.offset === this.bytes.length) {
      this.offset++;
      this.consumer!.end();
    }
  }
}

function rig() {
  const clock = new FakeClock();
  const engine = new TestEngine();
  const jobs = new JobStore(clock, new SeededRandom(5));
  const logs: string[] = [];
  const lifecycle = new JobLifecycle(jobs, (level, message) => logs.push(`${level} ${message}`));
  const events: JobEvent[] = [];
  lifecycle.listen((event) => events.push({ ...event }));
  const spooler = new Spooler(engine, lifecycle, clock, (level, message) => logs.push(`${level} ${message}`));
  const print = (source: DocumentSource, job: Job = lifecycle.createQueued()) => {
    const results: ReceiveResult[] = [];
    spooler.start(job, source, (result) => results.push(result));
    return { job, results };
  };
  return { clock, engine, jobs, lifecycle, events, spooler, logs, print };
}

const doc = encodeDocument([testPage(200, 60, "srgb_8", 1), testPage(200, 40, "sgray_8", 2)]);
const transitions = (events: JobEvent[]) => events.map((e) => `${e.from ?? "new"}>${e.to}`);

test("a document from a source that is not HTTP prints through the same spooler, and the lifecycle tells every step", (t) => {
  const { clock, engine, events, print, spooler } = rig();
  const source = new MemorySource(doc, clock, 777, false);
  const { job, results } = print(source);
  t.is(spooler.active, job);
  clock.advance(1000);
  t.deepEqual(results, [{ ok: true }]);
  t.is(job.state, "done");
  t.is(engine.pages.length, 2);
  t.is(engine.pages[0].rows.length, 60);
  t.deepEqual(transitions(events), ["new>queued", "queued>in_progress", "in_progress>done"]);
  t.is(events.at(-1)!.pagesPrinted, 2);
  t.is(spooler.active, undefined);
});

test("a full engine pauses the source mid-chunk; the document still arrives whole", (t) => {
  const { clock, engine, print } = rig();
  engine.capacity = 7;
  const source = new MemorySource(doc, clock, 4096);
  const { job, results } = print(source);
  for (let i = 0; i < 200 && job.state !== "done"; i++) {
    clock.advance(5);
    if (engine.full) t.true(source.paused, "the source is paused whenever the engine is full");
    engine.release();
  }
  t.is(job.state, "done");
  t.deepEqual(results, [{ ok: true }]);
  t.true(source.pauses >= 5, `paused ${source.pauses} times`);
  t.is(engine.pages[1].rows.length, 40);
});

test("a fault stops the job and clearing it resumes the job, through the lifecycle", (t) => {
  const { clock, engine, events, print } = rig();
  engine.capacity = 5;
  const { job } = print(new MemorySource(doc, clock, 2048));
  clock.advance(5);
  engine.setFault("media-jam", "Paper jam");
  t.is(job.state, "stopped");
  t.is(job.description, "Paper jam");
  t.deepEqual(job.cause, { device_state_cause: { error_code: "MEDIA_PATH" } });
  engine.setFault(undefined);
  t.is(job.state, "in_progress");
  for (let i = 0; i < 200 && job.state !== "done"; i++) { clock.advance(5); engine.release(); }
  t.is(job.state, "done");
  t.deepEqual(transitions(events), ["new>queued", "queued>in_progress", "in_progress>stopped", "stopped>in_progress", "in_progress>done"]);
});

test("a source that breaks off leaves an aborted job with DOWNLOAD_FAILURE and an idle spooler", (t) => {
  const { clock, engine, events, print, spooler } = rig();
  const { job, results } = print(new MemorySource(doc, clock, 1000, true, 3000));
  clock.advance(100);
  t.is(job.state, "aborted");
  t.is(job.description, "the download broke off");
  t.deepEqual(job.cause, { device_action_cause: { error_code: "DOWNLOAD_FAILURE" } });
  t.deepEqual(results, [], "no one to answer");
  t.is(spooler.active, undefined);
  t.true(engine.jobs[0].aborted);
  t.deepEqual(transitions(events), ["new>queued", "queued>in_progress", "in_progress>aborted"]);
});

test("a bad document is answered invalid_document and the job aborted with PRINT_FAILURE", (t) => {
  const { clock, print } = rig();
  const bad = doc.slice();
  bad[5] ^= 0xff; // inside the header's "PwgRaster" string, still parsed
  bad[0] = 0x41; // the sync word
  const { job, results } = print(new MemorySource(bad, clock, 500));
  clock.advance(100);
  t.is(results.length, 1);
  t.false(results[0].ok);
  t.is((results[0] as { error: string }).error, "invalid_document");
  t.is(job.state, "aborted");
  t.deepEqual(job.cause, { device_action_cause: { error_code: "PRINT_FAILURE" } });
});

test("an engine that throws ends the job with printer_error, not the host's callback, and the next job prints", (t) => {
  const { clock, engine, print, spooler, logs } = rig();
  let throws = true;
  const line = engine.line.bind(engine);
  engine.line = (data, repeat) => {
    if (throws) throw new Error("head driver crashed");
    return line(data, repeat);
  };
  const first = print(new MemorySource(doc, clock, 512));
  t.notThrows(() => clock.advance(100));
  t.is(first.job.state, "aborted");
  t.is((first.results[0] as { error: string }).error, "printer_error");
  t.regex(first.job.description!, /head driver crashed/);
  t.true(logs.some((l) => l.startsWith("error") && l.includes("head driver crashed")), "the failure is logged as an error");
  t.is(spooler.active, undefined);
  throws = false;
  const second = print(new MemorySource(doc, clock, 512));
  clock.advance(100);
  t.is(second.job.state, "done");
});

test("an engine whose ready() and jobFinished() callbacks throw still leaves the printer idle", (t) => {
  const { clock, engine, print, spooler } = rig();
  engine.capacity = 3;
  const { job } = print(new MemorySource(doc, clock, 512));
  clock.advance(5);
  const endPage = engine.endPage.bind(engine);
  engine.endPage = () => { endPage(); throw new Error("cutter stuck"); };
  for (let i = 0; i < 100 && spooler.active; i++) { t.notThrows(() => engine.release()); clock.advance(5); }
  t.is(job.state, "aborted");
  t.is(spooler.active, undefined);
});

test("the lifecycle refuses transitions the Privet model does not have, and a throwing listener does not silence the others", (t) => {
  const { lifecycle, logs } = rig();
  const heard: string[] = [];
  lifecycle.listen(() => { throw new Error("bad listener"); });
  lifecycle.listen((e) => heard.push(e.to));
  const job = lifecycle.createDraft({})!;
  t.is(job.state, "draft");
  lifecycle.start(job);
  lifecycle.finish(job, 3);
  t.is(job.state, "done");
  t.is(job.pagesPrinted, 3);
  t.throws(() => lifecycle.start(job), { message: /no transition from done to in_progress/ });
  t.throws(() => lifecycle.resume(job), { message: /no transition/ });
  t.deepEqual(heard, ["draft", "in_progress", "done"]);
  t.true(logs.some((l) => l.includes("bad listener")));
});

test("an aborted job's state survives the engine letting go, and it lands in the ring", (t) => {
  const { lifecycle, jobs } = rig();
  const job = lifecycle.createDraft({})!;
  lifecycle.start(job);
  lifecycle.abort(job, "cancelled", { user_action_cause: { action_code: "CANCELLED" } });
  lifecycle.finish(job, 1);
  t.is(job.state, "aborted");
  t.is(job.description, "cancelled");
  t.is(jobs.slotCount, 0);
  t.is(jobs.find(job.id), job);
});

test("pages printed move forward while printing without a state change", (t) => {
  const { lifecycle, events } = rig();
  const job = lifecycle.createQueued();
  lifecycle.start(job);
  const before = events.length;
  lifecycle.progress(job, 2);
  t.is(job.pagesPrinted, 2);
  t.is(events.length, before);
});

test("a decoder that holds much for its job (workingShare) waits for its share of the budget before the document is read, and gives it back when the job ends", async (t) => {
  const { clock, engine, lifecycle, spooler } = rig();
  const budget = new Turns(52);
  spooler.budget = budget;
  let releaseCall!: () => void;
  const call = budget.run(() => new Promise<void>((resolve) => { releaseCall = resolve; }), 20);
  const heavy: DecoderFactory = (sink, limits) => pwgDecoder(sink, limits);
  heavy.workingShare = 48;
  const source = new MemorySource(doc, clock, 777);
  const readBody = source.readBody.bind(source);
  let reading = false;
  source.readBody = (consumer) => { reading = true; readBody(consumer); };
  const job = lifecycle.createQueued();
  spooler.start(job, source, () => {}, heavy);
  clock.advance(100);
  t.false(reading, "not read while a cloud call holds 20 of 52 KB");
  t.is(engine.pages.length, 0);
  releaseCall();
  await call;
  await new Promise((r) => setTimeout(r, 0));
  t.true(reading);
  clock.advance(1000);
  t.is(job.state, "done");
  t.is(engine.pages.length, 2);
  await new Promise((r) => setTimeout(r, 0));
  t.false(budget.busy, "the job's share came back when it ended");
});

test("a job whose decoder's share never comes ends after 60 s, saying why, frees the printer and leaves the budget's line", async (t) => {
  const { clock, lifecycle, spooler } = rig();
  const budget = new Turns(52);
  spooler.budget = budget;
  let releaseCall!: () => void;
  const call = budget.run(() => new Promise<void>((resolve) => { releaseCall = resolve; }), 40);
  const heavy: DecoderFactory = (sink, limits) => pwgDecoder(sink, limits);
  heavy.workingShare = 48;
  const job = lifecycle.createQueued();
  let answer: unknown;
  spooler.start(job, new MemorySource(doc, clock, 777), (result) => { answer = result; }, heavy);
  clock.advance(59_999);
  t.is(spooler.active, job, "still waiting its turn");
  clock.advance(1);
  t.is(job.state, "aborted");
  t.regex(job.description ?? "", /no room for this document's decoder within 60 s/);
  t.like(answer, { ok: false, error: "printer_error" });
  releaseCall();
  await call;
  await new Promise((r) => setTimeout(r, 0));
  t.false(budget.busy, "the job left the line: nothing takes its share when the call ends");
  t.false(budget.withdraw(() => {}), "nothing else waits");
});
