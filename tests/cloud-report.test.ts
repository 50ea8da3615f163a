import test from "ava";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { MemoryStorage, nodeHal } from "../hosts/node/hal.js";
import { JobStore } from "../modules/jobs/store.js";
import { JobLifecycle } from "../modules/print/lifecycle.js";
import type { CloudApi, CloudResult } from "../modules/cloud/api.js";
import { CloudReports } from "../modules/cloud/reports.js";
import type { Json } from "../modules/cloud/values.js";
import { rawRequest } from "./helpers/client.js";
import { call, startTestCloud, type TestCloud } from "./helpers/cloud.js";
import { registerPrinter, startCloudPrinter, until, type CloudPrinter } from "./helpers/cloud-printer.js";
import { FakeClock } from "./helpers/fake-clock.js";
import { settle } from "./helpers/fake-cloud-api.js";
import { encodeDocument, testPage } from "./helpers/pwg.js";
import { TestEngine } from "./helpers/test-engine.js";
import { spawnNode } from "./helpers/spawn.js";
import { which } from "./helpers/peers.js";

// What the printer tells the service beyond its cloud jobs:
// local jobs once finished (reference 5.6), its own state as it
// changes, and the emulator's submit command a person uses from a shell.

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const PDF_TESTPAGE = "/usr/share/cups/data/default-testpage.pdf";

interface Setup { cloud: TestCloud; p: CloudPrinter; engine: TestEngine; deviceId: string; user: string; updates: string[] }

async function setup(t: any, stateIntervalMs = 300): Promise<Setup> {
  const updates: string[] = [];
  const cloud = await startTestCloud({ onRequest: (_method, where) => { if (where.endsWith("/update")) updates.push(where); } });
  t.teardown(() => cloud.service.close());
  const engine = new TestEngine();
  const p = await startCloudPrinter({ url: cloud.service.baseUrl, storage: new MemoryStorage(), engine, cloud: { reports: { stateIntervalMs } } });
  t.teardown(() => p.stop());
  const r = await registerPrinter(cloud, p);
  return { cloud, p, engine, deviceId: r.deviceId, user: r.userToken, updates };
}

async function cloudJobs(s: Setup): Promise<any[]> {
  return (await call(s.cloud.service, "jobs", { printerid: s.deviceId }, { token: s.user })).json.jobs;
}

async function serviceState(s: Setup): Promise<any> {
  return (await call(s.cloud.service, "printer", { printerid: s.deviceId }, { token: s.user })).json.printers[0].semanticState;
}

async function submitLocal(s: Setup, body: Uint8Array, name: string): Promise<any> {
  const infoAnswer = await s.p.privet.info();
  const head = `POST /privet/printer/submitdoc?job_name=${encodeURIComponent(name)} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Privet-Token: ${infoAnswer["x-privet-token"]}\r\n` +
    `Content-Type: image/pwg-raster\r\nContent-Length: ${body.length}\r\n\r\n`;
  const answer = await rawRequest(s.p.port, Buffer.concat([Buffer.from(head), Buffer.from(body)]), 15_000);
  return JSON.parse(answer.body);
}

test("a local submitdoc on a registered printer shows on the service as a finished job with its pages, and only once", async (t) => {
  const s = await setup(t);
  const doc = encodeDocument([testPage(64, 80, "sgray_8", 1), testPage(64, 80, "sgray_8", 2)]);
  const answer = await submitLocal(s, doc, "Local report");
  t.truthy(answer.job_id, JSON.stringify(answer));
  let job: any;
  await until("the local job is on the service", async () => {
    job = (await cloudJobs(s)).find((j) => j.title === "Local report");
    return job !== undefined;
  }, 10_000);
  t.is(job.semanticState.state.type, "DONE");
  t.is(job.semanticState.pages_printed, 2);
  t.is(job.contentType, "image/pwg-raster");
  t.is(job.status, "DONE");
  // No document went up, and nothing is left for the printer to fetch.
  const fetched = await call(s.cloud.service, "fetch", { printerid: s.deviceId }, { token: s.user });
  t.false(fetched.json.success);
  t.true(s.p.logs.some((line) => /local job .* reported as/.test(line)), s.p.logs.join("\n"));

  // A cloud job is reported through /control only: it shows once.
  const submitted = await call(s.cloud.service, "submit", { printerid: s.deviceId, title: "From the cloud", contentType: "image/pwg-raster" }, {
    encoding: "multipart", token: s.user, files: [{ name: "content", filename: "c.pwg", contentType: "image/pwg-raster", data: Buffer.from(doc) }],
  });
  t.true(submitted.json.success, submitted.text);
  s.p.printer.cloud!.jobs!.due();
  await until("the cloud job is done", async () => (await cloudJobs(s)).find((j) => j.id === submitted.json.job.id)?.semanticState.state.type === "DONE", 15_000);
  await new Promise((r) => setTimeout(r, 300));
  const all = await cloudJobs(s);
  t.is(all.length, 2, JSON.stringify(all.map((j) => j.title)));
});

test("an engine fault goes to the service as STOPPED with the fault, and IDLE once cleared", async (t) => {
  const s = await setup(t);
  t.is((await serviceState(s)).printer.state, "IDLE");
  s.engine.setFault("media-empty", "Out of paper");
  await until("the service shows STOPPED", async () => (await serviceState(s))?.printer?.state === "STOPPED", 5_000);
  const stopped = await serviceState(s);
  t.is(stopped.printer.vendor_state.item[0].description, "Out of paper");
  t.is(stopped.printer.input_tray_state.item[0].state, "EMPTY");
  s.engine.setFault(undefined);
  await until("the service shows IDLE again", async () => (await serviceState(s))?.printer?.state === "IDLE", 5_000);
  t.is((await serviceState(s)).printer.vendor_state, undefined);
});

// CloudReports alone, on a fake clock: the rate limit and what survives it.
function fakeReports(clock: FakeClock, lifecycle?: JobLifecycle) {
  const sent: Array<{ at: number; state: string }> = [];
  const submits: Array<Array<[string, string]>> = [];
  let state: unknown = { version: "1.0", printer: { state: "IDLE" } };
  let failSubmits = 0;
  const api = {
    update: (_id: string, _token: string, fields: Array<[string, string]>): Promise<CloudResult<Json>> => {
      sent.push({ at: clock.now, state: JSON.parse(fields[0][1]).printer.state });
      return Promise.resolve({ ok: true, value: { success: true } });
    },
    submitLocal: (_id: string, _token: string, fields: Array<[string, string]>): Promise<CloudResult<{ jobId: string }>> => {
      submits.push(fields);
      if (failSubmits-- > 0) return Promise.resolve({ ok: false, failure: { kind: "offline", api: "/submit", message: "down" } });
      return Promise.resolve({ ok: true, value: { jobId: "j" } });
    },
  } as unknown as CloudApi;
  const logs: string[] = [];
  const reports = new CloudReports({
    api, clock, log: (_level, message) => logs.push(message),
    printerId: () => "p-1",
    authorized: (fn) => fn("token"),
    semanticState: () => state,
  }, lifecycle, { stateIntervalMs: 10_000, localJobAttempts: 3, localJobRetryMs: 1_000 });
  return { reports, sent, submits, logs, set: (s: string) => { state = { version: "1.0", printer: { state: s } }; }, failSubmits: (n: number) => { failSubmits = n; } };
}

test("state reports are rate-limited: one per window, the latest state wins, a trailing one after the window", async (t) => {
  const clock = new FakeClock();
  const f = fakeReports(clock);
  f.reports.start();
  f.reports.stateChanged();
  await settle();
  t.is(f.sent.length, 0, "nothing changed since start");
  f.set("PROCESSING");
  f.reports.stateChanged();
  await settle();
  t.deepEqual(f.sent, [{ at: 0, state: "PROCESSING" }]);
  // A burst inside the window: STOPPED, PROCESSING, IDLE, STOPPED.
  for (const [at, state] of [[1_000, "STOPPED"], [2_000, "PROCESSING"], [3_000, "IDLE"], [4_000, "STOPPED"]] as const) {
    clock.advance(at - clock.now);
    f.set(state);
    f.reports.stateChanged();
    await settle();
  }
  t.is(f.sent.length, 1, "held back inside the window");
  clock.advance(10_000 - clock.now);
  await settle();
  t.deepEqual(f.sent[1], { at: 10_000, state: "STOPPED" });
  // Back to what was sent last before the window ends: nothing to say.
  f.set("STOPPED");
  clock.advance(5_000);
  f.reports.stateChanged();
  await settle();
  clock.advance(20_000);
  await settle();
  t.is(f.sent.length, 2);
  // Long after: at once.
  f.set("IDLE");
  f.reports.stateChanged();
  await settle();
  t.deepEqual(f.sent[2], { at: clock.now, state: "IDLE" });
  f.reports.stop();
});

test("a local job report that keeps failing is tried a bounded number of times, then dropped", async (t) => {
  const clock = new FakeClock();
  const lifecycle = new JobLifecycle(new JobStore(clock, nodeHal({ log: () => {} }).random), () => {});
  const f = fakeReports(clock, lifecycle);
  f.reports.start();
  f.failSubmits(100);
  const job = lifecycle.createQueued();
  job.jobName = "Doomed";
  lifecycle.start(job);
  lifecycle.finish(job, 1);
  await settle();
  t.is(f.submits.length, 1);
  clock.advance(1_000);
  await settle();
  clock.advance(2_000);
  await settle();
  t.is(f.submits.length, 3);
  clock.advance(600_000);
  await settle();
  t.is(f.submits.length, 3, "no fourth try");
  t.true(f.logs.some((line) => /not reported: down/.test(line)), f.logs.join("\n"));
  const fields: Record<string, string | undefined> = Object.fromEntries(f.submits[0]);
  t.is(fields.title, "Doomed");
  t.deepEqual(JSON.parse(String(fields.final_semantic_state)), { version: "1.0", state: { type: "DONE" }, pages_printed: 1 });
  t.is(fields.content, undefined);
  f.reports.stop();
});

test("a local job's report carries a Privet job's CJT, and not an IPP job's own ticket", async (t) => {
  const clock = new FakeClock();
  const lifecycle = new JobLifecycle(new JobStore(clock, nodeHal({ log: () => {} }).random), () => {});
  const f = fakeReports(clock, lifecycle);
  f.reports.start();
  const privet = lifecycle.createQueued({ version: "1.0", print: { copies: { copies: 1 } } });
  privet.origin = "privet";
  const ipp = lifecycle.createQueued({ media: "iso_a4_210x297mm", copies: 1 });
  ipp.origin = "ipp";
  for (const job of [privet, ipp]) {
    lifecycle.start(job);
    lifecycle.finish(job, 1);
  }
  await settle();
  clock.advance(1_000);
  await settle();
  const fields = f.submits.map((submit) => Object.fromEntries(submit) as Record<string, string | undefined>);
  t.is(fields.length, 2);
  t.deepEqual(JSON.parse(String(fields[0].ticket)), { version: "1.0", print: { copies: { copies: 1 } } });
  t.is(fields[1].ticket, undefined);
  f.reports.stop();
});

// The service converts the PDF with Ghostscript; both come from packages .ci/run installs.
const submitMissing = [...(existsSync(PDF_TESTPAGE) ? [] : [PDF_TESTPAGE]), ...(which("gs") ? [] : ["gs"])];
const submitTest = submitMissing.length ? test.skip : test;
const submitTitle = "`npm run cloud -- submit FILE --printer ID` prints a PDF on a running `npm start`: a PNG in its out dir";

submitTest(submitMissing.length ? `${submitTitle} (skipped: ${submitMissing.join(", ")} not installed)` : submitTitle, async (t) => {
  const state = mkdtempSync(path.join(tmpdir(), "cloud-report-state-"));
  const out = mkdtempSync(path.join(tmpdir(), "cloud-report-out-"));
  const sim = spawnNode(path.join(root, "tools", "launcher", "start.js"), ["--port", "0", "--cloud-port", "0", "--confirm", "auto", "--no-mdns", "--state-dir", state, "--out", out], { cwd: root });
  t.teardown(async () => { sim.child.kill("SIGTERM"); await sim.exited; });
  await until("the simulator listens", () => /embedded Cloud Print emulator at http:\/\/127\.0\.0\.1:\d+/.test(sim.output().stdout), 15_000);
  const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(sim.output().stdout)![1]);
  const emulator = /embedded Cloud Print emulator at (http:\/\/127\.0\.0\.1:\d+)/.exec(sim.output().stdout)![1];

  const register = spawnNode(path.join(root, "tools", "client", "cli.js"), ["register", "--printer", `http://127.0.0.1:${port}`, "--user", "erin@example.com", "--auto-claim"], { cwd: root });
  t.is(await register.exited, 0, register.output().stderr);
  const id = /device id ([0-9a-f-]{36})/.exec(register.output().stdout)![1];

  const submit = spawnNode(path.join(root, "tools", "cloud", "cli.js"), ["submit", PDF_TESTPAGE, "--printer", id, "--url", emulator], { cwd: root });
  const code = await submit.exited;
  const { stdout, stderr } = submit.output();
  t.is(code, 0, `${stdout}\n${stderr}\n${sim.output().stdout}\n${sim.output().stderr}`);
  t.regex(stdout, new RegExp(`job [0-9a-f-]{36} submitted to printer ${id} as erin@example\\.com \\(application/pdf`));
  t.regex(stdout, /state DONE, 1 page\(s\) printed/);
  t.true(readdirSync(out).some((name) => name.endsWith(".png")), readdirSync(out).join(", "));

  // Without an owner to act as, it says what to give.
  const unknown = spawnNode(path.join(root, "tools", "cloud", "cli.js"), ["submit", PDF_TESTPAGE, "--printer", "no-such-printer", "--url", emulator], { cwd: root });
  t.is(await unknown.exited, 2);
  t.regex(unknown.output().stderr, /--user/);
});

test("a rename on the printer goes to the service in the next /update of the 10 s window, with only the fields that changed", async (t) => {
  const clock = new FakeClock();
  const updates: Array<{ at: number; fields: Array<[string, string]> }> = [];
  let name = "Lobby";
  const api = {
    update: (_id: string, _token: string, fields: Array<[string, string]>): Promise<CloudResult<Json>> => {
      updates.push({ at: clock.now, fields });
      return Promise.resolve({ ok: true, value: { success: true } });
    },
  } as unknown as CloudApi;
  const reports = new CloudReports({
    api, clock, log: () => {}, printerId: () => "p-1", authorized: (fn) => fn("token"),
    semanticState: () => ({ version: "1.0", printer: { state: "IDLE" } }),
    describe: () => [["name", name], ["description", "By the door"]],
  }, undefined, { stateIntervalMs: 10_000, localJobAttempts: 3, localJobRetryMs: 1_000 });
  reports.start();
  await settle();
  const before = updates.length;
  // A report went out just now (the start's), so the rename waits for the window's end, no longer.
  clock.advance(2_000);
  name = "Hall printer";
  reports.stateChanged();
  await settle();
  const sentAt = () => updates.slice(before).find((u) => u.fields.some(([k, v]) => k === "name" && v === "Hall printer"));
  if (!sentAt()) {
    clock.advance(8_000);
    await settle();
  }
  const sent = sentAt();
  t.truthy(sent, JSON.stringify(updates));
  t.true(sent!.at <= 10_000, `sent at ${sent!.at} ms of the fake clock`);
  t.false(sent!.fields.some(([k]) => k === "description"), "the description did not change, so it is not sent again");
  reports.stop();
});
