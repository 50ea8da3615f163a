import test from "ava";
import { spawn, spawnSync } from "node:child_process";
import * as net from "node:net";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { get, rawRequest } from "./helpers/client.js";
import { encodeDocument, testPage } from "./helpers/pwg.js";

// Builds main.ts with the Moddable SDK and runs it in mcsim. The SDK is not on
// npm, so this runs only where MODDABLE points at a built SDK; elsewhere it is
// a visible skip that says why.
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const sdk = process.env.MODDABLE;
const tools = sdk ? path.join(sdk, "build", "bin", "lin", "release") : "";
const hasXvfb = spawnSync("sh", ["-c", "command -v xvfb-run"]).status === 0;
const missing = !sdk ? "MODDABLE is not set (no Moddable SDK here)"
  : !existsSync(path.join(tools, "mcconfig")) ? `no mcconfig in ${tools}`
  : !hasXvfb ? "xvfb-run is not installed" : "";
const SIM_PORT = 8631;

(missing ? test.skip : test)(`the firmware builds for lin, answers /privet/info and prints a PWG job in mcsim${missing ? ` (skipped: ${missing})` : ""}`, async (t) => {
  t.timeout(300_000);
  const out = mkdtempSync(path.join(tmpdir(), "privet-mc-"));
  const env = { ...process.env, PATH: `${path.join(root, "node_modules", ".bin")}:${process.env.PATH}:${tools}` };
  const build = spawnSync("mcconfig", ["-d", "-m", "-p", "lin", "-t", "build", "-o", out], { cwd: root, env, encoding: "utf8" });
  t.is(build.status, 0, build.stdout.slice(-2000) + build.stderr.slice(-2000));
  // mcconfig names the build after the folder the manifest is in.
  const so = path.join(out, "bin", "lin", "mc", "debug", path.basename(root), "mc.so");
  t.true(existsSync(so));

  // Its own process group, so we can stop exactly what we started.
  const sim = spawn("xvfb-run", ["-a", "stdbuf", "-oL", path.join(tools, "mcsim"), so], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  sim.stdout.on("data", (c) => (output += c));
  sim.stderr.on("data", (c) => (output += c));
  try {
    for (let i = 0; i < 100 && !output.includes("privet: listening"); i++) await new Promise((r) => setTimeout(r, 100));
    t.true(output.includes(`privet: listening on port ${SIM_PORT}`), output.slice(-1000));
    const info = JSON.parse((await get(SIM_PORT, "/privet/info", { "X-Privet-Token": "\"\"" })).body);
    t.is(info.version, "1.0");
    t.is(info.connection_state, "not-configured");
    t.true(info.uptime < 60, "uptime counts from this boot");
    t.is((await get(SIM_PORT, "/privet/info")).status, 400);
    t.is((await get(SIM_PORT, "/privet/other", { "X-Privet-Token": info["x-privet-token"] })).status, 404);
    // A two-page job through the XS decoder into the null engine.
    const doc = Buffer.from(encodeDocument([testPage(600, 200, "srgb_8", 1), testPage(300, 100, "black_1", 2)]));
    const submitted = await rawRequest(SIM_PORT, Buffer.concat([Buffer.from(`POST /privet/printer/submitdoc?job_name=xs HTTP/1.1\r\nX-Privet-Token: ${info["x-privet-token"]}\r\nContent-Type: image/pwg-raster\r\nContent-Length: ${doc.length}\r\n\r\n`), doc]), 30_000);
    const job = JSON.parse(submitted.body);
    t.is(job.job_size, doc.length, submitted.body);
    const state = JSON.parse((await get(SIM_PORT, `/privet/printer/jobstate?job_id=${job.job_id}`, { "X-Privet-Token": info["x-privet-token"] })).body);
    t.like(state, { state: "done", semantic_state: { pages_printed: 2 } });
    // Device memory: the instruments line (once a second) idle, then while a
    // long job prints slowly enough to be sampled, in a heap of fixed size.
    const keys = /instruments key: (.*)/.exec(output)?.[1].split(",") ?? [];
    const samples = (from: number) => [...output.slice(from).matchAll(/instruments: ([\d,]+)/g)].map((m) => m[1].split(",").map(Number));
    const peak = (rows: number[][], name: string) => Math.max(...rows.map((r) => r[keys.indexOf(name)]));
    await new Promise((r) => setTimeout(r, 2500));
    const idle = samples(0).slice(-2);
    const printJob = async (pages: number) => {
      // Small pages: mcsim's Linux sockets hand over 1 KB per main-loop turn.
      const body = Buffer.from(encodeDocument(Array.from({ length: pages }, (_, i) => testPage(240, 60, i % 2 ? "sgray_8" : "srgb_8", i))));
      const from = output.length;
      const socket = net.connect(SIM_PORT, "127.0.0.1");
      socket.on("error", () => {});
      let answer = "";
      socket.on("data", (c) => (answer += c));
      socket.write(`POST /privet/printer/submitdoc HTTP/1.1\r\nX-Privet-Token: ${info["x-privet-token"]}\r\nContent-Type: image/pwg-raster\r\nContent-Length: ${body.length}\r\n\r\n`);
      // About four seconds of sending, so several instruments lines fall inside the job.
      const step = Math.ceil(body.length / 40);
      for (let o = 0; o < body.length; o += step) {
        socket.write(body.subarray(o, o + step));
        await new Promise((r) => setTimeout(r, 100));
      }
      for (let i = 0; i < 600 && !answer.includes("job_id"); i++) await new Promise((r) => setTimeout(r, 100));
      socket.destroy();
      return { answer, rows: samples(from), bytes: body.length };
    };
    const short = await printJob(4);
    const long = await printJob(16);
    t.regex(short.answer, /"job_id"/);
    t.regex(long.answer, /"job_id"/);
    const figures = (rows: number[][]) => `chunks ${peak(rows, "Chunk used")} of ${rows[0][keys.indexOf("Chunk available")]} B, slots ${peak(rows, "Slot used")} of ${rows[0][keys.indexOf("Slot available")]} B`;
    t.log(`XS heap in mcsim (fixed: ${figures(idle).replace(/\d+ of /g, "")}) — idle: ${figures(idle)}`);
    t.log(`printing 4 pages (${(short.bytes / 1024).toFixed(0)} KB): peak ${figures(short.rows)}; 16 pages (${(long.bytes / 1024).toFixed(0)} KB): peak ${figures(long.rows)}`);
    t.true(long.rows.length >= 3, "sampled while printing");
  } finally {
    try { process.kill(-sim.pid!, "SIGTERM"); } catch {}
  }
});
