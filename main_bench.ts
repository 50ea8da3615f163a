import config from "mc/config";
import Digital from "embedded:io/digital";
import Instrumentation from "instrumentation";
import Resource from "Resource";
import { clock } from "./hosts/moddable/clock.js";
import { thermalEngine } from "./hosts/moddable/thermal-board.js";
import type { EngineEvents, EnginePage, PrintEngine } from "./modules/hal/engine.js";
import type { Log } from "./modules/hal/log.js";
import type { ThermalEngine } from "./modules/escpos/thermal-engine.js";
import { printPath } from "./modules/print/path.js";
import { SegmentSource } from "./modules/print/segment-source.js";
import { PwgDecoder, type RasterSink } from "./modules/pwg/decoder.js";

// The MCU bench's entry (manifest_bench.json): no network. The embedded PWG
// pages go the way a job's document goes, through the decoder, the spooler
// and the thermal driver into the UART, built by the same print path and
// thermal board as the app. Each measured stretch is framed by a marker pin
// (high while it runs) so an emulator can count its cycles exactly; the
// figures the firmware knows itself (milliseconds, lines, bytes, heap: what a
// real board reports) come out as one trace line of JSON per stretch.

const settings = config.privet ?? {};
const bench = settings.bench ?? {};
// A TCP segment's worth: what the socket hands the spooler at a time.
const SEGMENT: number = bench.segmentBytes ?? 1460;
const DOCUMENTS: string[] = bench.documents ?? ["bench-gray.pwg", "bench-black.pwg"];

const log: Log = (level, message) => trace(`${level} ${message}\n`);
const marker = new Digital({ pin: bench.markerPin ?? 15, mode: Digital.Output });
marker.write(0);

// The SDK's counters (debug and -i builds; null in a plain release build).
// Collections count since the last one-second sample; "System Free Memory" is
// whatever the platform reports (a constant on the Pico).
const counters = {
  slots: Instrumentation.map("XS Slot Heap Used"),
  chunks: Instrumentation.map("XS Chunk Heap Used"),
  collections: Instrumentation.map("XS Garbage Collection Count"),
  free: Instrumentation.map("System Free Memory"),
};
type Heap = Record<keyof typeof counters, number | null>;

function heap(): Heap {
  const read = (index: number | undefined) => (index === undefined ? null : Instrumentation.get(index) ?? null);
  return { slots: read(counters.slots), chunks: read(counters.chunks), collections: read(counters.collections), free: read(counters.free) };
}

// The highest slot and chunk use seen while a stretch runs, sampled every few lines.
class HeapPeak {
  slots = 0;
  chunks = 0;
  sample(): void {
    const now = heap();
    if (now.slots !== null && now.slots > this.slots) this.slots = now.slots;
    if (now.chunks !== null && now.chunks > this.chunks) this.chunks = now.chunks;
  }
}

// Counts what reaches the engine without changing what it gets. (A wrapper:
// preloaded classes are frozen in flash, so a method cannot be swapped.)
class CountingEngine implements PrintEngine {
  count: (repeat: number) => void = () => {};
  constructor(readonly inner: ThermalEngine) {}
  get capabilities() { return this.inner.capabilities; }
  get fault() { return this.inner.fault; }
  get faultDescription() { return this.inner.faultDescription; }
  get pagesPrinted() { return this.inner.pagesPrinted; }
  setEvents(events: EngineEvents) { this.inner.setEvents(events); }
  beginJob(id: string) { this.inner.beginJob(id); }
  beginPage(page: EnginePage) { this.inner.beginPage(page); }
  line(data: Uint8Array, repeat: number, runs?: Uint16Array) {
    this.count(repeat);
    return this.inner.line(data, repeat, runs);
  }
  endPage() { this.inner.endPage(); }
  endJob(aborted: boolean) { this.inner.endJob(aborted); }
}

// One engine and one print path for the whole run, as in the app.
const thermal = thermalEngine(settings.thermal, clock, log);
const engine = new CountingEngine(thermal);
const path = printPath({ engine, clock, random: { fill: (b) => { for (let i = 0; i < b.length; i++) b[i] = (Math.random() * 256) | 0; } }, log });

function report(result: Record<string, unknown>): void {
  trace(`bench: ${JSON.stringify(result)}\n`);
}

// Decoding alone: every line counted and dropped.
function decode(name: string, bytes: Uint8Array): void {
  const peak = new HeapPeak();
  let lines = 0;
  const sink: RasterSink = {
    beginPage() {},
    line(_data, repeat) {
      lines += repeat;
      if ((lines & 63) < repeat) peak.sample();
      return true;
    },
    endPage() {},
  };
  const before = heap();
  const started = clock.monotonic();
  marker.write(1);
  const decoder = new PwgDecoder(sink, { maxWidth: 4096, maxHeight: 65535 });
  for (let offset = 0; offset < bytes.length; offset += SEGMENT) decoder.write(bytes.subarray(offset, offset + SEGMENT));
  decoder.end();
  marker.write(0);
  report({ phase: "decode", document: name, ms: clock.monotonic() - started, bytes: bytes.length, lines, before, peak: { slots: peak.slots, chunks: peak.chunks }, after: heap() });
}

// The whole path: spooler, thermal driver, UART, until the job is done.
function print(name: string, bytes: Uint8Array, done: () => void): void {
  const peak = new HeapPeak();
  let lines = 0;
  const before = heap();
  const started = clock.monotonic();
  const stop = path.lifecycle.listen((event) => {
    if (event.to !== "done" && event.to !== "aborted") return;
    marker.write(0);
    stop();
    report({ phase: "print", document: name, state: event.to, ms: clock.monotonic() - started, bytes: bytes.length, lines, uartBytes: thermal.bytesSent, pages: event.pagesPrinted, before, peak: { slots: peak.slots, chunks: peak.chunks }, after: heap() });
    clock.defer(done);
  });
  engine.count = (repeat) => {
    lines += repeat;
    if ((lines & 63) < repeat) peak.sample();
  };
  const job = path.lifecycle.createQueued();
  job.jobName = name;
  job.jobSize = bytes.length;
  marker.write(1);
  path.spooler.start(job, new SegmentSource(bytes, SEGMENT, clock), (result) => {
    if (!result.ok) log("error", `bench: ${name} refused: ${result.description}`);
  });
}

function run(index: number): void {
  if (index >= DOCUMENTS.length) {
    report({ phase: "end", heap: heap() });
    return;
  }
  const name = DOCUMENTS[index];
  const bytes = new Uint8Array(new Resource(name));
  decode(name, bytes);
  print(name, bytes, () => run(index + 1));
}

report({ phase: "start", segment: SEGMENT, documents: DOCUMENTS, heap: heap() });
clock.defer(() => run(0));
