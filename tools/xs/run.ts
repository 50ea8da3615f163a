#!/usr/bin/env node
// npm run test:xs — the portable core's tests inside XS. Each tests/xs/*.xstest.ts
// is bundled (with the modules/ it imports) into one script by esbuild and
// evaluated by xsnap, the XS engine built from source when @agoric/xsnap
// installs. Prints "N passed, N failed" and exits non-zero on any failure.
import "@endo/init";
import { xsnap } from "@agoric/xsnap";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { type as osType } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const dir = path.join(root, "tests", "xs");
// npm run test:xs -- sntp web: only the files whose names contain one of the words.
const only = process.argv.slice(2);
const files = fs.readdirSync(dir).filter((f) => f.endsWith(".xstest.ts") && (only.length === 0 || only.some((w) => f.includes(w)))).sort();
let passed = 0, failed = 0;

for (const file of files) {
  const bundled = await build({
    entryPoints: [path.join(dir, file)], bundle: true, format: "iife", globalName: "xsTests",
    platform: "neutral", target: "es2022", write: false,
    footer: { js: "xsTests.runAll();" },
  });
  const results: Array<{ name: string; error: string }> = [];
  const worker = await xsnap({
    // xsnap names the platform as os.type() does.
    os: osType(), spawn, name: file, fs: {},
    // No crank metering: a test may legitimately compute for a while.
    meteringLimit: 0, stdout: "inherit", stderr: "inherit",
    handleCommand: async (message: Uint8Array) => {
      results.push(JSON.parse(Buffer.from(message).toString("latin1")));
      return new Uint8Array();
    },
  });
  try {
    await worker.evaluate(bundled.outputFiles[0].text);
  } catch (error) {
    results.push({ name: `${file} (the whole file)`, error: String(error) });
  } finally {
    await worker.close();
  }
  for (const r of results) {
    if (r.error) { failed++; process.stdout.write(`  ✘ xs › ${file.replace(".xstest.ts", "")} › ${r.name}\n      ${r.error}\n`); }
    else { passed++; process.stdout.write(`  ✔ xs › ${file.replace(".xstest.ts", "")} › ${r.name}\n`); }
  }
}
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
