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
import { PwgDecoder, expandRuns as expandRunsInXs, useRunExpander, type RasterSink } from "./modules/pwg/decoder.js";
import { expandRuns } from "./hosts/moddable/runs.js";

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

// The C run loop (hosts/moddable/runs.c) against the TypeScript one on
// hostile input, outside the measured stretches. First the loop alone:
// random bytes, lines and starting points, every buffer a view with guard
// bytes on both sides (a read past chunk would copy its guard into the line
// or the runs, a write past line or runs would change a guard), the two
// results compared byte for byte, guards included; then arguments the loop
// must refuse. Then whole documents: the bench page's header followed by
// random line bytes in random pieces, decoded with each loop in turn, the
// lines and the error compared. Seeded, so a failure repeats.
function hostileCheck(): void {
  let seed = 0x2545f491;
  const below = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 1) % n;
  };
  const GUARD = 8;
  let trials = 0, mismatches = 0, refused = 0, notRefused = 0, documents = 0;
  const first: string[] = [];
  const mismatch = (what: string) => {
    mismatches++;
    if (first.length < 3) first.push(what);
  };
  const guarded = (n: number, fill: number) => new Uint8Array(n + 2 * GUARD).fill(fill);
  for (let trial = 0; trial < 500; trial++) {
    const chunkLength = below(96);
    const source = guarded(chunkLength, 0);
    for (let k = 0; k < source.length; k++) source[k] = below(256);
    const lineLength = 1 + below(80);
    const end = below(lineLength + 1);
    const pos = below(end + 1);
    const count = below(8);
    const runLength = count + end - pos;
    const at0 = [below(chunkLength + 1), pos, count, end, below(256)];
    const results: Uint8Array[] = [];
    for (const expander of [expandRuns, expandRunsInXs]) {
      const line = guarded(lineLength, 0xa5);
      const runs = new Uint16Array(runLength + 2 * GUARD).fill(0x5a5a);
      const at = new Uint32Array(5 + 2 * GUARD).fill(0xa5a5a5a5);
      at.set(at0, GUARD);
      expander(source.subarray(GUARD, GUARD + chunkLength), line.subarray(GUARD, GUARD + lineLength), runs.subarray(GUARD, GUARD + runLength), at.subarray(GUARD, GUARD + 5));
      const out = new Uint8Array(line.length + runs.byteLength + at.byteLength);
      out.set(line);
      out.set(new Uint8Array(runs.buffer), line.length);
      out.set(new Uint8Array(at.buffer), line.length + runs.byteLength);
      results.push(out);
    }
    trials++;
    const [c, ts] = results;
    for (let k = 0; k < c.length; k++) {
      if (c[k] !== ts[k]) {
        mismatch(`trial ${trial}: byte ${k} of ${c.length}: C ${c[k]}, TypeScript ${ts[k]}`);
        break;
      }
    }
  }
  // Arguments the decoder never passes: the C refuses them (the TypeScript
  // would read undefined or write nowhere), before touching any memory.
  const bad: Array<[Uint8Array, Uint8Array, Uint16Array, Uint32Array]> = [
    [new Uint8Array(4), new Uint8Array(8), new Uint16Array(16), Uint32Array.of(0, 0, 0, 9, 255)], // end past the line
    [new Uint8Array(4), new Uint8Array(8), new Uint16Array(16), Uint32Array.of(0, 5, 0, 4, 255)], // pos past end
    [new Uint8Array(4), new Uint8Array(8), new Uint16Array(16), Uint32Array.of(5, 0, 0, 8, 255)], // i past the chunk
    [new Uint8Array(4), new Uint8Array(8), new Uint16Array(7), Uint32Array.of(0, 0, 0, 8, 255)], // runs for 7 of 8 bytes
    [new Uint8Array(4), new Uint8Array(8), new Uint16Array(16), Uint32Array.of(0, 0, 12, 8, 255)], // count past the runs
    [new Uint8Array(4), new Uint8Array(8), new Uint16Array(16), new Uint32Array(4)], // at too short
  ];
  for (const [chunk, line, runs, at] of bad) {
    const before = line.slice();
    try {
      expandRuns(chunk, line, runs, at);
      notRefused++;
    } catch (error) {
      if (error instanceof RangeError) refused++;
      else notRefused++;
    }
    for (let k = 0; k < line.length; k++) if (line[k] !== before[k]) mismatch("a refused call wrote to the line");
  }
  // Whole documents through the decoder, each loop in turn.
  const page = new Uint8Array(new Resource("bench-gray.pwg"));
  const head = page.subarray(0, 4 + 1796);
  for (let d = 0; d < 24; d++) {
    const body = new Uint8Array(head.length + 64 + below(1500));
    body.set(head);
    for (let k = head.length; k < body.length; k++) {
      // Mostly short runs, so lines end and repeat as well as overrun.
      const r = below(8);
      body[k] = r === 0 ? 128 : r < 4 ? below(16) : r < 6 ? 257 - below(12) - 2 : below(256);
    }
    const pieces: number[] = [];
    for (let k = head.length; k < body.length; k += 1 + below(40)) pieces.push(k);
    const outcomes: string[] = [];
    for (const expander of [expandRuns, expandRunsInXs]) {
      useRunExpander(expander);
      let sum = 0, lines = 0;
      const sink: RasterSink = {
        beginPage() {},
        line(data, repeat, runs) {
          lines += repeat;
          for (let k = 0; k < data.length; k++) sum = ((sum << 5) - sum + data[k]) | 0;
          if (runs) for (let k = 0; k < runs.length && (k === 0 || (runs[k - 1] & 0x7fff) < data.length); k++) sum = ((sum << 5) - sum + runs[k]) | 0;
          return true;
        },
        endPage() {},
      };
      let outcome = "";
      try {
        const decoder = new PwgDecoder(sink, { maxWidth: 4096, maxHeight: 65535 });
        decoder.write(body.subarray(0, head.length));
        for (let p = 0; p < pieces.length; p++) decoder.write(body.subarray(pieces[p], p + 1 < pieces.length ? pieces[p + 1] : body.length));
        decoder.end();
      } catch (error) {
        outcome = String(error);
      }
      outcomes.push(`${lines} lines, ${sum}, ${outcome}`);
    }
    documents++;
    if (outcomes[0] !== outcomes[1]) mismatch(`document ${d}: C ${outcomes[0]}; TypeScript ${outcomes[1]}`);
  }
  useRunExpander(expandRuns);
  report({ phase: "hostile", trials, documents, refused, notRefused, mismatches, first });
}

function run(index: number): void {
  if (index >= DOCUMENTS.length) {
    hostileCheck();
    report({ phase: "end", heap: heap() });
    return;
  }
  const name = DOCUMENTS[index];
  const bytes = new Uint8Array(new Resource(name));
  decode(name, bytes);
  print(name, bytes, () => run(index + 1));
}

// The decoder's run loop in C, as in the app (main.ts).
useRunExpander(expandRuns);
report({ phase: "start", segment: SEGMENT, documents: DOCUMENTS, heap: heap() });
clock.defer(() => run(0));
