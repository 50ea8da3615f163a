import * as fs from "node:fs";
import * as path from "node:path";
import { PicoEmulator } from "./emulator.js";
import { parseImage } from "./image.js";
import { benchSetup, paperDifference, referenceReceipt } from "./reference.js";
import { benchResults, hostileCheck, hostileVerdict, type BenchResult, type HostileCheck } from "./results.js";

// One run of the MCU bench image (manifest_bench.json) in the emulator: its
// cycle counts per stretch, the heap figures it reported, and whether its
// receipt matches the Node host's thermal engine. Used by `npm run bench`
// and by tests/pico-emulator.test.ts.

export interface PicoBenchReport {
  results: BenchResult[];
  // The bench's own start and end reports (heap figures).
  reports: Array<Record<string, unknown>>;
  instruments: number[][];
  emulatedSeconds: number;
  wallSeconds: number;
  clkSysHz: number;
  paperRows: number;
  statusBytes: number;
  receiptDifference: string | undefined;
  // The decoder's C run loop beside the TypeScript on hostile input.
  hostile: HostileCheck | undefined;
  finished: boolean;
  log: string[];
}

// A 58 mm head at 203 dpi (8 dots/mm) rated at 50-90 mm/s.
export const RATED_LINES_PER_SECOND = { low: 400, high: 720 };

export async function runPicoBench(image: string, bootrom: string, root: string, emulatedSecondsLimit = 300): Promise<PicoBenchReport> {
  const log: string[] = [];
  const instruments: number[][] = [];
  let finished = false;
  const emulator = new PicoEmulator({
    bootrom: new Uint8Array(fs.readFileSync(bootrom)),
    segments: parseImage(image, new Uint8Array(fs.readFileSync(image))),
    onEvent(event) {
      if (event.kind === "samples") instruments.push(event.values);
      if (event.kind !== "log" && event.kind !== "text") return;
      for (const line of event.text.replace(/\n$/, "").split("\n")) {
        // A release build with instrumentation (mcconfig -i) prints its samples as text.
        if (line.startsWith("instruments: ")) { instruments.push(line.slice(13).split(",").map(Number)); continue; }
        log.push(line);
        if (line.startsWith("bench: ") && line.includes("\"phase\":\"end\"")) finished = true;
      }
    },
  });
  const started = Date.now();
  await emulator.run(() => finished, emulatedSecondsLimit * 1e9);
  const wallSeconds = (Date.now() - started) / 1000;
  const paper = emulator.printer.gray();
  const { documents, thermal } = benchSetup(root, (file) => new Uint8Array(fs.readFileSync(file)));
  const reference = await referenceReceipt(documents, thermal);
  const reports = log.filter((l) => l.startsWith("bench: {")).map((l) => JSON.parse(l.slice(7)) as Record<string, unknown>);
  return {
    results: benchResults(log, emulator.edges),
    reports,
    instruments,
    emulatedSeconds: emulator.nanos / 1e9,
    wallSeconds,
    clkSysHz: emulator.mcu.clkSys,
    paperRows: paper.height,
    statusBytes: emulator.bridge.bytesFromPrinter,
    receiptDifference: paperDifference(paper, reference),
    hostile: hostileCheck(log),
    finished,
    log,
  };
}

// Rows for the bench's table.
export function picoRows(report: PicoBenchReport, image: string): string[] {
  const rows = [
    "",
    `The firmware on an emulated RP2040 (rp2040js; ${path.basename(path.dirname(path.dirname(image)))} build, ${image}); cycles are the core's, per line of the 600-line bench pages; lines/s at the rated 133 MHz:`,
    "",
    "| stretch | cycles | cycles/line | lines/s at 133 MHz | against a 58 mm head at 50-90 mm/s (400-720 lines/s) |",
    "|---|---|---|---|---|",
  ];
  for (const r of report.results) {
    rows.push(`| ${r.phase} ${r.document} | ${r.cycles} | ${r.cyclesPerLine.toFixed(0)} | ${r.linesPerSecondAt133MHz.toFixed(0)} | ${(r.linesPerSecondAt133MHz / RATED_LINES_PER_SECOND.high).toFixed(2)}-${(r.linesPerSecondAt133MHz / RATED_LINES_PER_SECOND.low).toFixed(2)}x |`);
  }
  rows.push(`| receipt against the Node host's thermal engine | ${report.receiptDifference ?? `identical (${report.paperRows} rows of 384 dots)`} | | | |`);
  rows.push(`| the decoder's C run loop against the TypeScript on hostile input | ${hostileVerdict(report.hostile).text} | | | |`);
  return rows;
}
