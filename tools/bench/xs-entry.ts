// Inside xsnap (XS): takes the input bytes from bench.ts in pieces, runs the
// tasks of measure.ts on them, and answers with the times as JSON.
// Commands: "S<size>" makes room, "D<bytes>" appends, "R<json>" runs a task.
import { runTask, type Task } from "./measure.js";

declare const performance: { now(): number };

let input = new Uint8Array(0);
let filled = 0;

function text(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

function reply(s: string): ArrayBuffer {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out.buffer;
}

(globalThis as unknown as { handleCommand: (message: ArrayBuffer) => ArrayBuffer }).handleCommand = (message) => {
  const bytes = new Uint8Array(message);
  const command = bytes[0];
  if (command === 0x53) {
    input = new Uint8Array(Number(text(bytes.subarray(1))));
    filled = 0;
    return reply("ok");
  }
  if (command === 0x44) {
    input.set(bytes.subarray(1), filled);
    filled += bytes.length - 1;
    return reply("ok");
  }
  const request = JSON.parse(text(bytes.subarray(1))) as { task: Task; warmups: number; runs: number; repeat?: number };
  const times = runTask(request.task, input.subarray(0, filled), request.warmups, request.runs, () => performance.now(), request.repeat);
  return reply(JSON.stringify(times));
};
