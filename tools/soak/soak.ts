#!/usr/bin/env node
// npm run test:soak [-- --runs N] [-- --no-hog] — the whole `npm test`, N times
// in a row, while a CPU hog keeps every core busy, as CI's and developers'
// shared machines often are. Prints, per run, how many tests passed and which
// failed, and exits non-zero if any run failed. The hog is bounded: it ends
// with the soak, and by itself after the time the runs may take.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import { availableParallelism } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const runs = Math.max(1, Math.min(50, Number(option("--runs") ?? 3) || 3));
const hogOn = !args.includes("--no-hog");
const cores = availableParallelism();
// One run takes a few minutes; nothing here may outlive a stuck one by much.
const RUN_LIMIT_MS = 45 * 60_000;
const logDir = fs.mkdtempSync(path.join(root, ".soak-"));

interface Outcome { run: number; seconds: number; passed: number; failed: number; skipped: number; xsPassed: number; xsFailed: number; failures: string[]; code: number | null; log: string }

function startHog(): { stop(): void; what: string } {
  const seconds = Math.ceil((runs * RUN_LIMIT_MS) / 1000);
  const stressNg = spawnSync("sh", ["-c", "command -v stress-ng"], { encoding: "utf8" }).stdout.trim();
  let children: ChildProcess[];
  let what: string;
  if (stressNg) {
    children = [spawn(stressNg, ["--cpu", String(cores), "--timeout", `${seconds}s`, "--quiet"], { stdio: "ignore" })];
    what = `stress-ng --cpu ${cores}`;
  } else {
    // A busy loop per core that stops itself at its deadline.
    const loop = `const end = Date.now() + ${seconds * 1000}; let x = 0; while (Date.now() < end) { for (let i = 0; i < 1e6; i++) x = (x * 31 + i) | 0; }`;
    children = Array.from({ length: cores }, () => spawn(process.execPath, ["-e", loop], { stdio: "ignore" }));
    what = `${cores} busy Node loops`;
  }
  return { what, stop: () => { for (const child of children) if (child.exitCode === null) child.kill("SIGTERM"); } };
}

// ava's summary ("12 tests passed", "1 test failed", "3 tests skipped"), its
// "✘ [fail]: file › title" lines, then test:xs's "N passed, N failed".
function readOutcome(run: number, seconds: number, code: number | null, text: string, log: string): Outcome {
  const count = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
  const failures = [...text.matchAll(/✘ (?:\[fail\]: )?(.+)$/gm)].map((m) => m[1].trim());
  const xs = /^(\d+) passed, (\d+) failed$/m.exec(text);
  return {
    run, seconds, code, log, failures,
    // With a failure ava's summary leaves the passed count out: count the ticks instead.
    passed: count(/^\s*(\d+) tests? passed/m) || (text.match(/^\s*✔ (?!xs ›)/gm) ?? []).length, failed: count(/^\s*(\d+) tests? failed/m),
    skipped: count(/^\s*(\d+) tests? skipped/m), xsPassed: Number(xs?.[1] ?? 0), xsFailed: Number(xs?.[2] ?? 0),
  };
}

function runOnce(run: number): Promise<Outcome> {
  const log = path.join(logDir, `run-${run}.log`);
  const out = fs.openSync(log, "w");
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn("npm", ["test"], { cwd: root, stdio: ["ignore", out, out], detached: true });
    const limit = setTimeout(() => { try { process.kill(-child.pid!, "SIGTERM"); } catch { /* already gone */ } }, RUN_LIMIT_MS);
    child.on("close", (code) => {
      clearTimeout(limit);
      fs.closeSync(out);
      resolve(readOutcome(run, Math.round((Date.now() - started) / 1000), code, fs.readFileSync(log, "utf8"), log));
    });
  });
}

const hog = hogOn ? startHog() : undefined;
process.on("exit", () => hog?.stop());
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));
console.log(`soak: ${runs} run(s) of npm test, ${hog ? `with ${hog.what} keeping ${cores} core(s) busy` : "without a hog"}; logs in ${logDir}`);

const outcomes: Outcome[] = [];
for (let run = 1; run <= runs; run++) {
  const o = await runOnce(run);
  outcomes.push(o);
  const ok = o.code === 0 && o.failed === 0 && o.xsFailed === 0;
  console.log(`run ${run}: ${ok ? "green" : "RED"} in ${o.seconds} s — ava ${o.passed} passed, ${o.failed} failed, ${o.skipped} skipped; XS ${o.xsPassed} passed, ${o.xsFailed} failed; exit ${o.code}`);
  for (const failure of o.failures) console.log(`  failed: ${failure}`);
  if (!ok && o.failures.length === 0) console.log(`  (no failing test named: see ${o.log})`);
}
hog?.stop();
const red = outcomes.filter((o) => o.code !== 0 || o.failed > 0 || o.xsFailed > 0).length;
console.log(`soak: ${runs - red} of ${runs} runs green, ${red} red`);
process.exitCode = red ? 1 : 0;
