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

// The bench's check of the decoder's C run loop against the TypeScript one
// on hostile input (main_bench.ts: hostileCheck), if the image has it.
export interface HostileCheck {
  trials: number;
  documents: number;
  refused: number;
  notRefused: number;
  mismatches: number;
  first: string[];
}

export function hostileCheck(lines: string[]): HostileCheck | undefined {
  for (const line of lines) {
    if (!line.startsWith("bench: {") || !line.includes("\"phase\":\"hostile\"")) continue;
    try { return JSON.parse(line.slice(7)) as HostileCheck; } catch { return undefined; }
  }
  return undefined;
}

export function hostileVerdict(check: HostileCheck | undefined): { ok: boolean; text: string } {
  if (!check) return { ok: true, text: "not in this image" };
  const ok = check.mismatches === 0 && check.notRefused === 0 && check.trials > 0 && check.documents > 0;
  const text = `${check.trials} random runs and ${check.documents} random documents, ${check.mismatches} differences from the TypeScript; ${check.refused} of ${check.refused + check.notRefused} bad calls refused${check.first.length ? ` (${check.first.join("; ")})` : ""}`;
  return { ok, text };
}
