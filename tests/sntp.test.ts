import test from "ava";
import { decodeReply, encodeReply, encodeRequest, PACKET_BYTES, requestNonce, timestampMs, writeTimestamp } from "../modules/sntp/packet.js";
import { parseServer, SntpClient, type SntpOptions } from "../modules/sntp/client.js";
import { nodeRandom, nodeResolver, settableClock } from "../hosts/node/hal.js";
import { nodeDatagrams } from "../hosts/node/udp.js";
import { answersWith, startSntpServer, type TestSntpServer } from "./helpers/sntp-server.js";

const NOT_BEFORE = Date.UTC(2026, 11, 1);
const SERVER_TIME = Date.UTC(2031, 4, 6, 12, 0, 0);
const nonce = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);

test("a request is 48 bytes, version 4 mode 3, with the nonce as its transmit timestamp", (t) => {
  const request = encodeRequest(nonce);
  t.is(request.length, PACKET_BYTES);
  t.is(request[0], 0x23);
  t.deepEqual([...request.subarray(40)], [1, 2, 3, 4, 5, 6, 7, 8]);
  t.true(request.subarray(1, 40).every((b) => b === 0));
  // An all-zero nonce would look like "no transmit time" to some servers.
  t.true(encodeRequest(new Uint8Array(8)).subarray(40).some((b) => b !== 0));
});

test("timestamps: 1900 epoch, fractions to the millisecond, and the era after 2036 read from a clear top bit", (t) => {
  const bytes = new Uint8Array(8);
  for (const ms of [Date.UTC(1999, 0, 1), SERVER_TIME + 789, Date.UTC(2036, 1, 7, 6, 28, 16), Date.UTC(2040, 0, 1, 0, 0, 0, 250)]) {
    writeTimestamp(bytes, 0, ms);
    t.is(timestampMs(bytes, 0), ms);
  }
  writeTimestamp(bytes, 0, Date.UTC(2040, 0, 1));
  t.is(bytes[0] & 0x80, 0, "2040 has the top bit clear");
});

test("a good reply gives the server's times; every RFC 4330 check refuses its own case", (t) => {
  const good = { originate: nonce, receiveMs: SERVER_TIME, transmitMs: SERVER_TIME + 5 };
  const reply = decodeReply(encodeReply(good), nonce);
  t.deepEqual(reply, { ok: true, stratum: 2, receiveMs: SERVER_TIME, transmitMs: SERVER_TIME + 5 });
  // Extension fields after the 48 bytes are ignored, not parsed.
  t.true(decodeReply(Uint8Array.from([...encodeReply(good), ...new Uint8Array(400).fill(0xff)]), nonce).ok);
  const refusal = (bytes: Uint8Array) => { const r = decodeReply(bytes, nonce); return r.ok ? "ok" : r.refusal; };
  t.is(refusal(encodeReply(good).subarray(0, 47)), "short");
  t.is(refusal(new Uint8Array(0)), "short");
  t.is(refusal(encodeReply({ ...good, mode: 3 })), "mode");
  t.is(refusal(encodeReply({ ...good, mode: 5 })), "mode");
  t.is(refusal(encodeReply({ ...good, version: 0 })), "version");
  t.is(refusal(encodeReply({ ...good, originate: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 9]) })), "originate");
  t.is(refusal(encodeReply({ ...good, stratum: 16 })), "stratum");
  t.is(refusal(encodeReply({ ...good, leap: 3 })), "unsynchronized");
  t.is(refusal(encodeReply({ ...good, transmitMs: 0 })), "zero-time");
  t.deepEqual(decodeReply(encodeReply({ ...good, stratum: 0, referenceId: "RATE" }), nonce), { ok: false, refusal: "kiss", kissCode: "RATE" });
  // A kiss for somebody else's request is not ours to obey.
  t.is(refusal(encodeReply({ ...good, stratum: 0, referenceId: "DENY", originate: new Uint8Array(8) })), "originate");
  // Leap 1 and 2 announce a leap second; the time is still good.
  t.true(decodeReply(encodeReply({ ...good, leap: 1 }), nonce).ok);
});

test("random bytes never throw and are never taken for a time", (t) => {
  let state = 7;
  const next = () => (state = (state * 1103515245 + 12345) >>> 0) >>> 24;
  for (let i = 0; i < 2000; i++) {
    const bytes = Uint8Array.from({ length: next() % 80 }, next);
    t.false(decodeReply(bytes, nonce).ok);
  }
});

test("server names: host, host:port; anything else is refused", (t) => {
  t.deepEqual(parseServer("pool.ntp.org"), { host: "pool.ntp.org", port: 123 });
  t.deepEqual(parseServer("127.0.0.1:10123"), { host: "127.0.0.1", port: 10123 });
  for (const bad of ["", "host:0", "host:70000", "host:x", "a b", "x".repeat(300), "[::1]:123"]) t.is(parseServer(bad), undefined, bad);
});

const QUICK: Partial<SntpOptions> = { attemptTimeoutMs: 150, backoffMs: 40, maxAttempts: 3, retryMs: 60_000, resyncMs: 60_000 };

function client(servers: string[], options: Partial<SntpOptions> = {}, wallMs = 0) {
  const settable = settableClock(wallMs);
  // The waits the client asks for, read from its side: arrival times at the
  // server would also measure how late a loaded machine ran each callback.
  const waits: number[] = [];
  const clock = { ...settable, setTimer: (fn: () => void, ms: number) => { waits.push(ms); return settable.setTimer(fn, ms); } };
  const logs: string[] = [];
  const sntp = new SntpClient({ clock, datagrams: nodeDatagrams(), resolver: nodeResolver, random: nodeRandom, log: (_l, m) => logs.push(m) },
    { servers, notBeforeMs: NOT_BEFORE, ...QUICK, ...options });
  return { clock, sntp, logs, waits };
}

function settled(sntp: SntpClient): Promise<void> {
  return new Promise((resolve) => sntp.onChange(resolve));
}

async function servers(t: any, ...behaviours: Array<Parameters<typeof startSntpServer>[0]>): Promise<TestSntpServer[]> {
  const started = await Promise.all(behaviours.map((b) => startSntpServer(b)));
  t.teardown(() => Promise.all(started.map((s) => s.close())));
  return started;
}

test("the client sets the clock from a server on 127.0.0.1, then is set", async (t) => {
  const [server] = await servers(t, answersWith(() => SERVER_TIME));
  const { clock, sntp } = client([`127.0.0.1:${server.port}`]);
  t.teardown(() => sntp.stop());
  t.is(sntp.state, "setting");
  t.true(clock.wall() < NOT_BEFORE);
  sntp.start();
  await settled(sntp);
  t.is(sntp.state, "set");
  t.is(sntp.setBy, `127.0.0.1:${server.port}`);
  t.true(Math.abs(clock.wall() - SERVER_TIME) < 1000, `${new Date(clock.wall()).toISOString()}`);
  t.is(server.requests.length, 1);
  t.is(server.requests[0].bytes[0], 0x23);
});

test("a server that does not answer is given up after the timeout and the next one sets the clock", async (t) => {
  const [silent, good] = await servers(t, () => undefined, answersWith(() => SERVER_TIME));
  const { clock, sntp, logs } = client([`127.0.0.1:${silent.port}`, `127.0.0.1:${good.port}`]);
  t.teardown(() => sntp.stop());
  const began = Date.now();
  sntp.start();
  await settled(sntp);
  t.is(sntp.state, "set");
  t.is(silent.requests.length, 1);
  t.is(good.requests.length, 1);
  t.true(Date.now() - began >= 150 + 40 - 5, "waited for the timeout and the backoff");
  t.true(Math.abs(clock.wall() - SERVER_TIME) < 1000);
  t.true(logs.some((m) => m.includes("no answer within 150 ms")));
});

test("no answer at all: a bounded round with doubling waits, then a retry later, the clock untouched", async (t) => {
  const [silent] = await servers(t, () => undefined);
  const { clock, sntp, waits } = client([`127.0.0.1:${silent.port}`]);
  t.teardown(() => sntp.stop());
  sntp.start();
  await settled(sntp);
  t.is(sntp.state, "setting");
  t.is(silent.requests.length, 3, "maxAttempts requests, no more");
  // Each attempt waits out its timeout; between attempts the backoff doubles; then the round's retry.
  t.deepEqual(waits, [150, 40, 150, 80, 150, 60_000], `waits ${waits}`);
  t.true(clock.wall() < NOT_BEFORE);
  t.regex(sntp.lastError ?? "", /no answer/);
  await new Promise((r) => setTimeout(r, 300));
  t.is(silent.requests.length, 3, "the next round waits for retryMs");
});

test("garbage, a client-mode echo and an unsynchronized server are refused; the clock stays unset", async (t) => {
  const [garbage, short, echo, unsynced] = await servers(t,
    () => Uint8Array.from({ length: 48 }, (_, i) => (i * 37 + 11) & 0xff),
    () => new Uint8Array(7),
    (request) => request,
    answersWith(() => SERVER_TIME, { leap: 3 }));
  for (const server of [garbage, short, echo, unsynced]) {
    const { clock, sntp } = client([`127.0.0.1:${server.port}`], { maxAttempts: 1 });
    t.teardown(() => sntp.stop());
    sntp.start();
    await settled(sntp);
    t.is(sntp.state, "setting");
    t.true(clock.wall() < NOT_BEFORE);
  }
  // Garbage whose originate does not match is not an answer at all: the request times out.
  t.is(garbage.requests.length, 1);
});

test("a kiss-o'-death DENY is obeyed: that server is never asked again; stratum 0 never sets the clock", async (t) => {
  const [deny, good] = await servers(t, answersWith(() => SERVER_TIME, { stratum: 0, referenceId: "DENY" }), answersWith(() => SERVER_TIME));
  const { clock, sntp, logs } = client([`127.0.0.1:${deny.port}`, `127.0.0.1:${good.port}`], { maxAttempts: 4 });
  t.teardown(() => sntp.stop());
  sntp.start();
  await settled(sntp);
  t.is(sntp.state, "set");
  t.is(sntp.setBy, `127.0.0.1:${good.port}`);
  t.true(logs.some((m) => m.includes("kiss-o'-death (DENY)")));
  t.true(Math.abs(clock.wall() - SERVER_TIME) < 1000);
  // A resync goes to the good server only.
  sntp.start();
  await settled(sntp);
  t.is(deny.requests.length, 1);
  t.is(good.requests.length, 2);
});

test("only kiss-o'-death servers: the client says so and stops asking them", async (t) => {
  const [deny] = await servers(t, answersWith(() => SERVER_TIME, { stratum: 0, referenceId: "RSTR" }));
  const { clock, sntp } = client([`127.0.0.1:${deny.port}`]);
  t.teardown(() => sntp.stop());
  sntp.start();
  await settled(sntp);
  t.is(sntp.state, "setting");
  t.regex(sntp.lastError ?? "", /refused/);
  t.is(deny.requests.length, 1);
  t.true(clock.wall() < NOT_BEFORE);
});

test("a time from before the firmware was built is refused", async (t) => {
  const [past] = await servers(t, answersWith(() => Date.UTC(2001, 8, 9)));
  const { clock, sntp } = client([`127.0.0.1:${past.port}`], { maxAttempts: 2 });
  t.teardown(() => sntp.stop());
  sntp.start();
  await settled(sntp);
  t.is(sntp.state, "setting");
  t.regex(sntp.lastError ?? "", /2001-09-09.*before this firmware was built/);
  t.is(past.requests.length, 2);
  t.true(clock.wall() < NOT_BEFORE);
});

test("a set clock is set again after resyncMs, and a wrong name is a failed attempt, not a crash", async (t) => {
  let now = SERVER_TIME;
  const [server] = await servers(t, answersWith(() => now));
  const { clock, sntp } = client(["no-such-host.invalid", `127.0.0.1:${server.port}`], { resyncMs: 200, maxAttempts: 2 });
  t.teardown(() => sntp.stop());
  sntp.start();
  await settled(sntp);
  t.is(sntp.state, "set");
  now = SERVER_TIME + 3_600_000;
  await settled(sntp);
  t.true(server.requests.length >= 2);
  t.true(Math.abs(clock.wall() - now) < 1000, "moved forward an hour");
});
