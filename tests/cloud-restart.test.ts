import test from "ava";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { get } from "./helpers/client.js";
import { startTestCloud, userToken } from "./helpers/cloud.js";
import { serviceJob, submitJob, until } from "./helpers/cloud-printer.js";
import { encodeDocument, testPage } from "./helpers/pwg.js";
import { spawnNode } from "./helpers/spawn.js";

// The simulator killed with SIGKILL in the middle of a cloud job, as a power
// cut would stop the board: at the next start on the same state it tells the
// service the job it had in hand was ABORTED, and why.

// The log goes to stderr, the banner to stdout.
const said = (proc: ReturnType<typeof spawnNode>) => proc.output().stdout + proc.output().stderr;

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const simulator = path.join(root, "tools", "launcher", "start.js");
const client = path.join(root, "tools", "client", "cli.js");

function runClient(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [client, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c) => (stderr += c));
    child.on("exit", (code) => resolve({ code, stderr }));
  });
}

test("kill -9 after page 1 of a cloud job: at the next start the service shows the job ABORTED, the restart named", async (t) => {
  const cloud = await startTestCloud({ xmpp: { port: 0 } });
  t.teardown(() => cloud.service.close());
  const state = mkdtempSync(path.join(tmpdir(), "privet-restart-state-"));
  const out = mkdtempSync(path.join(tmpdir(), "privet-restart-out-"));
  // 6 pages a minute: each page takes 10 s, so the job is caught mid-way.
  const args = ["--port", "0", "--state-dir", state, "--out", out, "--no-mdns", "--engine", "png", "--ppm", "6",
    "--cloud", cloud.service.baseUrl, "--xmpp", `127.0.0.1:${cloud.service.xmpp!.port}`, "--confirm", "auto", "--no-panel"];
  const procs: Array<ReturnType<typeof spawnNode>> = [];
  const start = async () => {
    const proc = spawnNode(simulator, args);
    procs.push(proc);
    await until("listening", () => /listening on http:\/\/127\.0\.0\.1:\d+\//.test(proc.output().stdout), 15_000);
    return { proc, port: Number(/listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(proc.output().stdout)![1]) };
  };
  // Only the children this test started, by their own handles.
  t.teardown(async () => { for (const p of procs) { if (p.child.exitCode === null && p.child.signalCode === null) { p.child.kill("SIGTERM"); await p.exited; } } });

  const first = await start();
  const registered = await runClient(["register", "--printer", `http://127.0.0.1:${first.port}`, "--user", "erin@example.com", "--auto-claim"]);
  t.is(registered.code, 0, registered.stderr);
  const info = JSON.parse((await get(first.port, "/privet/info", { "X-Privet-Token": "\"\"" })).body);
  const at = { cloud, deviceId: info.id as string, user: await userToken(cloud.service, "erin@example.com") };
  await until("the push channel is online", async () => JSON.parse((await get(first.port, "/privet/info", { "X-Privet-Token": "\"\"" })).body).connection_state === "online", 15_000);

  const doc = encodeDocument(Array.from({ length: 3 }, (_, i) => testPage(200, 300, "sgray_8", 1 + i)));
  const id = await submitJob(at, "cut short", doc, "image/pwg-raster");
  await until("page 1 is out", () => /engine: page 1 of job \S+ written/.test(said(first.proc)), 30_000)
    .catch((error) => { t.log(said(first.proc).slice(-3000)); throw error; });
  t.is((await serviceJob(at, id)).semanticState.state.type, "IN_PROGRESS");
  first.proc.child.kill("SIGKILL");
  t.is(await first.proc.exited, null);

  const second = await start();
  let job: any;
  await until("the service shows the job ABORTED", async () => {
    job = await serviceJob(at, id);
    return job.semanticState.state.type === "ABORTED";
  }, 20_000);
  t.deepEqual(job.semanticState.state, { type: "ABORTED", device_action_cause: { error_code: "OTHER" } });
  t.regex(job.message, /restarted/);
  // The service can show it before the printer's log line has come through the pipe.
  await until("the printer says it reported the job", () => new RegExp(`cloud job ${id}: interrupted by a restart; reported ABORTED`).test(said(second.proc)), 15_000)
    .catch((error) => { t.log(said(second.proc).slice(-3000)); throw error; });
  // Not printed again: no second job reached the engine.
  t.false(/engine: page 1 of job \S+ written/.test(said(second.proc)));
});
