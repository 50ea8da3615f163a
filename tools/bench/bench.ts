#!/usr/bin/env node
// npm run bench: our speed and memory, measured as ratios within one run on
// this machine (see the README for what each line means). Writes
// bench/out/results.json and bench/out/chart.svg and prints a table.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { PwgDecoder, type RasterSink } from "../../modules/pwg/decoder.js";
import { discover } from "../client/discover.js";
import { PrivetClient } from "../client/privet-client.js";
import { Sandbox, sandboxUnavailable } from "../netns/sandbox.js";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const out = path.join(root, "bench", "out");
const inputs = path.join(out, "inputs");
const simulator = path.join(root, "build", "hosts", "node", "cli.js");
const PDFS = ["/usr/share/cups/data/default-testpage.pdf", "/usr/share/cups/data/form_english.pdf"];
const BIG_BYTES = Number(process.env.BENCH_BIG_MB ?? 600) * 1048576;
const notes: string[] = [];

function say(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

function has(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;
}

// ---- inputs: PWG from real PDFs, pages repeated to size ----

// A PWG file is "RaS2" then pages; repeating the pages makes a longer document.
function repeatPages(file: string, target: string, copies: number): void {
  const data = fs.readFileSync(file);
  const body = data.subarray(4);
  const fd = fs.openSync(target, "w");
  fs.writeSync(fd, data.subarray(0, 4));
  for (let i = 0; i < copies; i++) fs.writeSync(fd, body);
  fs.closeSync(fd);
}

function makeInputs(): Array<{ name: string; file: string }> {
  fs.mkdirSync(inputs, { recursive: true });
  const gs = (name: string, space: number, bits: number) => {
    const file = path.join(inputs, `${name}.pwg`);
    if (!fs.existsSync(file)) {
      const two = path.join(inputs, `${name}-2.pwg`);
      execFileSync("gs", ["-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pwgraster", "-r300", `-dcupsColorSpace=${space}`, `-dcupsBitsPerColor=${bits}`,
        "-sPAPERSIZE=letter", "-dFIXEDMEDIA", "-dPDFFitPage", `-sOutputFile=${two}`, ...PDFS]);
      repeatPages(two, file, 18);
    }
    return { name, file };
  };
  const list = [gs("Ghostscript gray 8", 18, 8), gs("Ghostscript RGB 24", 19, 8), gs("Ghostscript black 1", 3, 1)];
  const mupdf = path.join(inputs, "MuPDF RGB.pwg");
  if (!fs.existsSync(mupdf)) {
    const one = path.join(inputs, "mupdf-1.pwg");
    execFileSync("mutool", ["draw", "-q", "-r", "300", "-o", one, PDFS[0]]);
    repeatPages(one, mupdf, 36);
  }
  list.push({ name: "MuPDF RGB", file: mupdf });
  return list;
}

// ---- decoders ----

function decodeInMemory(bytes: Uint8Array): { seconds: number; lines: number } {
  let lines = 0;
  const sink: RasterSink = { beginPage() {}, line(_d, repeat) { lines += repeat; return true; }, endPage() {} };
  const start = performance.now();
  const decoder = new PwgDecoder(sink, { maxWidth: 20_000, maxHeight: 40_000 });
  for (let o = 0; o < bytes.length; o += 65536) decoder.write(bytes.subarray(o, o + 65536));
  decoder.end();
  return { seconds: (performance.now() - start) / 1000, lines };
}

function bestOf<T extends { seconds: number }>(runs: number, f: () => T): T {
  let best: T | undefined;
  for (let i = 0; i < runs; i++) {
    const r = f();
    if (!best || r.seconds < best.seconds) best = r;
  }
  return best!;
}

function cupsDecoder(): string | undefined {
  const binary = path.join(out, "cups-decode");
  if (fs.existsSync(binary)) return binary;
  if (!has("cc") || !fs.existsSync("/usr/include/cups/raster.h")) return undefined;
  execFileSync("cc", ["-O2", "-o", binary, path.join(root, "tools", "bench", "cups-decode.c"), "-lcups"]);
  return binary;
}

// ---- processes ----

interface Started { child: ChildProcess; port: number }

function startSimulator(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, [simulator, "--port", "0", "--no-cloud", "--state-dir", path.join(out, "state"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let text = "";
    child.stdout!.on("data", (c) => {
      text += c;
      const m = /listening on http:\/\/[^:]+:(\d+)\//.exec(text);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on("exit", (code) => reject(new Error(`simulator exited (${code}): ${text}`)));
  });
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

function upload(port: number, pathName: string, file: string, headers: Record<string, string>, onProgress?: (sent: number) => void): Promise<string> {
  const size = fs.statSync(file).size;
  return new Promise((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port, path: pathName, method: "POST", agent: false, headers: { ...headers, "Content-Length": size } }, (response) => {
      let text = "";
      response.on("data", (c) => (text += c));
      response.on("end", () => resolve(text));
    });
    request.on("error", reject);
    const stream = fs.createReadStream(file, { highWaterMark: 256 * 1024 });
    let sent = 0;
    stream.on("data", (chunk) => {
      sent += chunk.length;
      onProgress?.(sent);
      if (!request.write(chunk)) { stream.pause(); request.once("drain", () => stream.resume()); }
    });
    stream.on("end", () => request.end());
  });
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// ---- the run ----

async function main(): Promise<void> {
  fs.mkdirSync(out, { recursive: true });
  if (!fs.existsSync(simulator)) throw new Error("build first: npm run build");
  const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version };

  // 1. decoder against libcups' C decoder, file by file.
  const decoderRows: Array<Record<string, unknown>> = [];
  if (!has("gs") || !has("mutool")) notes.push("Ghostscript or MuPDF is missing: no decoder comparison (apt-get install ghostscript mupdf-tools)");
  else {
    const cups = cupsDecoder();
    if (!cups) notes.push("libcups headers or a C compiler are missing: no C decoder to compare with (apt-get install libcups2-dev)");
    for (const input of makeInputs()) {
      say(`decoding ${input.name}`);
      const bytes = new Uint8Array(fs.readFileSync(input.file));
      const ours = bestOf(3, () => decodeInMemory(bytes));
      const row: Record<string, unknown> = { input: input.name, mb: bytes.length / 1048576, ours_s: ours.seconds };
      if (cups) {
        const c = bestOf(3, () => {
          const [seconds, , lines] = execFileSync(cups, [input.file], { encoding: "utf8" }).trim().split(" ").map(Number);
          return { seconds, lines };
        });
        if (c.lines !== ours.lines) throw new Error(`${input.name}: libcups read ${c.lines} lines, we ${ours.lines}`);
        row.libcups_s = c.seconds;
        row.ratio = ours.seconds / c.seconds;
      }
      decoderRows.push(row);
    }
  }
  results.decoder = decoderRows;

  // 2. a big job: the RGB pages repeated past BIG_BYTES.
  const rgb = path.join(inputs, "Ghostscript RGB 24.pwg");
  const big = path.join(out, "big.pwg");
  if (fs.existsSync(rgb)) {
    const onePass = fs.statSync(rgb).size - 4;
    const copies = Math.ceil(BIG_BYTES / onePass);
    if (!fs.existsSync(big) || fs.statSync(big).size !== 4 + onePass * copies) repeatPages(rgb, big, copies);
    const size = fs.statSync(big).size;
    say(`big job: ${(size / 1048576).toFixed(0)} MB`);
    const alone = decodeInMemory(new Uint8Array(fs.readFileSync(big)));
    global.gc?.();

    // The network ceiling: the same bytes POSTed over loopback to a sink that drops them.
    const sink = spawn(process.execPath, ["-e", "require('http').createServer((q,s)=>{q.on('data',()=>{});q.on('end',()=>s.end('{}'))}).listen(0,'127.0.0.1',function(){console.log(this.address().port)})"], { stdio: ["ignore", "pipe", "inherit"] });
    const sinkPort = await new Promise<number>((resolve) => sink.stdout!.once("data", (c) => resolve(Number(String(c).trim()))));
    let start = performance.now();
    await upload(sinkPort, "/", big, { "Content-Type": "application/octet-stream" });
    const raw = (performance.now() - start) / 1000;
    sink.kill();

    // The pipeline: the simulator host with a null engine, driven by our client.
    const sim = await startSimulator(["--engine", "null", "--no-mdns"]);
    await new Promise((r) => setTimeout(r, 1000));
    const idleRss = rssMb(sim.child.pid!);
    const client = new PrivetClient({ baseUrl: `http://127.0.0.1:${sim.port}` });
    const samples: Array<{ t: number; mb: number; rss: number }> = [];
    const latencies: number[] = [];
    let streaming = true;
    let sent = 0;
    start = performance.now();
    const sampler = setInterval(() => samples.push({ t: (performance.now() - start) / 1000, mb: sent / 1048576, rss: rssMb(sim.child.pid!) }), 100);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const prober = (async () => {
      while (streaming) {
        const t0 = performance.now();
        await new Promise<void>((resolve, reject) => http.get({ host: "127.0.0.1", port: sim.port, path: "/privet/info", agent, headers: { "X-Privet-Token": "\"\"" } }, (r) => { r.resume(); r.on("end", () => resolve()); }).on("error", reject));
        latencies.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const job = await client.print({ file: big, jobName: "bench", onProgress: (n) => (sent = n) });
    const pipeline = (performance.now() - start) / 1000;
    streaming = false;
    clearInterval(sampler);
    await prober;
    agent.destroy();
    const final = await client.waitForJob(job.jobId);
    sim.child.kill();
    const peakRss = Math.max(...samples.map((s) => s.rss));
    results.pipeline = {
      mb: size / 1048576, decoder_alone_s: alone.seconds, pipeline_s: pipeline, ratio: pipeline / alone.seconds,
      raw_loopback_s: raw, pipeline_vs_raw: pipeline / raw, job_state: final.state,
      info_p50_ms: percentile(latencies, 50), info_p99_ms: percentile(latencies, 99), info_samples: latencies.length,
      rss_idle_mb: idleRss, rss_peak_mb: peakRss, rss_growth_mb: peakRss - idleRss,
    };
    writeChart(samples, size / 1048576);

    // CUPS's ippeveprinter taking the same document from ipptool, as a peer.
    const ipp = await ippeveprinterSeconds(big);
    if (typeof ipp === "string") notes.push(`no ippeveprinter comparison: ${ipp}`);
    else Object.assign(results.pipeline as object, { ippeveprinter_s: ipp, pipeline_vs_ippeveprinter: pipeline / ipp });
  }

  // 3. time to discovery: from starting the simulator until our mDNS client finds it.
  const name = `Bench Printer ${process.pid}`;
  const t0 = performance.now();
  const sim = await startSimulator(["--engine", "null", "--name", name]);
  const found = await discover({ timeoutMs: 10_000, until: (list) => list.some((p) => p.instance === name) });
  results.discovery_ms = found.some((p) => p.instance === name) ? performance.now() - t0 : null;
  sim.child.kill();

  results.notes = notes;
  fs.writeFileSync(path.join(out, "results.json"), JSON.stringify(results, null, 2) + "\n");
  printTable(results);
}

// ippeveprinter insists on avahi over D-Bus, and avahi must not run on a real
// interface: both go into a network namespace of their own, with ipptool.
async function ippeveprinterSeconds(file: string): Promise<number | string> {
  if (!has("ippeveprinter") || !has("ipptool")) return "CUPS ippeveprinter/ipptool are not installed (apt-get install cups-ipp-utils)";
  const tag = String(process.pid % 100000);
  const why = sandboxUnavailable(tag);
  if (why) return why;
  const sandbox = new Sandbox(fs.mkdtempSync(path.join(out, "ipp-")));
  const ns = `pvipp${tag}`;
  try {
    if (!sandbox.addNamespace(ns)) return "could not create a network namespace";
    await sandbox.startAvahi(ns);
    const spool = path.join(sandbox.dir, "spool");
    fs.mkdirSync(spool);
    sandbox.spawn(["ip", "netns", "exec", ns, "ippeveprinter", "-r", "off", "-p", "8700", "-f", "image/pwg-raster", "-d", spool, "Bench IPP"]);
    const ask = (args: string[]) => spawnSync("ip", ["netns", "exec", ns, "ipptool", "-T", "900", "-t", ...args], { encoding: "utf8", env: sandbox.env });
    for (let i = 0; i < 50 && ask(["ipp://localhost:8700/ipp/print", "/usr/share/cups/ipptool/get-printer-attributes.test"]).status !== 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    say("sending the big job to ippeveprinter with ipptool");
    const start = performance.now();
    const sent = ask(["-f", file, "ipp://localhost:8700/ipp/print", "/usr/share/cups/ipptool/print-job.test"]);
    const seconds = (performance.now() - start) / 1000;
    if (sent.status !== 0) return `ipptool failed: ${sent.stdout.split("\n").filter((l) => /FAIL|status/.test(l)).join(" ").trim()}`;
    return seconds;
  } finally {
    await sandbox.stop();
    fs.rmSync(sandbox.dir, { recursive: true, force: true });
  }
}

function writeChart(samples: Array<{ t: number; mb: number; rss: number }>, totalMb: number): void {
  const width = 720, height = 200, left = 60, gap = 50;
  const rate = samples.map((s, i) => ({ t: s.t, v: i === 0 ? 0 : (s.mb - samples[i - 1].mb) / (s.t - samples[i - 1].t) }));
  const tMax = Math.max(...samples.map((s) => s.t), 0.1);
  const panel = (points: Array<{ t: number; v: number }>, top: number, label: string, unit: string, color: string) => {
    const vMax = Math.max(...points.map((p) => p.v), 1) * 1.1;
    const line = points.map((p) => `${(left + (p.t / tMax) * (width - left - 10)).toFixed(1)},${(top + height - (p.v / vMax) * height).toFixed(1)}`).join(" ");
    return `<text x="${left}" y="${top - 8}" font-size="13">${label}</text>
<line x1="${left}" y1="${top + height}" x2="${width - 10}" y2="${top + height}" stroke="#888"/><line x1="${left}" y1="${top}" x2="${left}" y2="${top + height}" stroke="#888"/>
<text x="${left - 6}" y="${top + 10}" font-size="11" text-anchor="end">${vMax.toFixed(0)}</text><text x="${left - 6}" y="${top + height}" font-size="11" text-anchor="end">0 ${unit}</text>
<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${line}"/>`;
  };
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${2 * height + 3 * gap + 20}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
${panel(rate, gap, `Throughput of a ${totalMb.toFixed(0)} MB job through the printer (MB/s)`, "MB/s", "#1f6feb")}
${panel(samples.map((s) => ({ t: s.t, v: s.rss })), 2 * gap + height, "Printer process RSS while it streams (MB)", "MB", "#d1242f")}
<text x="${left}" y="${2 * height + 3 * gap + 10}" font-size="11">0 s</text><text x="${width - 10}" y="${2 * height + 3 * gap + 10}" font-size="11" text-anchor="end">${tMax.toFixed(1)} s</text>
</svg>\n`;
  fs.writeFileSync(path.join(out, "chart.svg"), svg);
}

function printTable(results: Record<string, any>): void {
  const rows: string[] = ["| measure | value | target |", "|---|---|---|"];
  for (const d of results.decoder as any[]) {
    rows.push(`| decode ${d.input} (${d.mb.toFixed(1)} MB, 36 Letter pages, 300 dpi) | ours ${d.ours_s.toFixed(3)} s` +
      (d.libcups_s !== undefined ? `, libcups ${d.libcups_s.toFixed(3)} s, **ratio ${d.ratio.toFixed(2)}** |` : " | ") + " ratio ≤ 1 |");
  }
  const p = results.pipeline;
  if (p) {
    rows.push(`| ${p.mb.toFixed(0)} MB job end to end (client, HTTP, spooler, decoder, null engine) vs decoder alone | ${p.pipeline_s.toFixed(2)} s vs ${p.decoder_alone_s.toFixed(2)} s, **ratio ${p.ratio.toFixed(2)}** | ≤ 1.2 |`);
    rows.push(`| same bytes, raw loopback POST to a sink (network ceiling) | ${p.raw_loopback_s.toFixed(2)} s (pipeline is ${p.pipeline_vs_raw.toFixed(2)}x) | context |`);
    if (p.ippeveprinter_s !== undefined) rows.push(`| same bytes to CUPS ippeveprinter with ipptool (spooled to disk, not decoded) | ${p.ippeveprinter_s.toFixed(2)} s (pipeline is ${p.pipeline_vs_ippeveprinter.toFixed(2)}x) | context |`);
    rows.push(`| /privet/info latency while the job streams (${p.info_samples} requests) | p50 ${p.info_p50_ms.toFixed(1)} ms, p99 ${p.info_p99_ms.toFixed(1)} ms | p99 < 20 ms |`);
    rows.push(`| simulator RSS idle / peak while streaming | ${p.rss_idle_mb.toFixed(0)} MB / ${p.rss_peak_mb.toFixed(0)} MB, **growth ${p.rss_growth_mb.toFixed(1)} MB** | growth < 32 MB |`);
  }
  rows.push(`| time from start until our mDNS client finds the printer | ${results.discovery_ms === null ? "not found" : `${results.discovery_ms.toFixed(0)} ms`} | context |`);
  process.stdout.write(rows.join("\n") + "\n");
  for (const note of results.notes as string[]) process.stdout.write(`\nnote: ${note}\n`);
  process.stdout.write(`\nwritten: bench/out/results.json, bench/out/chart.svg\n`);
}

main().catch((error) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
