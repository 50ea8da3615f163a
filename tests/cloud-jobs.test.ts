import test from "ava";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { MemoryStorage } from "../hosts/node/hal.js";
import { ResponseSource } from "../modules/cloud/document.js";
import type { DocumentConsumer, DocumentSource } from "../modules/print/source.js";
import { call, startRelay, startTestCloud, type TestCloud } from "./helpers/cloud.js";
import { registerPrinter, serviceJob, startCloudPrinter, submitJob, until, type CloudPrinter } from "./helpers/cloud-printer.js";
import { encodeDocument, testPage } from "./helpers/pwg.js";
import { TestEngine } from "./helpers/test-engine.js";

// Cloud jobs end to end: the printer and the emulator (with its XMPP side)
// on 127.0.0.1, a user submitting on the service, the document streamed
// into the test engine through the same print path as a local job, and the
// states the service shows afterwards.

const PDF_TESTPAGE = "/usr/share/cups/data/default-testpage.pdf";
const JOBS = { downloadAttempts: 3, downloadRetryMs: 50 };

interface Setup { cloud: TestCloud; p: CloudPrinter; engine: TestEngine; deviceId: string; user: string; url: string }

async function setup(t: any, options: { url?: (cloud: TestCloud) => Promise<string>; quiet?: boolean } = {}): Promise<Setup> {
  // quiet: the emulator's own failures are what the test provokes.
  const cloud = await startTestCloud({ xmpp: { port: 0 }, ...(options.quiet ? { onError: () => {} } : {}) });
  t.teardown(() => cloud.service.close());
  const url = options.url ? await options.url(cloud) : cloud.service.baseUrl;
  const engine = new TestEngine();
  const p = await startCloudPrinter({
    url, storage: new MemoryStorage(), engine,
    cloud: {
      jobs: JOBS,
      xmpp: { host: "127.0.0.1", port: cloud.service.xmpp!.port, transport: "plain", allowPlainText: true, backoffInitialMs: 100, backoffMaxMs: 400 },
    },
  });
  t.teardown(() => p.stop());
  const r = await registerPrinter(cloud, p);
  await until("the channel is online", () => p.printer.cloud!.connectionState === "online", 10_000);
  return { cloud, p, engine, deviceId: r.deviceId, user: r.userToken, url };
}


async function untilState(s: Setup, id: string, type: string, ms = 15_000): Promise<any> {
  let job: any;
  await until(`cloud job ${type}`, async () => {
    job = await serviceJob(s, id);
    return job?.semanticState?.state?.type === type;
  }, ms);
  return job;
}

function pwgDocument(pages: number, width = 200, height = 300, seed = 1): Uint8Array {
  return encodeDocument(Array.from({ length: pages }, (_, i) => testPage(width, height, "sgray_8", seed + i)));
}

test("a PWG job submitted on the service prints on the engine; the service shows IN_PROGRESS then DONE with pages", async (t) => {
  const s = await setup(t);
  const doc = pwgDocument(2);
  const id = await submitJob(s, "two pages", doc, "image/pwg-raster");
  const done = await untilState(s, id, "DONE");
  t.is(done.semanticState.pages_printed, 2);
  t.is(s.engine.pages.length, 2);
  const page = testPage(200, 300, "sgray_8", 1);
  t.deepEqual(s.engine.pixels(0), page.pixels, "the pixels arrived intact");
  // The same lifecycle as a local job: jobstate-style state and device_state.
  const local = { localId: s.p.printer.jobs.list().find((j) => j.origin === "cloud" && j.serverJobId === id)!.id };
  const record = s.p.printer.jobs.find(local.localId)!;
  t.is(record.state, "done");
  t.is(record.jobName, "two pages");
  t.is(record.pagesPrinted, 2);
  const state = await s.p.privet.call("GET", `/privet/printer/jobstate?job_id=${local.localId}`);
  t.is(state.json.state, "done");
  t.is((await s.p.privet.info()).device_state, "idle");
  t.true(s.p.logs.some((l) => l.includes("push jobs")));
});

test("a PDF (the CUPS test page) is converted by the service to PWG at the CDD's default and prints one page", async (t) => {
  const s = await setup(t);
  const id = await submitJob(s, "testpage.pdf", fs.readFileSync(PDF_TESTPAGE), "application/pdf");
  const done = await untilState(s, id, "DONE", 40_000);
  t.is(done.semanticState.pages_printed, 1);
  t.is(s.engine.pages.length, 1);
  const page = s.engine.pages[0].page;
  t.true(page.width > 1000 && page.height > 1000, JSON.stringify(page));
  // Some ink on the page: not every byte white.
  t.true(s.engine.pixels(0).some((b) => b < 128));
});

test("a full engine holds the download: the spooler pauses the response, and the job finishes once the engine makes room", async (t) => {
  const s = await setup(t);
  let paused = 0;
  const original = ResponseSource.prototype.pause;
  ResponseSource.prototype.pause = function (this: ResponseSource) { paused++; return original.call(this); };
  t.teardown(() => { ResponseSource.prototype.pause = original; });
  s.engine.capacity = 40;
  s.engine.keepRows = false;
  // Noise compresses badly: megabytes on the wire, more than the sockets buffer.
  const doc = pwgDocument(4, 2000, 2000, 7);
  t.true(doc.length > 4_000_000, String(doc.length));
  const id = await submitJob(s, "big", doc, "image/pwg-raster");
  await until("the engine is full", () => s.engine.full, 15_000);
  await untilState(s, id, "IN_PROGRESS");
  const held = s.engine.linesTaken;
  await new Promise((r) => setTimeout(r, 300));
  t.is(s.engine.linesTaken, held, "nothing moves while the engine is full");
  t.true(paused > 0, "the download was paused");
  t.is(s.p.printer.spooler.active?.state, "in_progress");
  const end = Date.now() + 30_000;
  while ((await serviceJob(s, id)).semanticState.state.type !== "DONE" && Date.now() < end) {
    s.engine.release();
    await new Promise((r) => setTimeout(r, 5));
  }
  const done = await serviceJob(s, id);
  t.is(done.semanticState.state.type, "DONE");
  t.is(done.semanticState.pages_printed, 4);
  t.is(s.engine.linesTaken, 4 * 2000);
});

test("a ticket the CDD cannot honour: ABORTED with INVALID_TICKET, nothing printed", async (t) => {
  const s = await setup(t);
  const id = await submitJob(s, "copies", pwgDocument(1), "image/pwg-raster", { version: "1.0", print: { copies: { copies: 5 } } });
  const aborted = await untilState(s, id, "ABORTED");
  t.deepEqual(aborted.semanticState.state.device_action_cause, { error_code: "INVALID_TICKET" });
  t.is(s.engine.jobs.length, 0);
  // The next job is not held up by it.
  const next = await submitJob(s, "after", pwgDocument(1), "image/pwg-raster", { version: "1.0", print: { copies: { copies: 1 } } });
  await untilState(s, next, "DONE");
});

test("the document gone from the service: the download is retried, then the job is ABORTED with DOWNLOAD_FAILURE", async (t) => {
  const s = await setup(t, { quiet: true });
  // Held back so the document can be removed before the printer asks for it.
  s.p.printer.cloud!.jobs!.stop();
  const id = await submitJob(s, "gone", pwgDocument(1), "image/pwg-raster");
  const record = s.cloud.service.store.state.jobs[id];
  s.cloud.service.store.removeDocument(record.document!);
  s.p.printer.cloud!.jobs!.start();
  s.p.printer.cloud!.jobs!.due();
  const aborted = await untilState(s, id, "ABORTED");
  t.deepEqual(aborted.semanticState.state.device_action_cause, { error_code: "DOWNLOAD_FAILURE" });
  t.is(s.p.logs.filter((l) => l.includes(`cloud job ${id}: download failed (`)).length, 2, "two retries after the first try");
  t.is(s.engine.jobs.length, 0);
});

// Forwards to the emulator, its URLs rewritten to point here; a download
// can be cut after some bytes of the body.
async function cuttingProxy(cloud: TestCloud): Promise<{ url: string; cut: { bytes: number | undefined; count: number }; close(): Promise<void> }> {
  const target = cloud.service.url;
  let root = "";
  const cut = { bytes: undefined as number | undefined, count: 0 };
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(req.headers)) if (typeof value === "string" && key !== "host" && key !== "content-length") headers[key] = value;
    let upstream: Response;
    try {
      upstream = await fetch(target + (req.url ?? "/"), { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined });
    } catch {
      return void req.socket.destroy();
    }
    const body = Buffer.from(await upstream.arrayBuffer());
    const type = upstream.headers.get("content-type") ?? "application/json";
    if ((req.url ?? "").includes("/download") && cut.bytes !== undefined && upstream.status === 200) {
      cut.count++;
      res.writeHead(200, { "Content-Type": type, "Content-Length": String(body.length) });
      res.write(body.subarray(0, cut.bytes), () => setTimeout(() => req.socket.destroy(), 20));
      return;
    }
    const out = type.includes("json") ? Buffer.from(body.toString("utf8").split(target).join(root)) : body;
    res.writeHead(upstream.status, { "Content-Type": type, "Content-Length": String(out.length) }).end(out);
  });
  const sockets = new Set<Socket>();
  server.on("connection", (sock) => { sockets.add(sock); sock.on("close", () => sockets.delete(sock)); });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  root = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: `${root}/cloudprint`, cut, close: () => new Promise((resolve) => { server.close(() => resolve()); for (const sock of sockets) sock.destroy(); }) };
}

test("a download cut mid-body: retried while no page came out, then ABORTED with DOWNLOAD_FAILURE", async (t) => {
  let proxy: Awaited<ReturnType<typeof cuttingProxy>> | undefined;
  const s = await setup(t, { url: async (cloud) => { proxy = await cuttingProxy(cloud); return proxy.url; } });
  t.teardown(() => proxy!.close());
  proxy!.cut.bytes = 3000;
  const id = await submitJob(s, "cut", pwgDocument(1, 400, 400, 3), "image/pwg-raster");
  const aborted = await untilState(s, id, "ABORTED");
  t.deepEqual(aborted.semanticState.state.device_action_cause, { error_code: "DOWNLOAD_FAILURE" });
  t.is(proxy!.cut.count, 3, "three tries");
  t.is(s.engine.pagesPrinted, 0);
  // With the connection whole again the next job prints.
  proxy!.cut.bytes = undefined;
  const next = await submitJob(s, "whole", pwgDocument(1), "image/pwg-raster");
  await untilState(s, next, "DONE");
});

// A local job's document delivered by the test, as a Privet body would be.
class HeldSource implements DocumentSource {
  readonly declaredLength: number;
  private consumer: DocumentConsumer | undefined;
  constructor(private readonly doc: Uint8Array) { this.declaredLength = doc.length; }
  readBody(consumer: DocumentConsumer): void { this.consumer = consumer; }
  send(): void { this.consumer!.data(this.doc); this.consumer!.end(); }
  pause(): void {}
  resume(): void {}
}

test("a local job printing when a cloud job arrives: the cloud job waits QUEUED, then prints", async (t) => {
  const s = await setup(t);
  const lifecycle = s.p.printer.lifecycle;
  const local = lifecycle.createQueued();
  const source = new HeldSource(pwgDocument(1));
  s.p.printer.spooler.start(local, source, () => {});
  const id = await submitJob(s, "waits", pwgDocument(1, 200, 300, 9), "image/pwg-raster");
  await until("the push arrived", () => s.p.logs.some((l) => l.includes("push jobs")), 5000);
  await new Promise((r) => setTimeout(r, 300));
  t.is((await serviceJob(s, id)).semanticState.state.type, "QUEUED");
  t.false(s.p.printer.jobs.list().some((j) => j.origin === "cloud"), "no cloud job taken while the local one prints");
  source.send();
  await untilState(s, id, "DONE");
  t.is(local.state, "done");
  t.is(s.engine.jobs.length, 2);
  t.is(s.engine.jobs[0].id, local.id);
});

test("jobs submitted while the printer is off print at the next start", async (t) => {
  const cloud = await startTestCloud({ xmpp: { port: 0 } });
  t.teardown(() => cloud.service.close());
  const storage = new MemoryStorage();
  const config = {
    jobs: JOBS,
    xmpp: { host: "127.0.0.1", port: cloud.service.xmpp!.port, transport: "plain" as const, allowPlainText: true, backoffInitialMs: 100 },
  };
  const first = await startCloudPrinter({ url: cloud.service.baseUrl, storage, engine: new TestEngine(), cloud: config });
  const r = await registerPrinter(cloud, first);
  await first.stop();
  const s = { cloud, p: first, engine: new TestEngine(), deviceId: r.deviceId, user: r.userToken, url: cloud.service.baseUrl };
  const ids = [await submitJob(s, "one", pwgDocument(1), "image/pwg-raster"), await submitJob(s, "two", pwgDocument(2), "image/pwg-raster")];
  const second = await startCloudPrinter({ url: cloud.service.baseUrl, storage, engine: s.engine, cloud: config });
  t.teardown(() => second.stop());
  s.p = second;
  for (const id of ids) await untilState(s, id, "DONE");
  t.is(s.engine.pages.length, 3);
  t.deepEqual(second.printer.jobs.list().filter((j) => j.origin === "cloud").reverse().map((j) => j.serverJobId), ids, "in the order they were submitted");
});

test("without an XMPP channel the printer polls /fetch, so a submitted job still prints", async (t) => {
  const cloud = await startTestCloud();
  t.teardown(() => cloud.service.close());
  const engine = new TestEngine();
  const p = await startCloudPrinter({ url: cloud.service.baseUrl, engine, cloud: { jobs: JOBS, jobsPollMs: 200 } });
  t.teardown(() => p.stop());
  const r = await registerPrinter(cloud, p);
  const s = { cloud, p, engine, deviceId: r.deviceId, user: r.userToken, url: cloud.service.baseUrl };
  const id = await submitJob(s, "polled", pwgDocument(1), "image/pwg-raster");
  const done = await untilState(s, id, "DONE", 10_000);
  t.is(done.semanticState.pages_printed, 1);
  t.is(p.printer.device.connectionState, "online");
});

test("the XMPP connection dropped mid-job: the job finishes, the channel comes back online", async (t) => {
  const cloud = await startTestCloud({ xmpp: { port: 0 } });
  t.teardown(() => cloud.service.close());
  // In front of the emulator's XMPP port, so the test can cut the connection.
  const relay = await startRelay();
  relay.to(cloud.service.xmpp!.port);
  t.teardown(() => relay.close());
  const engine = new TestEngine();
  const p = await startCloudPrinter({
    url: cloud.service.baseUrl, engine,
    cloud: { jobs: JOBS, xmpp: { host: "127.0.0.1", port: relay.port, transport: "plain", allowPlainText: true, backoffInitialMs: 100, backoffMaxMs: 400 } },
  });
  t.teardown(() => p.stop());
  const r = await registerPrinter(cloud, p);
  await until("online", () => p.printer.cloud!.connectionState === "online", 10_000);
  const s = { cloud, p, engine, deviceId: r.deviceId, user: r.userToken, url: cloud.service.baseUrl };
  engine.capacity = 20;
  const id = await submitJob(s, "through a drop", pwgDocument(2, 300, 400, 5), "image/pwg-raster");
  await until("the engine is full", () => engine.full, 10_000);
  relay.cut();
  await until("the channel noticed", () => p.printer.device.connectionState !== "online", 5000);
  const end = Date.now() + 20_000;
  while ((await serviceJob(s, id)).semanticState.state.type !== "DONE" && Date.now() < end) {
    engine.release();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  t.is((await serviceJob(s, id)).semanticState.pages_printed, 2);
  await until("online again", () => p.printer.device.connectionState === "online", 10_000);
  t.is(engine.jobs.length, 1, "printed once");
});
