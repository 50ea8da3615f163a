#!/usr/bin/env node
// npm run bench: our speed and memory, measured as ratios within one run on
// this machine (see the README for what each line means). Writes
// bench/out/results.json and bench/out/chart.svg and prints a table.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { PwgDecoder, type RasterSink } from "../../modules/pwg/decoder.js";
import { NullEngine } from "../../modules/print/null-engine.js";
import { OFFICE_CAPABILITIES } from "../../modules/print/office-capabilities.js";
import { MemoryStorage, nodeHal } from "../../hosts/node/hal.js";
import { ConsolePanel } from "../../hosts/node/panel.js";
import { Printer } from "../../modules/printer/printer.js";
import { claimAsUser, emulatorUserToken, submitAsUser } from "../cloud/as-user.js";
import { startCloudService } from "../cloud/index.js";
import { discover } from "../client/discover.js";
import { PrivetClient } from "../client/privet-client.js";
import { Sandbox, sandboxUnavailable } from "../netns/sandbox.js";
import { jpegBench, jpegTable } from "./jpeg-bench.js";
import { urfBench, urfTable } from "./urf-bench.js";
import { picoRows, runPicoBench } from "../pico/bench-run.js";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const out = path.join(root, "bench", "out");
const inputs = path.join(out, "inputs");
const simulator = path.join(root, "build", "tools", "launcher", "start.js");
const PDFS = ["/usr/share/cups/data/default-testpage.pdf", "/usr/share/cups/data/form_english.pdf"];
const BIG_BYTES = Number(process.env.BENCH_BIG_MB ?? 600) * 1048576;
// Timed rounds per figure (after untimed warm-up runs); each figure is their median.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const BIG_ROUNDS = Number(process.env.BENCH_BIG_ROUNDS ?? 3);
// The cloud download's job, in MB, and BENCH_ONLY=cloud (or jpeg, urf, pico, xs, ...) to run that section alone.
const CLOUD_BYTES = Number(process.env.BENCH_CLOUD_MB ?? 128) * 1048576;
const ONLY = process.env.BENCH_ONLY;
const notes: string[] = [];

// Polls a condition every 20 ms until it holds, or fails naming it.
async function until(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

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

// A 58 mm receipt: the same PDFs fitted to 384 dots at 203 dpi, 8-bit gray.
function makeThermalInput(): string {
  const file = path.join(inputs, "thermal 384 dots gray 8.pwg");
  if (!fs.existsSync(file)) {
    execFileSync("gs", ["-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pwgraster", "-r203", "-dcupsColorSpace=18", "-dcupsBitsPerColor=8",
      "-dDEVICEWIDTHPOINTS=136.2", "-dDEVICEHEIGHTPOINTS=176.3", "-dFIXEDMEDIA", "-dPDFFitPage", `-sOutputFile=${file}`, ...PDFS]);
  }
  return file;
}

// ---- statistics ----

interface Spread { median: number; min: number; max: number; n: number }

function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}

function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown", cores: cpus.length, load_at_start: os.loadavg().map((l) => Number(l.toFixed(2))),
    memory_gb: Number((os.totalmem() / 2 ** 30).toFixed(1)), node: process.version, v8: process.versions.v8, kernel: os.release(),
  };
}

// ---- decoders ----

// One sink shape for every call, so the decoder's call of line() stays monomorphic.
function decodeInMemory(bytes: Uint8Array): { seconds: number; lines: number; bytesOut: number } {
  let lines = 0, bytesOut = 0;
  const sink: RasterSink = { beginPage() {}, line(d, repeat) { lines += repeat; bytesOut += d.length * repeat; return true; }, endPage() {} };
  const start = performance.now();
  const decoder = new PwgDecoder(sink, { maxWidth: 20_000, maxHeight: 40_000 });
  for (let o = 0; o < bytes.length; o += 65536) decoder.write(bytes.subarray(o, o + 65536));
  decoder.end();
  return { seconds: (performance.now() - start) / 1000, lines, bytesOut };
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

// CPU seconds (user, system) a process has used so far, from /proc.
let clockTicks = 0;
function cpuSeconds(pid: number): { user: number; system: number } {
  if (!clockTicks) clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
  return { user: Number(fields[11]) / clockTicks, system: Number(fields[12]) / clockTicks };
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
  const results: Record<string, unknown> = { date: new Date().toISOString(), machine: machine() };
  const m = results.machine as Record<string, unknown>;
  say(`machine: ${m.cpu}, ${m.cores} cores, load ${(m.load_at_start as number[]).join(" ")} at the start, Node ${m.node}`);

  // 1. decoder against libcups' C decoder, file by file: untimed warm-up
  // runs, then rounds of ours and libcups in turn (A B A B), so a machine
  // that drifts while the bench runs moves both; each figure is the median.
  const decoderRows: Array<Record<string, unknown>> = [];
  if (ONLY) notes.push(`BENCH_ONLY=${ONLY}: the other sections were skipped`);
  else if (!has("gs") || !has("mutool")) notes.push("Ghostscript or MuPDF is missing: no decoder comparison (apt-get install ghostscript mupdf-tools)");
  else {
    const cups = cupsDecoder();
    if (!cups) notes.push("libcups headers or a C compiler are missing: no C decoder to compare with (apt-get install libcups2-dev)");
    const runCups = (file: string) => {
      const [seconds, , lines] = execFileSync(cups!, [file], { encoding: "utf8" }).trim().split(" ").map(Number);
      return { seconds, lines };
    };
    for (const input of makeInputs()) {
      say(`decoding ${input.name}: ${ROUNDS} rounds, ours and libcups in turn`);
      const bytes = new Uint8Array(fs.readFileSync(input.file));
      for (let i = 0; i < 2; i++) decodeInMemory(bytes);
      if (cups) runCups(input.file);
      const ours: number[] = [], theirs: number[] = [], pairs: number[] = [];
      let lines = 0, outBytes = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const a = decodeInMemory(bytes);
        ours.push(a.seconds);
        lines = a.lines;
        outBytes = a.bytesOut;
        if (!cups) continue;
        const b = runCups(input.file);
        if (b.lines !== a.lines) throw new Error(`${input.name}: libcups read ${b.lines} lines, we ${a.lines}`);
        theirs.push(b.seconds);
        pairs.push(a.seconds / b.seconds);
      }
      const row: Record<string, unknown> = { input: input.name, mb: bytes.length / 1048576, lines, ours_s: spread(ours) };
      if (cups) {
        const c = spread(theirs);
        row.libcups_s = c;
        row.ratio = spread(ours).median / c.median;
        row.ratio_rounds = spread(pairs);
      }
      // What the line expansion reaches: decoded bytes out per second (medians).
      row.out_mb = outBytes / 1048576;
      row.out_mb_per_s = { ours: outBytes / 1048576 / spread(ours).median, libcups: cups ? outBytes / 1048576 / spread(theirs).median : null };
      decoderRows.push(row);
    }
  }
  results.decoder = decoderRows;

  // 1b. the firmware on the emulated RP2040: only with a built bench image
  // (manifest_bench.json) and Raspberry Pi's boot ROM, which no CI has.
  if (!ONLY || ONLY === "pico") {
    const image = process.env.PRIVET_PICO_IMAGE, bootrom = process.env.PRIVET_PICO_BOOTROM;
    if (!image || !bootrom) notes.push("no RP2040 figures: set PRIVET_PICO_IMAGE to a bench image (mcconfig -i -m -p pico -t build ... manifest_bench.json) and PRIVET_PICO_BOOTROM to the RP2040 boot ROM (README, \"The Raspberry Pi Pico W\")");
    else {
      say(`booting ${image} in rp2040js (minutes: the emulator runs some 40 M cycles a second)`);
      const report = await runPicoBench(image, bootrom, root);
      results.pico = { image, ...report, log: undefined };
      if (!report.finished) notes.push("the RP2040 bench did not finish within 300 emulated seconds");
    }
  }

  // 2. the core in XS beside V8: the same code (measure.ts) on the same bytes
  // (BENCH_ONLY=xs runs this alone).
  if (ONLY === "xs") {
    if (has("gs") && has("mutool")) makeInputs();
    else notes.push("Ghostscript or MuPDF is missing: no inputs for the XS table (apt-get install ghostscript mupdf-tools)");
  }
  if ((!ONLY || ONLY === "xs") && fs.existsSync(path.join(inputs, "MuPDF RGB.pwg"))) {
    const xs = await xsAndV8(makeThermalInput());
    if (typeof xs === "string") notes.push(`no XS figures: ${xs}`);
    else results.xs = xs;
  }

  // 3. a big job: the RGB pages repeated past BIG_BYTES. Rounds of the
  // decoder alone and the whole pipeline in turn; each pipeline round is a
  // fresh simulator that first takes an 8 MB job (its warm-up).
  const rgb = path.join(inputs, "Ghostscript RGB 24.pwg");
  const big = path.join(out, "big.pwg");
  if (!ONLY && fs.existsSync(rgb)) {
    const onePass = fs.statSync(rgb).size - 4;
    const copies = Math.ceil(BIG_BYTES / onePass);
    if (!fs.existsSync(big) || fs.statSync(big).size !== 4 + onePass * copies) repeatPages(rgb, big, copies);
    const size = fs.statSync(big).size;
    say(`big job: ${(size / 1048576).toFixed(0)} MB, ${BIG_ROUNDS} rounds of the decoder alone and the pipeline in turn`);
    let bigBytes: Uint8Array | undefined = new Uint8Array(fs.readFileSync(big));

    // The network ceiling: the same bytes POSTed over loopback to a sink that drops them.
    const sink = spawn(process.execPath, ["-e", "require('http').createServer((q,s)=>{q.on('data',()=>{});q.on('end',()=>s.end('{}'))}).listen(0,'127.0.0.1',function(){console.log(this.address().port)})"], { stdio: ["ignore", "pipe", "inherit"] });
    const sinkPort = await new Promise<number>((resolve) => sink.stdout!.once("data", (c) => resolve(Number(String(c).trim()))));
    const raws: number[] = [];
    for (let i = 0; i < 3; i++) {
      const start = performance.now();
      await upload(sinkPort, "/", big, { "Content-Type": "application/octet-stream" });
      raws.push((performance.now() - start) / 1000);
    }
    sink.kill();

    const alone: number[] = [], pipelines: number[] = [], ratios: number[] = [];
    const rounds: Array<Record<string, number | string>> = [];
    let chartSamples: Array<{ t: number; mb: number; rss: number }> = [];
    for (let round = 0; round < BIG_ROUNDS; round++) {
      const cpu0 = process.cpuUsage();
      const a = decodeInMemory(bigBytes).seconds;
      const cpu = process.cpuUsage(cpu0);
      global.gc?.();
      const p = await pipelineRound(big, rgb);
      alone.push(a);
      pipelines.push(p.seconds);
      ratios.push(p.seconds / a);
      rounds.push({ decoder_alone_s: a, pipeline_s: p.seconds, info_p50_ms: p.p50, info_p99_ms: p.p99, info_samples: p.samples, rss_idle_mb: p.idleRss, rss_peak_mb: p.peakRss, job_state: p.state,
        decoder_alone_cpu_s: (cpu.user + cpu.system) / 1e6, simulator_cpu_user_s: p.cpuUser, simulator_cpu_system_s: p.cpuSystem });
      if (round === 0) chartSamples = p.chart;
      say(`round ${round + 1}: decoder alone ${a.toFixed(2)} s, pipeline ${p.seconds.toFixed(2)} s, info p99 ${p.p99.toFixed(1)} ms, RSS growth ${(p.peakRss - p.idleRss).toFixed(1)} MB`);
    }
    bigBytes = undefined;
    global.gc?.();
    const pick = (key: string) => spread(rounds.map((r) => r[key] as number));
    const pipeline = spread(pipelines), raw = spread(raws);
    results.pipeline = {
      mb: size / 1048576, rounds, decoder_alone_s: spread(alone), pipeline_s: pipeline, ratio: pipeline.median / spread(alone).median, ratio_rounds: spread(ratios),
      raw_loopback_s: raw, pipeline_vs_raw: pipeline.median / raw.median, job_states: rounds.map((r) => r.job_state),
      info_p50_ms: pick("info_p50_ms"), info_p99_ms: pick("info_p99_ms"), info_samples: pick("info_samples"),
      rss_idle_mb: pick("rss_idle_mb"), rss_peak_mb: pick("rss_peak_mb"),
      // Work rather than time: CPU seconds the simulator used during the job beside the decoder alone's.
      decoder_alone_cpu_s: pick("decoder_alone_cpu_s"), simulator_cpu_user_s: pick("simulator_cpu_user_s"), simulator_cpu_system_s: pick("simulator_cpu_system_s"),
      cpu_ratio: spread(rounds.map((r) => ((r.simulator_cpu_user_s as number) + (r.simulator_cpu_system_s as number)) / (r.decoder_alone_cpu_s as number))), rss_growth_mb: spread(rounds.map((r) => (r.rss_peak_mb as number) - (r.rss_idle_mb as number))),
    };
    writeChart(chartSamples, size / 1048576);

    // CUPS's ippeveprinter taking the same document from ipptool, as a peer.
    const ipp = await ippeveprinterSeconds(big);
    if (typeof ipp === "string") notes.push(`no ippeveprinter comparison: ${ipp}`);
    else Object.assign(results.pipeline as object, { ippeveprinter_s: ipp, pipeline_vs_ippeveprinter: pipeline.median / ipp });
  }

  // 4. time to discovery: from starting the simulator until our mDNS client finds it.
  if (!ONLY) {
    const name = `Bench Printer ${process.pid}`;
    const t0 = performance.now();
    const sim = await startSimulator(["--engine", "null", "--name", name]);
    const found = await discover({ timeoutMs: 10_000, until: (list) => list.some((p) => p.instance === name) });
    results.discovery_ms = found.some((p) => p.instance === name) ? performance.now() - t0 : null;
    sim.child.kill();
  }

  // 5. cloud jobs: /submit on the emulator to the first line at the engine,
  // and the download path's throughput beside a local submitdoc of the same bytes.
  if (!ONLY || ONLY === "cloud") {
    if (ONLY && has("gs") && has("mutool")) makeInputs();
    const gray = path.join(inputs, "Ghostscript gray 8-2.pwg");
    if (!ONLY && !fs.existsSync(gray)) notes.push("no cloud figures: the Ghostscript inputs are missing");
    else results.cloud = await cloudJobs(fs.existsSync(gray) ? gray : undefined);
  }

  // 6. IPP beside Privet: the same PWG bytes through IPP Print-Job and through
  // Privet createjob + submitdoc, in turn, on one simulator.
  if (!ONLY || ONLY === "ipp") {
    if (ONLY && has("gs") && has("mutool")) makeInputs();
    const rgb = path.join(inputs, "Ghostscript RGB 24.pwg");
    results.ipp = await ippBesidePrivet(fs.existsSync(rgb) ? rgb : undefined);
  }

  // 7. JPEG (IPP image/jpeg): our decoder beside djpeg, and the board's path in XS.
  if (!ONLY || ONLY === "jpeg") {
    const jpeg = await jpegBench({ root, inputs, rounds: ROUNDS, say, spread });
    if (typeof jpeg === "string") notes.push(`no JPEG figures: ${jpeg}`);
    else results.jpeg = jpeg;
  }

  // 8. URF (AirPrint's raster) beside PWG: one page rendered to both, each decoded in turn.
  if (!ONLY || ONLY === "urf") {
    const urf = has("gs") ? urfBench({ inputs, pdf: PDFS[0], rounds: ROUNDS, say, spread }) : "Ghostscript is missing";
    if (typeof urf === "string") notes.push(`no URF figures: ${urf}`);
    else results.urf = urf;
  }

  // The load at the end beside the load at the start: a machine that got busy meanwhile shows here.
  (results.machine as Record<string, unknown>).load_at_end = os.loadavg().map((l) => Number(l.toFixed(2)));
  results.notes = notes;
  fs.writeFileSync(path.join(out, "results.json"), JSON.stringify(results, null, 2) + "\n");
  printTable(results);
}

// The null engine, timing each job: when its first line arrives and when it ends.
class TimedEngine extends NullEngine {
  firstLine: number | undefined;
  ended: number | undefined;
  aborted = false;

  override beginJob(jobId: string): void {
    this.firstLine = undefined;
    this.ended = undefined;
    super.beginJob(jobId);
  }

  override line(data: Uint8Array, repeat: number): boolean {
    if (this.firstLine === undefined) this.firstLine = performance.now();
    return super.line(data, repeat);
  }

  override endJob(aborted: boolean): void {
    this.ended = performance.now();
    this.aborted = aborted;
    super.endJob(aborted);
  }
}

// A registered Printer in this process (null engine, XMPP to the emulator on
// loopback), the emulator beside it. Latency: a small PWG document (the gray
// pages, or a generated page when Ghostscript is missing) from the start of
// its /submit until the engine's first line, ROUNDS times after a warm-up.
// Throughput: a CLOUD_BYTES job, from /submit's answer (the emulator holds
// the document) until the engine ends it: push, /fetch, ticket, download,
// decode; in turn with the same bytes through Privet createjob + submitdoc,
// from the first request until the engine ends it.
async function cloudJobs(small: string | undefined): Promise<Record<string, unknown>> {
  // The emulator takes uploads up to 16 MB unless told otherwise.
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-cloud-"));
  const cloud = await startCloudService({
    host: "127.0.0.1", port: 0, stateDir, xmpp: { port: 0 },
    limits: { maxBodyBytes: CLOUD_BYTES * 2 + 16 * 1048576 }, onError: (error) => say(`emulator: ${String(error)}`),
  });
  const engine = new TimedEngine(OFFICE_CAPABILITIES);
  // OK on the panel presses itself, as npm start's --confirm auto.
  const panel = new ConsolePanel({ write: () => {}, auto: true, autoDelayMs: 50 });
  const printer = new Printer({ ...nodeHal({ log: () => {}, engine, panel }), storage: new MemoryStorage() }, {
    port: 0, url: cloud.baseUrl, name: "Bench printer",
    cloud: { xmpp: { host: "127.0.0.1", port: cloud.xmpp!.port, transport: "plain", allowPlainText: true } },
  });
  const port = await printer.start();
  try {
    const user = "bench@example.com";
    const registered = await new PrivetClient({ baseUrl: `http://127.0.0.1:${port}` }).registerWith(user, {
      waiting: () => {},
      claim: (answer) => claimAsUser(cloud.url, user, String(answer.automated_claim_url ?? "")),
    });
    const deviceId = String(registered.device_id);
    const userToken = await emulatorUserToken(cloud.url, user);
    await until("the channel is online", () => printer.cloud!.connectionState === "online", 10_000);
    const ended = async (what: string) => {
      await until(what, () => engine.ended !== undefined, 300_000);
      if (engine.aborted) throw new Error(`${what}: the job was aborted`);
    };
    const submit = async (title: string, data: Buffer) => {
      engine.ended = undefined;
      const start = performance.now();
      await submitAsUser(cloud.baseUrl, userToken, { printerId: deviceId, title, contentType: "image/pwg-raster", data });
      return { start, answered: performance.now() };
    };

    const smallDoc = small ? fs.readFileSync(small) : syntheticPwg(2550, 3300, 1);
    say(`cloud: /submit to the first line, ${ROUNDS} rounds of a ${(smallDoc.length / 1048576).toFixed(1)} MB document`);
    const fromSubmit: number[] = [], fromAnswer: number[] = [];
    for (let round = -1; round < ROUNDS; round++) {
      const s = await submit(`latency ${round}`, smallDoc);
      await ended("the small cloud job ends");
      if (round < 0) continue;
      fromSubmit.push(engine.firstLine! - s.start);
      fromAnswer.push(engine.firstLine! - s.answered);
    }

    const rgb = path.join(inputs, "Ghostscript RGB 24.pwg");
    const big = path.join(out, "cloud.pwg");
    if (fs.existsSync(rgb)) {
      const onePass = fs.statSync(rgb).size - 4;
      const copies = Math.max(1, Math.round(CLOUD_BYTES / onePass));
      if (!fs.existsSync(big) || fs.statSync(big).size !== 4 + onePass * copies) repeatPages(rgb, big, copies);
    } else fs.writeFileSync(big, syntheticPwg(2550, 3300, CLOUD_BYTES));
    let bigBytes: Buffer | undefined = fs.readFileSync(big);
    const mb = bigBytes.length / 1048576;
    say(`cloud: a ${mb.toFixed(0)} MB job ${BIG_ROUNDS} times through the cloud download and through submitdoc, in turn`);
    const client = new PrivetClient({ baseUrl: `http://127.0.0.1:${port}` });
    const cloudS: number[] = [], localS: number[] = [], downloadS: number[] = [];
    for (let round = 0; round < BIG_ROUNDS; round++) {
      const s = await submit(`throughput ${round}`, bigBytes);
      await ended("the big cloud job ends");
      cloudS.push((engine.ended! - s.answered) / 1000);
      downloadS.push((engine.ended! - engine.firstLine!) / 1000);
      global.gc?.();
      engine.ended = undefined;
      const start = performance.now();
      await client.print({ file: big, jobName: `local ${round}` });
      await ended("the big local job ends");
      localS.push((engine.ended! - start) / 1000);
      say(`cloud round ${round + 1}: cloud ${cloudS[round].toFixed(2)} s, submitdoc ${localS[round].toFixed(2)} s`);
      global.gc?.();
    }
    bigBytes = undefined;
    const c = spread(cloudS), l = spread(localS);
    return {
      small_mb: smallDoc.length / 1048576, submit_to_first_line_ms: spread(fromSubmit), answer_to_first_line_ms: spread(fromAnswer),
      big_mb: mb, cloud_s: c, cloud_first_line_to_end_s: spread(downloadS), local_submitdoc_s: l,
      cloud_mb_per_s: mb / c.median, local_mb_per_s: mb / l.median, cloud_vs_local: c.median / l.median,
    };
  } finally {
    await printer.stop();
    await cloud.close();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

// The Print-Job request that carries file: the operation attributes CUPS's
// ipp backend sends, encoded by hand (RFC 8010) so the bench does not lean on
// the codec it measures, then the document in the same body.
function printJobHead(port: number): Buffer {
  const parts: Buffer[] = [Buffer.from([2, 0, 0x00, 0x02, 0, 0, 0, 1, 0x01])];
  const attr = (tag: number, name: string, value: string) => {
    const n = Buffer.from(name), v = Buffer.from(value);
    const head = Buffer.alloc(3);
    head[0] = tag;
    head.writeUInt16BE(n.length, 1);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(v.length);
    parts.push(head, n, len, v);
  };
  attr(0x47, "attributes-charset", "utf-8");
  attr(0x48, "attributes-natural-language", "en");
  attr(0x45, "printer-uri", `ipp://127.0.0.1:${port}/ipp/print`);
  attr(0x42, "requesting-user-name", "bench");
  attr(0x42, "job-name", "bench");
  attr(0x49, "document-format", "image/pwg-raster");
  parts.push(Buffer.from([0x03]));
  return Buffer.concat(parts);
}

// Posts an IPP request followed by file, streamed; resolves with the status code.
function ippUpload(port: number, file: string): Promise<number> {
  const head = printJobHead(port);
  const size = fs.statSync(file).size;
  return new Promise((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port, path: "/ipp/print", method: "POST", agent: false,
      headers: { "Content-Type": "application/ipp", "Content-Length": head.length + size } }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (c) => chunks.push(c));
      response.on("end", () => {
        const body = Buffer.concat(chunks);
        resolve(body.length >= 4 ? body.readUInt16BE(2) : -1);
      });
    });
    request.on("error", reject);
    request.write(head);
    const stream = fs.createReadStream(file, { highWaterMark: 256 * 1024 });
    stream.on("data", (chunk) => { if (!request.write(chunk)) { stream.pause(); request.once("drain", () => stream.resume()); } });
    stream.on("end", () => request.end());
  });
}

async function ippBesidePrivet(rgb: string | undefined): Promise<Record<string, unknown>> {
  const big = path.join(out, "ipp.pwg");
  const target = Number(process.env.BENCH_IPP_MB ?? 256) * 1048576;
  if (rgb) {
    const onePass = fs.statSync(rgb).size - 4;
    const copies = Math.max(1, Math.round(target / onePass));
    if (!fs.existsSync(big) || fs.statSync(big).size !== 4 + onePass * copies) repeatPages(rgb, big, copies);
  } else fs.writeFileSync(big, syntheticPwg(2550, 3300, target));
  const mb = fs.statSync(big).size / 1048576;
  const sim = await startSimulator(["--engine", "null", "--no-mdns"]);
  try {
    const client = new PrivetClient({ baseUrl: `http://127.0.0.1:${sim.port}` });
    const idle = async () => {
      for (let i = 0; i < 3000; i++) {
        const info = await client.info();
        if (info.device_state === "idle") return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error("the simulator did not go idle");
    };
    say(`ipp: a ${mb.toFixed(0)} MB job through IPP Print-Job and through Privet submitdoc, in turn (1 warm-up + ${BIG_ROUNDS} rounds)`);
    const viaIpp: number[] = [], viaPrivet: number[] = [];
    for (let round = -1; round < BIG_ROUNDS; round++) {
      let start = performance.now();
      const status = await ippUpload(sim.port, big);
      if (status !== 0) throw new Error(`Print-Job answered status 0x${status.toString(16)}`);
      await idle();
      const ipp = (performance.now() - start) / 1000;
      global.gc?.();
      start = performance.now();
      const job = await client.print({ file: big, jobName: `privet ${round}` });
      await client.waitForJob(job.jobId);
      const privet = (performance.now() - start) / 1000;
      if (round < 0) continue;
      viaIpp.push(ipp);
      viaPrivet.push(privet);
      say(`ipp round ${round + 1}: Print-Job ${ipp.toFixed(2)} s, submitdoc ${privet.toFixed(2)} s`);
    }
    const i = spread(viaIpp), p = spread(viaPrivet);
    const result: Record<string, unknown> = { mb, print_job_s: i, submitdoc_s: p, ipp_vs_privet: i.median / p.median, ipp_mb_per_s: mb / i.median, privet_mb_per_s: mb / p.median };
    const eve = await ippeveprinterSeconds(big);
    if (typeof eve === "string") notes.push(`no ippeveprinter figure beside IPP: ${eve}`);
    else Object.assign(result, { ippeveprinter_s: eve, ipp_vs_ippeveprinter: i.median / eve });
    return result;
  } finally {
    sim.child.kill();
  }
}

// Gray pages of literal runs (little for the encoder to squeeze), at least
// `bytes` long, for when Ghostscript is not installed.
function syntheticPwg(width: number, height: number, bytes: number): Buffer {
  const header = Buffer.alloc(1796);
  header.write("PwgRaster", 0);
  const put = (offset: number, value: number) => header.writeUInt32BE(value, offset);
  put(276, 300); put(280, 300); put(372, width); put(376, height); put(384, 8); put(388, 8); put(392, width); put(400, 18); put(420, 1);
  const lines: Buffer[] = [];
  for (let v = 0; v < 16; v++) {
    const line: number[] = [0];
    for (let x = 0; x < width; x += 128) {
      const n = Math.min(128, width - x);
      line.push(257 - n);
      for (let i = 0; i < n; i++) line.push((x + i * 7 + v * 31) & 255);
    }
    lines.push(Buffer.from(line));
  }
  const parts: Buffer[] = [Buffer.from("RaS2")];
  let size = 4;
  do {
    parts.push(header);
    for (let y = 0; y < height; y++) { parts.push(lines[y & 15]); size += lines[y & 15].length; }
    size += header.length;
  } while (size < bytes);
  return Buffer.concat(parts);
}

// The core's decoder and the thermal driver inside XS (xsnap) beside V8 (a
// fresh Node process), the same measure.ts on the same bytes, task by task
// in turn. XS runs the first pages of each input (it is some 20 to 60 times
// slower); lines per second are what a print head asks for.
async function xsAndV8(thermal: string): Promise<Record<string, unknown> | string> {
  const driver = path.join(root, "build", "tools", "bench", "xs-driver.js");
  const v8 = path.join(root, "build", "tools", "bench", "v8-entry.js");
  const decodeInputs: Array<[string, string]> = [
    ["Ghostscript gray 8, 2 pages", "Ghostscript gray 8-2.pwg"], ["Ghostscript RGB 24, 2 pages", "Ghostscript RGB 24-2.pwg"],
    ["Ghostscript black 1, 2 pages", "Ghostscript black 1-2.pwg"], ["MuPDF RGB, 1 page", "mupdf-1.pwg"],
  ];
  const tasks: Array<{ name: string; what: string; task: Record<string, unknown>; file?: string }> = [
    ...decodeInputs.map(([name, file]) => ({ name, what: "decode", task: { kind: "decode", input: name }, file: path.join(inputs, file) })),
    { name: "58 mm receipt, 384 dots gray 8, 2 pages", what: "decode", task: { kind: "decode", input: "thermal" }, file: thermal },
    { name: "58 mm receipt, 384 dots gray 8, 2 pages", what: "decode + thermal driver (dither, bands)", task: { kind: "dither-job", input: "thermal" }, file: thermal },
    { name: "384 gray dots, none white (worst line)", what: "thermal driver alone (dither, bands)", task: { kind: "dither-only", lines: 1000 } },
  ];
  const run = (script: string, request: object, file: string | undefined) => {
    const r = spawnSync(process.execPath, [script, JSON.stringify(request), ...(file ? [file] : [])], { encoding: "utf8", maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(`${path.basename(script)}: ${r.stderr || r.stdout}`);
    return JSON.parse(r.stdout) as Array<{ seconds: number; lines: number; bytesOut: number }>;
  };
  try {
    run(driver, { task: { kind: "dither-only", lines: 1 }, warmups: 0, runs: 1 }, undefined);
  } catch (error) {
    return `xsnap does not run here (${String(error).split("\n")[0]})`;
  }
  const rows: Array<Record<string, unknown>> = [];
  for (const t of tasks) {
    say(`XS and V8: ${t.what}, ${t.name}`);
    const xs = run(driver, { task: t.task, warmups: 1, runs: 3 }, t.file);
    const v = run(v8, { task: t.task, warmups: 10, runs: 9, repeat: 20 }, t.file);
    const lines = xs[0].lines;
    const xsS = spread(xs.map((r) => r.seconds)), v8S = spread(v.map((r) => r.seconds));
    rows.push({
      input: t.name, what: t.what, lines, line_bytes: xs[0].bytesOut / lines,
      xs_s: xsS, v8_s: v8S, xs_lines_per_s: lines / xsS.median, v8_lines_per_s: lines / v8S.median, xs_vs_v8: xsS.median / v8S.median,
    });
  }
  return { engine: "xsnap (@agoric/xsnap, XS release build) on this machine's CPU", rows };
}

// One pipeline round: a fresh simulator with a null engine, a warm-up job,
// then the big job from our client while /privet/info is asked every 10 ms
// and the simulator's RSS sampled every 100 ms.
async function pipelineRound(big: string, warmup: string) {
  const sim = await startSimulator(["--engine", "null", "--no-mdns"]);
  const client = new PrivetClient({ baseUrl: `http://127.0.0.1:${sim.port}` });
  const first = await client.print({ file: warmup, jobName: "warm-up" });
  await client.waitForJob(first.jobId);
  await new Promise((r) => setTimeout(r, 1000));
  const idleRss = rssMb(sim.child.pid!);
  const cpuBefore = cpuSeconds(sim.child.pid!);
  const chart: Array<{ t: number; mb: number; rss: number }> = [];
  const latencies: number[] = [];
  let streaming = true;
  let sent = 0;
  const start = performance.now();
  const sampler = setInterval(() => chart.push({ t: (performance.now() - start) / 1000, mb: sent / 1048576, rss: rssMb(sim.child.pid!) }), 100);
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
  const seconds = (performance.now() - start) / 1000;
  const cpuAfter = cpuSeconds(sim.child.pid!);
  streaming = false;
  clearInterval(sampler);
  await prober;
  agent.destroy();
  const final = await client.waitForJob(job.jobId);
  sim.child.kill();
  return {
    seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), samples: latencies.length,
    idleRss, peakRss: Math.max(idleRss, ...chart.map((c) => c.rss)), state: final.state as string, chart,
    cpuUser: cpuAfter.user - cpuBefore.user, cpuSystem: cpuAfter.system - cpuBefore.system,
  };
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

// "median (min–max)" of a spread, in a unit.
function mmm(x: Spread, digits: number, unit = ""): string {
  return `${x.median.toFixed(digits)}${unit} (${x.min.toFixed(digits)}–${x.max.toFixed(digits)})`;
}

function printTable(results: Record<string, any>): void {
  const m = results.machine;
  const rows: string[] = [
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gb} GB, load ${m.load_at_start.join(" ")} at the start, ${m.load_at_end.join(" ")} at the end; Node ${m.node} (V8 ${m.v8}); ${new Date(results.date).toISOString().slice(0, 16)} UTC`,
    `each figure: median (min–max) of ${ROUNDS} rounds after warm-up (big job: ${BIG_ROUNDS} rounds); decoder and libcups in turn`,
    "",
    "| measure | value | target |", "|---|---|---|",
  ];
  for (const d of (results.decoder ?? []) as any[]) {
    const target = d.input.startsWith("Ghostscript") ? "ratio ≤ 0.6" : "ratio ≤ 1";
    rows.push(`| decode ${d.input} (${d.mb.toFixed(1)} MB in, ${d.out_mb.toFixed(0)} MB of lines out) | ours ${mmm(d.ours_s, 3, " s")}` +
      (d.libcups_s ? `, libcups ${mmm(d.libcups_s, 3, " s")}, **ratio ${d.ratio.toFixed(2)}** (rounds ${d.ratio_rounds.min.toFixed(2)}–${d.ratio_rounds.max.toFixed(2)}); lines out ${d.out_mb_per_s.ours.toFixed(0)} vs ${d.out_mb_per_s.libcups.toFixed(0)} MB/s |` : " |") + ` ${target} |`);
  }
  const p = results.pipeline;
  if (p) {
    rows.push(`| ${p.mb.toFixed(0)} MB job end to end (client, HTTP, spooler, decoder, null engine) vs decoder alone | ${mmm(p.pipeline_s, 2, " s")} vs ${mmm(p.decoder_alone_s, 2, " s")}, **ratio ${p.ratio.toFixed(2)}** (rounds ${p.ratio_rounds.min.toFixed(2)}–${p.ratio_rounds.max.toFixed(2)}) | ≤ 1.15 |`);
    rows.push(`| the same, in CPU seconds: the simulator during the job (user + system) vs the decoder alone | ${(p.simulator_cpu_user_s.median + p.simulator_cpu_system_s.median).toFixed(2)} s (${p.simulator_cpu_user_s.median.toFixed(2)} + ${p.simulator_cpu_system_s.median.toFixed(2)}) vs ${p.decoder_alone_cpu_s.median.toFixed(2)} s, ratio ${mmm(p.cpu_ratio, 2)} | context |`);
    rows.push(`| same bytes, raw loopback POST to a sink (network ceiling) | ${mmm(p.raw_loopback_s, 2, " s")} (pipeline is ${p.pipeline_vs_raw.toFixed(2)}x) | context |`);
    if (p.ippeveprinter_s !== undefined) rows.push(`| same bytes to CUPS ippeveprinter with ipptool (spooled to disk, not decoded) | ${p.ippeveprinter_s.toFixed(2)} s (pipeline is ${p.pipeline_vs_ippeveprinter.toFixed(2)}x) | context |`);
    rows.push(`| /privet/info latency while the job streams (${p.info_samples.median.toFixed(0)} requests a round) | p50 ${mmm(p.info_p50_ms, 1, " ms")}, **p99 ${mmm(p.info_p99_ms, 1, " ms")}** | p99 < 10 ms |`);
    rows.push(`| simulator RSS after a warm-up job / peak while streaming | ${mmm(p.rss_idle_mb, 0, " MB")} / ${mmm(p.rss_peak_mb, 0, " MB")}, **growth ${mmm(p.rss_growth_mb, 1, " MB")}** | growth < 16 MB |`);
  }
  if (results.discovery_ms !== undefined) rows.push(`| time from start until our mDNS client finds the printer | ${results.discovery_ms === null ? "not found" : `${results.discovery_ms.toFixed(0)} ms`} | context |`);
  const c = results.cloud;
  if (c) {
    rows.push(`| cloud job (${c.small_mb.toFixed(1)} MB PWG): from /submit on the emulator to the first line at the engine (from /submit's answer) | **${mmm(c.submit_to_first_line_ms, 1, " ms")}** (${mmm(c.answer_to_first_line_ms, 1, " ms")}) | context |`);
    rows.push(`| ${c.big_mb.toFixed(0)} MB job: cloud download (push, /fetch, ticket, download, decode; from /submit's answer to the job's end) vs the same bytes by Privet submitdoc | ${mmm(c.cloud_s, 2, " s")} (${c.cloud_mb_per_s.toFixed(0)} MB/s) vs ${mmm(c.local_submitdoc_s, 2, " s")} (${c.local_mb_per_s.toFixed(0)} MB/s), **ratio ${c.cloud_vs_local.toFixed(2)}** | context |`);
  }
  const i = results.ipp;
  if (i) {
    rows.push(`| ${i.mb.toFixed(0)} MB PWG job: IPP Print-Job vs Privet createjob + submitdoc, same simulator (null engine), to the job's end | ${mmm(i.print_job_s, 2, " s")} (${i.ipp_mb_per_s.toFixed(0)} MB/s) vs ${mmm(i.submitdoc_s, 2, " s")} (${i.privet_mb_per_s.toFixed(0)} MB/s), **ratio ${i.ipp_vs_privet.toFixed(2)}** | context |`);
    if (i.ippeveprinter_s !== undefined) rows.push(`| same bytes to CUPS ippeveprinter with ipptool (spooled to disk, not decoded) | ${i.ippeveprinter_s.toFixed(2)} s (our Print-Job is ${i.ipp_vs_ippeveprinter.toFixed(2)}x) | context |`);
  }
  if (results.xs) {
    rows.push("", `The core in XS (${results.xs.engine}) beside V8, same code and bytes; median (min–max) of 3 XS runs after 1 warm-up, 9 V8 runs (each the mean of 20 passes) after 10:`, "",
      "| task | input | XS lines/s | V8 lines/s | XS time / V8 time |", "|---|---|---|---|---|");
    for (const r of results.xs.rows) {
      rows.push(`| ${r.what} | ${r.input} (${r.lines} lines of ${r.line_bytes.toFixed(0)} bytes) | ${r.xs_lines_per_s.toFixed(0)} (${(r.lines / r.xs_s.max).toFixed(0)}–${(r.lines / r.xs_s.min).toFixed(0)}) | ${r.v8_lines_per_s.toFixed(0)} (${(r.lines / r.v8_s.max).toFixed(0)}–${(r.lines / r.v8_s.min).toFixed(0)}) | ${r.xs_vs_v8.toFixed(1)} |`);
    }
  }
  if (results.jpeg) rows.push("", "| JPEG | value | target |", "|---|---|---|", ...jpegTable(results.jpeg));
  if (results.urf) rows.push("", "| URF beside PWG (decode in memory) | value | note |", "|---|---|---|", ...urfTable(results.urf));
  if (results.pico) rows.push(...picoRows(results.pico, results.pico.image));
  process.stdout.write(rows.join("\n") + "\n");
  for (const note of results.notes as string[]) process.stdout.write(`\nnote: ${note}\n`);
  process.stdout.write(`\nwritten: bench/out/results.json, bench/out/chart.svg\n`);
}

main().catch((error) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
