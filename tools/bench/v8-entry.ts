#!/usr/bin/env node
// The V8 side of the XS comparison: measure.ts in a process of its own, so
// its call sites (the decoder's sink, the engine) see only the shapes XS
// sees. Usage: node v8-entry.js '{"task":...,"warmups":n,"runs":n}' [FILE]
// Prints the times as JSON.
import * as fs from "node:fs";
import { performance } from "node:perf_hooks";
import { runTask, type Task } from "./measure.js";

const request = JSON.parse(process.argv[2]) as { task: Task; warmups: number; runs: number; repeat?: number };
const file = process.argv[3];
const bytes = file ? new Uint8Array(fs.readFileSync(file)) : undefined;
process.stdout.write(JSON.stringify(runTask(request.task, bytes, request.warmups, request.runs, () => performance.now(), request.repeat)) + "\n");
