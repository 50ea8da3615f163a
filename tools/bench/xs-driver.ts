#!/usr/bin/env node
// The XS side of the bench: bundles measure.ts (with the modules/ it
// imports) by esbuild into one script, as npm run test:xs does, evaluates it
// in xsnap, hands it the input bytes, and prints the times as JSON.
// A process of its own because @endo/init (which xsnap's host side needs)
// hardens this process's globals.
// Usage: node xs-driver.js '{"task":...,"warmups":n,"runs":n}' [FILE]
import "@endo/init";
import { xsnap } from "@agoric/xsnap";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { type as osType } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const request = process.argv[2];
const file = process.argv[3];

const bundled = await build({
  entryPoints: [path.join(root, "tools", "bench", "xs-entry.ts")], bundle: true, format: "iife",
  platform: "neutral", target: "es2022", write: false,
});
const worker = await xsnap({
  os: osType(), spawn, name: "bench", fs: {},
  // No crank metering: a measurement computes for a while.
  meteringLimit: 0, stdout: "inherit", stderr: "inherit",
  handleCommand: async () => new Uint8Array(),
});
const command = async (letter: string, body: Uint8Array): Promise<string> => {
  const message = new Uint8Array(1 + body.length);
  message[0] = letter.charCodeAt(0);
  message.set(body, 1);
  const { reply } = await worker.issueCommand(message);
  return Buffer.from(reply).toString("latin1");
};
try {
  await worker.evaluate(bundled.outputFiles[0].text);
  if (file) {
    const bytes = fs.readFileSync(file);
    await command("S", Buffer.from(String(bytes.length)));
    for (let o = 0; o < bytes.length; o += 1 << 20) await command("D", bytes.subarray(o, o + (1 << 20)));
  }
  const answer = await command("R", Buffer.from(request));
  if (!answer.startsWith("[")) throw new Error(`xsnap: ${answer}`);
  process.stdout.write(answer + "\n");
} finally {
  await worker.close();
}
