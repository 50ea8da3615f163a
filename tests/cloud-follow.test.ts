import test from "ava";
import { MemoryStorage } from "../hosts/node/hal.js";
import { GroupTag, Operation, attr, keyword } from "../modules/ipp-codec/values.js";
import { call, startTestCloud, type TestCloud } from "./helpers/cloud.js";
import { registerPrinter, serviceJob, startCloudPrinter, submitJob, until, type CloudPrinter } from "./helpers/cloud-printer.js";
import { ippRequest, send, values } from "./helpers/ipp.js";
import { rawRequest } from "./helpers/client.js";
import { encodeDocument, testPage } from "./helpers/pwg.js";
import { TestEngine } from "./helpers/test-engine.js";

// What the printer follows of the service beside new jobs: a job taken back
// by its owner while it prints, and what the printer tells the service of
// itself (names, settings, its local jobs' ids).

interface Setup { cloud: TestCloud; p: CloudPrinter; engine: TestEngine; deviceId: string; user: string }

async function setup(t: any, reportsMs?: number): Promise<Setup> {
  const cloud = await startTestCloud({ xmpp: { port: 0 } });
  t.teardown(() => cloud.service.close());
  const engine = new TestEngine();
  const p = await startCloudPrinter({
    url: cloud.service.baseUrl, storage: new MemoryStorage(), engine,
    cloud: {
      jobs: { downloadAttempts: 3, downloadRetryMs: 50 },
      ...(reportsMs === undefined ? {} : { reports: { stateIntervalMs: reportsMs } }),
      xmpp: { host: "127.0.0.1", port: cloud.service.xmpp!.port, transport: "plain", allowPlainText: true, backoffInitialMs: 100, backoffMaxMs: 400 },
    },
  });
  t.teardown(() => p.stop());
  const r = await registerPrinter(cloud, p);
  await until("the channel is online", () => p.printer.cloud!.connectionState === "online", 10_000);
  return { cloud, p, engine, deviceId: r.deviceId, user: r.userToken };
}

// A job that stays in the printer's hands: the engine takes 40 lines and is
// then full until the test releases it, and the document is bigger than the
// sockets buffer, so the spooler is mid-document.
async function printingJob(s: Setup, title: string): Promise<{ id: string; localId: string }> {
  s.engine.capacity = 40;
  s.engine.keepRows = false;
  const doc = encodeDocument(Array.from({ length: 3 }, (_, i) => testPage(2000, 2000, "sgray_8", 7 + i)));
  const id = await submitJob(s, title, doc, "image/pwg-raster");
  await until("the engine is full", () => s.engine.full, 15_000);
  await until("IN_PROGRESS at the service", async () => (await serviceJob(s, id))?.semanticState.state.type === "IN_PROGRESS", 15_000);
  const localId = s.p.printer.jobs.list().find((j) => j.origin === "cloud" && j.serverJobId === id)!.id;
  return { id, localId };
}

async function expectCancelled(t: any, s: Setup, localId: string, title: string): Promise<void> {
  const held = s.engine.linesTaken;
  await until("the job is aborted here", () => s.p.printer.jobs.find(localId)?.state === "aborted", 5000);
  // Stopped where it stood: not one more band went to the engine, which let go of the job as for any abort.
  t.is(s.engine.linesTaken, held);
  t.true(s.engine.jobs.at(-1)!.aborted);
  await until("the spooler is free", () => s.p.printer.spooler.active === undefined, 5000);
  const state = await s.p.privet.call("GET", `/privet/printer/jobstate?job_id=${localId}`);
  t.is(state.json.state, "aborted");
  t.deepEqual(state.json.semantic_state.state, { type: "ABORTED", user_action_cause: { action_code: "CANCELLED" } });
  t.regex(state.json.description, /cloud print service/);
  const jobs = await send(s.p.port, ippRequest(Operation.getJobs, s.p.port, [attr("which-jobs", keyword("completed")), attr("requested-attributes", keyword("job-name"), keyword("job-state"), keyword("job-state-reasons"))]));
  const index = jobs.groups.filter((g) => g.tag === GroupTag.job).findIndex((_, i) => values(jobs, GroupTag.job, "job-name", i)[0] === title);
  t.true(index >= 0);
  t.deepEqual(values(jobs, GroupTag.job, "job-state", index), [7]);
  t.deepEqual(values(jobs, GroupTag.job, "job-state-reasons", index), ["job-canceled-by-user"]);
  const page = await (await fetch(`http://127.0.0.1:${s.p.port}/`)).text();
  t.regex(page, /canceled at the cloud print service/);
  t.true(s.p.logs.some((l) => l.includes("no longer has it")));
}

test("a cloud job its owner deletes while it prints is learned by push and aborted between two bands", async (t) => {
  const s = await setup(t);
  const { id, localId } = await printingJob(s, "deleted while printing");
  const pushesBefore = s.cloud.pushes.length;
  const deleted = await call(s.cloud.service, "deletejob", { jobid: id }, { token: s.user });
  t.true(deleted.json.success, deleted.text);
  await expectCancelled(t, s, localId, "deleted while printing");
  t.true(s.cloud.pushes.slice(pushesBefore).some((push) => push.payload === s.deviceId));
  t.is(await serviceJob(s, id), undefined);
});

test("a cloud job the user aborts with /control is aborted here, and the service keeps the user's cause", async (t) => {
  const s = await setup(t);
  const { id, localId } = await printingJob(s, "aborted by the user");
  const diff = { state: { type: "ABORTED", user_action_cause: { action_code: "CANCELLED" } } };
  const aborted = await call(s.cloud.service, "control", { jobid: id, semantic_state_diff: JSON.stringify(diff) }, { token: s.user });
  t.true(aborted.json.success, aborted.text);
  await expectCancelled(t, s, localId, "aborted by the user");
  const job = await serviceJob(s, id);
  t.deepEqual(job.semanticState.state, diff.state);
});

test("a rename and a settings change on the printer's page reach the service with /update within the 10 s window", async (t) => {
  const s = await setup(t);
  const base = `http://127.0.0.1:${s.p.port}`;
  const form = await (await fetch(`${base}/settings`)).text();
  const csrf = /name="csrf" value="([0-9a-f]+)"/.exec(form)![1];
  const saved = await fetch(`${base}/settings`, {
    method: "POST", redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: base },
    // local_printing unticked: printer/local_printing_enabled goes false.
    body: new URLSearchParams({ csrf, name: "Hall printer", description: "By the stairs", local_discovery: "1" }).toString(),
  });
  t.true(saved.status < 400, String(saved.status));
  let printer: any;
  await until("the service shows the new name, description and settings", async () => {
    printer = (await call(s.cloud.service, "printer", { printerid: s.deviceId }, { token: s.user })).json.printers[0];
    return printer.name === "Hall printer" && printer.description === "By the stairs" && printer.local_settings.current["printer/local_printing_enabled"] === false;
  }, 30_000);
  t.is(printer.local_settings.pending, undefined);
  t.true(printer.local_settings.current.local_discovery);
});

test("a local job shows the id the service gave its report in jobstate (server_job_id)", async (t) => {
  const s = await setup(t);
  const body = encodeDocument([testPage(64, 80, "sgray_8", 1)]);
  const info = await s.p.privet.info();
  const head = `POST /privet/printer/submitdoc?job_name=local%20one HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Privet-Token: ${info["x-privet-token"]}\r\n` +
    `Content-Type: image/pwg-raster\r\nContent-Length: ${body.length}\r\n\r\n`;
  const submitted = JSON.parse((await rawRequest(s.p.port, Buffer.concat([Buffer.from(head), Buffer.from(body)]), 15_000)).body);
  t.truthy(submitted.job_id, JSON.stringify(submitted));
  let state: any;
  await until("jobstate carries the service's id", async () => {
    state = (await s.p.privet.call("GET", `/privet/printer/jobstate?job_id=${submitted.job_id}`)).json;
    return state.server_job_id !== undefined;
  }, 10_000);
  const jobs = (await call(s.cloud.service, "jobs", { printerid: s.deviceId, q: "local one" }, { token: s.user })).json.jobs;
  t.is(jobs.length, 1);
  t.is(state.server_job_id, jobs[0].id);
  t.is(jobs[0].semanticState.state.type, "DONE");
});

test("a cloud job shows its cloud id in jobstate too", async (t) => {
  const s = await setup(t);
  const id = await submitJob(s, "from the cloud", encodeDocument([testPage(64, 80, "sgray_8", 3)]), "image/pwg-raster");
  await until("done at the service", async () => (await serviceJob(s, id))?.semanticState.state.type === "DONE", 15_000);
  const localId = s.p.printer.jobs.list().find((j) => j.origin === "cloud" && j.serverJobId === id)!.id;
  const state = (await s.p.privet.call("GET", `/privet/printer/jobstate?job_id=${localId}`)).json;
  t.is(state.server_job_id, id);
});
