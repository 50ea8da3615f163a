import test from "ava";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { MemoryStorage } from "../hosts/node/hal.js";
import { call, startRestartableCloud, startTestCloud, type TestCloud } from "./helpers/cloud.js";
import { registerPrinter, serviceJob, startCloudPrinter, submitJob, until, type CloudPrinter } from "./helpers/cloud-printer.js";
import { encodeDocument, testPage } from "./helpers/pwg.js";
import { TestEngine } from "./helpers/test-engine.js";

// Serial: the memory test reads process-wide figures.
// The cloud path over real sockets on 127.0.0.1 when things go wrong: the emulator
// restarted, corrupt documents, a hundred jobs in a row, and an XMPP server
// that turns hostile after the handshake.

const JOBS = { downloadAttempts: 2, downloadRetryMs: 50 };

interface Setup { cloud: TestCloud; p: CloudPrinter; engine: TestEngine; deviceId: string; user: string }

function xmpp(port: number) {
  return { host: "127.0.0.1", port, transport: "plain" as const, allowPlainText: true, backoffInitialMs: 100, backoffMaxMs: 400 };
}

async function setup(t: any, options: { cloud?: TestCloud; xmppPort?: number } = {}): Promise<Setup> {
  const cloud = options.cloud ?? await startTestCloud({ xmpp: { port: 0 }, onError: () => {} });
  if (!options.cloud) t.teardown(() => cloud.service.close());
  const engine = new TestEngine();
  const p = await startCloudPrinter({
    url: cloud.service.baseUrl, storage: new MemoryStorage(), engine,
    cloud: { jobs: JOBS, xmpp: xmpp(options.xmppPort ?? cloud.service.xmpp!.port) },
  });
  t.teardown(() => p.stop());
  const r = await registerPrinter(cloud, p);
  await until("the channel is online", () => p.printer.cloud!.connectionState === "online", 10_000);
  return { cloud, p, engine, deviceId: r.deviceId, user: r.userToken };
}


async function untilFinal(s: Setup, id: string, ms = 15_000): Promise<any> {
  let job: any;
  await until(`cloud job ${id} finished`, async () => {
    job = await serviceJob(s, id);
    const type = job?.semanticState?.state?.type;
    return type === "DONE" || type === "ABORTED";
  }, ms);
  return job;
}

function pwg(pages = 1, width = 64, height = 64, seed = 1): Uint8Array {
  return encodeDocument(Array.from({ length: pages }, (_, i) => testPage(width, height, "sgray_8", seed + i)));
}

test.serial("the emulator restarted on the same port and state: the channel goes offline, comes back online, and a job submitted after the restart prints", async (t) => {
  const cloud = await startRestartableCloud(t);
  const s = await setup(t, { cloud: cloud.current });
  const before = await submitJob(s, "before", pwg(1));
  t.is((await untilFinal(s, before)).semanticState.state.type, "DONE");
  await cloud.stop();
  await until("offline", () => s.p.printer.cloud!.connectionState !== "online", 10_000);
  t.not((await s.p.privet.info()).connection_state, "online");
  s.cloud = await cloud.start();
  await until("online again", () => s.p.printer.cloud!.connectionState === "online", 15_000);
  t.is((await s.p.privet.info()).connection_state, "online");
  const after = await submitJob(s, "after the restart", pwg(2, 64, 64, 5));
  const done = await untilFinal(s, after);
  t.is(done.semanticState.state.type, "DONE");
  t.is(done.semanticState.pages_printed, 2);
  t.is(s.engine.jobs.length, 2, "each job printed once");
  // The job from before the restart is still DONE in the restarted service, not printed again.
  t.is((await serviceJob(s, before)).semanticState.state.type, "DONE");
});

test.serial("a PWG document with a broken header: ABORTED with PRINT_FAILURE and the cause logged; the next job prints", async (t) => {
  const s = await setup(t);
  const doc = pwg(1);
  const broken = Uint8Array.from(doc);
  // Keep the sync word, wreck the page header: BitsPerPixel 13, Width 0.
  const view = new DataView(broken.buffer);
  view.setUint32(4 + 388, 13);
  view.setUint32(4 + 372, 0);
  const id = await submitJob(s, "broken header", broken);
  const aborted = await untilFinal(s, id);
  t.is(aborted.semanticState.state.type, "ABORTED");
  t.deepEqual(aborted.semanticState.state.device_action_cause, { error_code: "PRINT_FAILURE" });
  t.is(s.engine.pagesPrinted, 0);
  const local = { localId: s.p.printer.jobs.list().find((j) => j.origin === "cloud" && j.serverJobId === id)!.id };
  const record = s.p.printer.jobs.find(local.localId)!;
  t.is(record.state, "aborted");
  t.truthy(record.description, "the local job says why");
  t.true(s.p.logs.some((l) => l.includes(`cloud job ${id}:`) && !l.includes("printing as")), s.p.logs.join("\n"));
  // Garbage that is not PWG at all.
  const garbage = await submitJob(s, "garbage", new TextEncoder().encode("this is not a raster at all ".repeat(20)));
  t.is((await untilFinal(s, garbage)).semanticState.state.type, "ABORTED");
  const next = await submitJob(s, "next", pwg(1, 64, 64, 3));
  const done = await untilFinal(s, next);
  t.is(done.semanticState.state.type, "DONE");
  t.is(done.semanticState.pages_printed, 1);
  t.is((await s.p.privet.info()).device_state, "idle");
});

test.serial("a PDF the emulator cannot convert: ABORTED and reported with a cause; the printer prints the next job", async (t) => {
  const s = await setup(t);
  const pdf = new TextEncoder().encode("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\nthis is no PDF\n%%EOF\n");
  const id = await submitJob(s, "corrupt.pdf", pdf, "application/pdf");
  const aborted = await untilFinal(s, id, 40_000);
  t.is(aborted.semanticState.state.type, "ABORTED");
  // The emulator answers the download with 415; the printer does not retry that and reports it.
  t.deepEqual(aborted.semanticState.state.device_action_cause, { error_code: "DOWNLOAD_FAILURE" }, JSON.stringify(aborted.semanticState));
  t.true(s.p.logs.some((l) => l.includes(`cloud job ${id}: download failed`) && l.includes("415")), s.p.logs.join("\n"));
  t.log(`reported: ${JSON.stringify(aborted.semanticState.state)}; printer: ${s.p.logs.filter((l) => l.includes(`cloud job ${id}:`)).join(" | ")}`);
  t.is(s.engine.pagesPrinted, 0);
  t.true(s.p.logs.some((l) => l.includes(`cloud job ${id}:`)), s.p.logs.join("\n"));
  const next = await submitJob(s, "next", pwg(1));
  t.is((await untilFinal(s, next)).semanticState.state.type, "DONE");
});

function counts(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of process.getActiveResourcesInfo()) out[name] = (out[name] ?? 0) + 1;
  return out;
}

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with --expose-gc");
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

test.serial("a hundred jobs in a row: all DONE, the heap does not grow with them, nor do timers or sockets", async (t) => {
  const s = await setup(t);
  s.engine.keepRows = false;
  const doc = pwg(1, 64, 32);
  // Warm up: first-time allocations are not growth.
  for (let i = 0; i < 10; i++) t.is((await untilFinal(s, await submitJob(s, `warm ${i}`, doc))).semanticState.state.type, "DONE");
  await new Promise((r) => setTimeout(r, 200));
  const heapBefore = heapAfterGc();
  const resourcesBefore = counts();
  const ids: string[] = [];
  for (let i = 0; i < 100; i++) {
    const id = await submitJob(s, `job ${i}`, doc);
    ids.push(id);
    const job = await untilFinal(s, id);
    if (job.semanticState.state.type !== "DONE") t.fail(`job ${i}: ${JSON.stringify(job.semanticState)}`);
  }
  await new Promise((r) => setTimeout(r, 200));
  const heapAfter = heapAfterGc();
  const resourcesAfter = counts();
  const all = (await call(s.cloud.service, "jobs", { printerid: s.deviceId }, { token: s.user })).json.jobs;
  t.is(all.filter((j: any) => ids.includes(j.id) && j.semanticState.state.type === "DONE").length, 100);
  t.is(s.engine.jobs.length, 110);
  const growth = heapAfter - heapBefore;
  t.log(`heapUsed ${(heapBefore / 1e6).toFixed(2)} MB -> ${(heapAfter / 1e6).toFixed(2)} MB over 100 jobs (${(growth / 1e6).toFixed(2)} MB, emulator included)`);
  t.log(`resources before ${JSON.stringify(resourcesBefore)} after ${JSON.stringify(resourcesAfter)}`);
  t.true(growth < 4_000_000, `heap grew ${growth} bytes`);
  for (const kind of ["Timeout", "TCPSocketWrap", "TCPServerWrap"]) {
    t.true((resourcesAfter[kind] ?? 0) <= (resourcesBefore[kind] ?? 0) + 3, `${kind}: ${resourcesBefore[kind]} -> ${resourcesAfter[kind]}`);
  }
  // The lifecycle's listeners: one per job in hand, none left behind.
  const listeners = (s.p.printer.lifecycle as unknown as { listeners?: unknown[] }).listeners;
  if (Array.isArray(listeners)) t.true(listeners.length < 10, `${listeners.length} lifecycle listeners`);
});

// A TCP relay in front of the emulator's XMPP port: everything passes until
// the test makes it hostile, then it writes its own bytes to the printer.
async function hostileRelay(port: number): Promise<{ port: number; connections: number; inject(data: string): void; close(): Promise<void> }> {
  const clients = new Set<net.Socket>();
  const sockets = new Set<net.Socket>();
  const relay = {
    port: 0, connections: 0,
    inject(data: string) {
      for (const client of clients) {
        client.unpipe?.();
        client.write(data);
      }
    },
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); for (const sock of sockets) sock.destroy(); }),
  };
  const server = net.createServer((client) => {
    relay.connections++;
    const upstream = net.connect(port, "127.0.0.1");
    clients.add(client);
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream);
    upstream.on("data", (chunk) => { if (clients.has(client)) client.write(chunk); });
    const end = () => { client.destroy(); upstream.destroy(); clients.delete(client); sockets.delete(client); sockets.delete(upstream); };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  relay.port = (server.address() as AddressInfo).port;
  return relay;
}

const HOSTILE: Array<[string, string]> = [
  ["a billion-laughs DOCTYPE", `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><message>&lol3;</message>`],
  ["an enormous tag name", `<${"a".repeat(200_000)}>`],
  ["an endless attribute value", `<message to="${"x".repeat(300_000)}`],
  ["binary garbage", String.fromCharCode(...Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256))],
  ["an unclosed nest ten thousand deep", "<a>".repeat(10_000)],
  ["a stray close tag", "</stream:stream></iq></message>"],
];

test.serial("an XMPP server turning hostile after the handshake: each attack ends the session cleanly, the channel reconnects, /privet/info keeps answering", async (t) => {
  const cloud = await startTestCloud({ xmpp: { port: 0 }, onError: () => {} });
  t.teardown(() => cloud.service.close());
  const relay = await hostileRelay(cloud.service.xmpp!.port);
  t.teardown(() => relay.close());
  const s = await setup(t, { cloud, xmppPort: relay.port });
  const heapBefore = heapAfterGc();
  for (const [what, data] of HOSTILE) {
    const connections = relay.connections;
    const logged = s.p.logs.length;
    relay.inject(data);
    await until(`${what}: the channel drops the session`, () => s.p.printer.cloud!.connectionState !== "online" || relay.connections > connections, 10_000);
    const info = await s.p.privet.info();
    t.truthy(info?.id, `${what}: /privet/info answers`);
    await until(`${what}: the channel reconnects`, () => relay.connections > connections && s.p.printer.cloud!.connectionState === "online", 15_000);
    const said = s.p.logs.slice(logged).filter((l) => l.includes("xmpp:"));
    t.true(said.some((l) => l.startsWith("warn") || l.includes("closed") || l.includes("reconnecting")), `${what}: ${said.join(" | ")}`);
    t.log(`${what}: ${said.filter((l) => !l.includes("online as")).join(" | ").slice(0, 200)}`);
  }
  t.true(heapAfterGc() - heapBefore < 8_000_000, "nothing hostile was buffered whole");
  // And it still prints what the service sends.
  const id = await submitJob({ ...s, cloud }, "after the attacks", pwg(1));
  t.is((await untilFinal(s, id)).semanticState.state.type, "DONE");
});
