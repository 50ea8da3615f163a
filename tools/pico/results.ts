import type { MarkerEdge } from "./emulator.js";

// Pairs the bench's trace lines ("bench: {json}", one after each measured
// stretch) with the marker pin's edges (high at its start, low at its end),
// so each stretch gets the cycles the core spent in it.

export const RATED_MHZ = 133;

export interface BenchResult {
  phase: "decode" | "print";
  document: string;
  lines: number;
  cycles: number;
  nanos: number;
  cyclesPerLine: number;
  linesPerSecondAt133MHz: number;
  report: Record<string, unknown>;
}

export function benchResults(lines: string[], edges: MarkerEdge[]): BenchResult[] {
  const results: BenchResult[] = [];
  // Stretches in order: each a high edge and the next low one.
  const stretches: Array<{ cycles: number; nanos: number }> = [];
  let start: MarkerEdge | undefined;
  for (const edge of edges) {
    if (edge.high && !start) start = edge;
    else if (!edge.high && start) {
      stretches.push({ cycles: edge.cycles - start.cycles, nanos: edge.nanos - start.nanos });
      start = undefined;
    }
  }
  let next = 0;
  for (const line of lines) {
    if (!line.startsWith("bench: {")) continue;
    let report: Record<string, unknown>;
    try { report = JSON.parse(line.slice(7)); } catch { continue; }
    if (report.phase !== "decode" && report.phase !== "print") continue;
    const stretch = stretches[next++];
    if (!stretch) break;
    const count = Number(report.lines) || 0;
    const perLine = count > 0 ? stretch.cycles / count : 0;
    results.push({
      phase: report.phase, document: String(report.document), lines: count, cycles: stretch.cycles, nanos: stretch.nanos,
      cyclesPerLine: perLine, linesPerSecondAt133MHz: perLine > 0 ? (RATED_MHZ * 1e6) / perLine : 0, report,
    });
  }
  return results;
}
