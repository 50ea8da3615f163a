import test from "ava";
import * as net from "node:net";
import { MemoryStorage, nodeClock, nodeTcp } from "../hosts/node/hal.js";
import type { Clock, TimerId } from "../modules/hal/clock.js";
import type { Tcp, TcpConnection } from "../modules/hal/tcp.js";
import { closeAfter, get, rawRequest } from "./helpers/client.js";
import { startTestCloud } from "./helpers/cloud.js";
import { registerPrinter, serviceJob, startCloudPrinter, submitJob, until } from "./helpers/cloud-printer.js";
import { encodeDocument, testPage } from "./helpers/pwg.js";
import { TestEngine } from "./helpers/test-engine.js";

// A request, a job or a report must give back every socket and timer it took
// when it ends, whoever closes first. The mcsim test checks the board's HAL
// with the SDK's instruments; this is the same mix on the Node host, counted
// at the HAL seam: sockets whose handle has not closed, and timers set and
// neither fired nor cleared. Only the printer's are counted, not the test's
// clients or the emulator's pooled connections.

function countedTcp(): { tcp: Tcp; open: () => number } {
  const open = new Set<net.Socket>();
  const track = (connection: TcpConnection) => {
    // The handle itself, not what the HAL last reported: a socket the HAL
    // forgot but never destroyed is exactly what must not happen.
    const socket = (connection as unknown as { socket: net.Socket }).socket;
    if (socket.destroyed) return;
    open.add(socket);
    socket.once("close", () => open.delete(socket));
  };
  const tcp: Tcp = {
    listen: (options, onConnection) => nodeTcp.listen(options, (connection) => {
      track(connection);
      onConnection(connection);
    }),
    connect: async (options) => {
      const connection = await nodeTcp.connect(options);
      track(connection);
      return connection;
    },
  };
  return { tcp, open: () => open.size };
}

function countedClock(): { clock: Clock; live: () => number } {
  const live = new Set<TimerId>();
  const clock: Clock = {
    ...nodeClock,
    setTimer(callback, delayMs) {
      const id = nodeClock.setTimer(() => {
        live.delete(id);
        callback();
      }, delayMs);
      live.add(id);
      return id;
    },
    clearTimer(id) {
      live.delete(id);
      nodeClock.clearTimer(id);
    },
  };
  return { clock, live: () => live.size };
}

test("a mix of requests, local and cloud jobs and their reports: the printer's open sockets and live timers do not grow with it", async (t) => {
  t.timeout(120_000);
  const cloud = await startTestCloud({ xmpp: { port: 0 }, onError: () => {} });
  t.teardown(() => cloud.service.close());
  const sockets = countedTcp();
  const timers = countedClock();
  const p = await startCloudPrinter({
    url: cloud.service.baseUrl, storage: new MemoryStorage(), engine: new TestEngine(), tcp: sockets.tcp, clock: timers.clock,
    cloud: { jobs: { downloadAttempts: 2, downloadRetryMs: 50 }, xmpp: { host: "127.0.0.1", port: cloud.service.xmpp!.port, transport: "plain", allowPlainText: true } },
  });
  t.teardown(() => p.stop());
  const registered = await registerPrinter(cloud, p);
  await until("the channel is online", () => p.printer.cloud!.connectionState === "online", 10_000);
  const at = { cloud, deviceId: registered.deviceId, user: registered.userToken };
  const token = (await p.privet.info())["x-privet-token"];
  const doc = (seed: number) => encodeDocument([testPage(120, 30, "sgray_8", seed), testPage(120, 30, "srgb_8", seed + 1)]);

  const round = async (n: number) => {
    t.is((await get(p.port, "/privet/info", { "X-Privet-Token": "\"\"" })).status, 200);
    t.regex(await closeAfter(p.port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"), /^HTTP\/1\.1 200/);
    t.is((await get(p.port, "/privet/info")).status, 400);
    await closeAfter(p.port, "", 100);
    await closeAfter(p.port, "GET /privet/info HTTP/1.1\r\nX-Priv", 100);
    const body = doc(100 + n * 2);
    const local = JSON.parse((await rawRequest(p.port, Buffer.concat([Buffer.from(`POST /privet/printer/submitdoc?job_name=mix${n} HTTP/1.1\r\nX-Privet-Token: ${token}\r\nContent-Type: image/pwg-raster\r\nContent-Length: ${body.length}\r\n\r\n`), body]), 30_000)).body);
    t.truthy(local.job_id, JSON.stringify(local));
    await until(`local job ${local.job_id} reported`, () => p.logs.some((l) => l.includes(`local job ${local.job_id} reported as`)), 15_000);
    const id = await submitJob(at, `mix ${n}`, doc(200 + n * 2));
    await until(`cloud job ${id} done`, async () => (await serviceJob(at, id))?.semanticState?.state?.type === "DONE", 15_000);
  };
  // Idle: the same counts for half a second (a peer's close lands a turn later).
  const settled = async (what: string) => {
    let last = "", same = 0;
    for (let i = 0; i < 100 && same < 5; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const now = `${sockets.open()}/${timers.live()}`;
      same = now === last ? same + 1 : 0;
      last = now;
    }
    const reading = { sockets: sockets.open(), timers: timers.live() };
    t.log(`${what}: ${reading.sockets} open socket(s), ${reading.timers} live timer(s)`);
    return reading;
  };

  const ROUNDS = 3;  // 7 requests or jobs a round
  const before = await settled("registered, idle");
  await round(0);
  const once = await settled("after one round of the mix (7 requests and jobs)");
  for (let n = 1; n < ROUNDS; n++) await round(n);
  const after = await settled(`after ${ROUNDS} rounds (${ROUNDS * 7} requests and jobs)`);
  t.deepEqual(after, once);
  t.true(once.sockets <= before.sockets, `one round left ${once.sockets - before.sockets} socket(s) open`);
});
