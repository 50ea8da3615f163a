import test from "ava";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Printer } from "../modules/printer/printer.js";
import { nodeHal } from "../hosts/node/hal.js";
import { PrivetClient } from "../tools/client/privet-client.js";
import { encodeDocument, testPage } from "./helpers/pwg.js";
import { TestEngine } from "./helpers/test-engine.js";
import { which } from "./helpers/peers.js";

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "tools", "client", "cli.js");

// No mDNS here: tests/mdns-interop.test.ts owns loopback discovery (and tests the client's).
async function printer() {
  const engine = new TestEngine();
  const p = new Printer(nodeHal({ log: () => {}, engine }), { port: 0, name: "Client Test" });
  const port = await p.start();
  return { engine, printer: p, port, url: `http://127.0.0.1:${port}` };
}

function docFile(pages = 1): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "privet-client-")), "doc.pwg");
  writeFileSync(file, encodeDocument(Array.from({ length: pages }, (_, i) => testPage(300, 120, "srgb_8", i + 1))));
  return file;
}

function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => { waits.push(ms); } };
}

test("print uses createjob when offered, reports progress, and waits for the job", async (t) => {
  const { printer: p, url, engine } = await printer();
  const client = new PrivetClient({ baseUrl: url });
  const progress: number[] = [];
  const file = docFile(2);
  const { jobId, advanced, answer } = await client.print({ file, jobName: "two", onProgress: (sent) => progress.push(sent) });
  t.true(advanced);
  t.is(answer.job_name, "two");
  t.true(progress.length >= 1 && progress.at(-1) === answer.job_size, "progress ends at the document size");
  t.deepEqual(progress, [...progress].sort((a, b) => a - b));
  const final = await client.waitForJob(jobId);
  t.like(final, { state: "done", semantic_state: { pages_printed: 2 } });
  t.is(engine.pages.length, 2);
  await p.stop();
});

test("a refused token is refreshed once from /privet/info", async (t) => {
  const { printer: p, url } = await printer();
  const client = new PrivetClient({ baseUrl: url });
  client.token = "c3RhbGU6MTIz";
  const caps = await client.capabilities();
  t.is(caps.version, "1.0");
  t.is(client.infoCalls, 1);
  await p.stop();
});

test("printer_busy is retried after its timeout plus up to 20 %", async (t) => {
  const { printer: p, url, port, engine } = await printer();
  // Another client holds the printer with a half-sent document.
  const info = await new PrivetClient({ baseUrl: url }).info();
  const doc = encodeDocument([testPage(200, 100, "sgray_8", 1)]);
  const holder = net.connect(port, "127.0.0.1");
  holder.write(`POST /privet/printer/submitdoc HTTP/1.1\r\nX-Privet-Token: ${info["x-privet-token"]}\r\nContent-Type: image/pwg-raster\r\nContent-Length: ${doc.length}\r\n\r\n`);
  holder.write(doc.subarray(0, 3000));
  for (let i = 0; i < 200 && engine.linesTaken === 0; i++) await new Promise((r) => setTimeout(r, 10));
  const waits: number[] = [];
  const client = new PrivetClient({
    baseUrl: url,
    random: () => 0.5,
    sleep: async (ms) => { waits.push(ms); holder.write(doc.subarray(3000)); await new Promise((r) => setTimeout(r, 200)); },
  });
  const { jobId } = await client.print({ file: docFile() });
  t.truthy(jobId);
  t.true(waits.length >= 1);
  t.true(waits[0] >= 10_000 && waits[0] <= 12_000, `waited ${waits[0]} ms for a 10 s timeout`);
  holder.destroy();
  await p.stop();
});

// The paths a healthy printer does not take on demand: a scripted printer.
function scripted(submitBehaviour: Array<"close" | "503" | "invalid_print_job" | "ok">) {
  let createjobs = 0;
  let submits = 0;
  const server = http.createServer((request, response) => {
    const url = request.url ?? "";
    const json = (value: unknown) => { response.setHeader("Content-Type", "application/json"); response.end(JSON.stringify(value)); };
    if (url.startsWith("/privet/info")) return json({ "x-privet-token": "t", api: ["/privet/printer/createjob", "/privet/printer/submitdoc", "/privet/printer/jobstate"] });
    if (url.startsWith("/privet/printer/createjob")) { createjobs++; request.resume(); return request.on("end", () => json({ job_id: `j${createjobs}`, expires_in: 600 })); }
    if (url.startsWith("/privet/printer/submitdoc")) {
      const behaviour = submitBehaviour[Math.min(submits++, submitBehaviour.length - 1)];
      if (behaviour === "close") return request.socket.destroy();
      if (behaviour === "503") { response.statusCode = 503; return response.end(); }
      request.resume();
      return request.on("end", () => json(behaviour === "invalid_print_job" ? { error: "invalid_print_job" } : { job_id: new URL(url, "http://x").searchParams.get("job_id"), job_size: 1 }));
    }
    response.statusCode = 404;
    response.end();
  });
  return new Promise<{ url: string; close: () => void; counts: () => { createjobs: number; submits: number } }>((resolve) => server.listen(0, "127.0.0.1", () => {
    resolve({ url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, close: () => server.close(), counts: () => ({ createjobs, submits }) });
  }));
}

test("a closed socket or HTTP 503 on submitdoc counts as printer_busy for 15 s, at most 3 attempts", async (t) => {
  const server = await scripted(["close", "503", "ok"]);
  const { waits, sleep } = recordingSleep();
  const client = new PrivetClient({ baseUrl: server.url, sleep, random: () => 1 });
  const { jobId } = await client.print({ file: docFile() });
  t.is(jobId, "j1");
  t.deepEqual(waits, [18_000, 18_000], "15 s plus the 20 % allowance");
  server.close();

  const failing = await scripted(["503"]);
  const again = recordingSleep();
  await t.throwsAsync(new PrivetClient({ baseUrl: failing.url, sleep: again.sleep }).print({ file: docFile() }));
  t.is(failing.counts().submits, 3);
  t.is(again.waits.length, 2);
  failing.close();
});

test("invalid_print_job waits up to 5 s and starts over from createjob", async (t) => {
  const server = await scripted(["invalid_print_job", "ok"]);
  const { waits, sleep } = recordingSleep();
  const { jobId } = await new PrivetClient({ baseUrl: server.url, sleep, random: () => 0.7 }).print({ file: docFile() });
  t.is(jobId, "j2", "the second createjob's job");
  t.deepEqual(waits, [3500]);
  t.deepEqual(server.counts(), { createjobs: 2, submits: 2 });
  server.close();
});

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

test("the privet command prints a file and exits 0; errors are one line with a meaningful exit code", async (t) => {
  const { printer: p, url, engine } = await printer();
  const done = await runCli(["print", docFile(), "--printer", url]);
  t.is(done.code, 0, done.stderr);
  t.regex(done.stdout, /^job [0-9a-f]{12} done\n$/);
  t.regex(done.stderr, /uploading \[#+\] 100%/);
  engine.setFault("media-jam", "Paper jam in the output path");
  const refused = await runCli(["print", docFile(), "--printer", url]);
  t.is(refused.code, 4);
  t.is(refused.stderr, "privet: the printer refused: printer_error: Paper jam in the output path\n");
  await p.stop();
  t.is((await runCli(["info", "--printer", url])).code, 3, "unreachable");
  t.is((await runCli(["frobnicate"])).code, 2);
  t.is((await runCli(["print", "/no/such/file"])).code, 2);
});

(which("gs") ? test : test.skip)(`print converts a PDF with Ghostscript at the printer's default resolution${which("gs") ? "" : " (skipped: gs is not installed)"}`, async (t) => {
  const { printer: p, url, engine } = await printer();
  const result = await runCli(["print", "/usr/share/cups/data/default-testpage.pdf", "--printer", url]);
  t.is(result.code, 0, result.stderr);
  t.regex(result.stderr, /converted default-testpage.pdf to PWG raster at 300 dpi/);
  t.like(engine.pages[0].page, { xDpi: 300, yDpi: 300, width: 2480, height: 3508, colorSpace: "srgb_8" });
  await p.stop();
});

(which("gs") ? test : test.skip)(`on a continuous roll the page keeps the document's shape${which("gs") ? "" : " (skipped: gs is not installed)"}`, async (t) => {
  const { printer: p, url, engine } = await printer();
  engine.capabilities = {
    colorSpaces: ["sgray_8", "black_1"], resolutions: [{ x: 203, y: 203 }], maxWidth: 384, maxHeight: 8000,
    media: [{ name: "CUSTOM", widthMicrons: 48_047, heightMicrons: 1_000_000, continuous: true }],
  };
  const result = await runCli(["print", "/usr/share/cups/data/default-testpage.pdf", "--printer", url]);
  t.is(result.code, 0, result.stderr);
  const { width, height, colorSpace } = engine.pages[0].page;
  t.is(width, 384);
  t.is(colorSpace, "sgray_8");
  t.true(Math.abs(height / width - 841.89 / 595.28) < 0.01, `${width} x ${height}: A4's shape, not the roll's length`);
  await p.stop();
});
