import test, { runAll as runRegistered } from "./harness.js";
import { decodeReply, encodeReply, encodeRequest, timestampMs, writeTimestamp } from "../../modules/sntp/packet.js";
import { SntpClient } from "../../modules/sntp/client.js";
import type { Datagrams, UdpEndpoint } from "../../modules/hal/udp.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { SeededRandom } from "../helpers/seeded-random.js";

// The SNTP codec and client inside XS: the packet is read with typed arrays
// and arithmetic only, and the client's rounds, timeouts and backoff run on
// the HAL's clock and UDP, here fakes driven by the test. As in the other
// promise-based XS tests, scenarios run first and the registered tests check
// what they recorded.

const NOT_BEFORE = Date.UTC(2026, 11, 1);
const SERVER_TIME = Date.UTC(2031, 4, 6, 12, 0, 0);
const nonce = Uint8Array.from([9, 8, 7, 6, 5, 4, 3, 2]);

class SettableClock extends FakeClock {
  sets: number[] = [];
  constructor() {
    super();
    this.wallOffset = 0;
  }
  set(ms: number): void {
    this.sets.push(ms);
    this.wallOffset = ms - this.now;
  }
}

type Behaviour = (request: Uint8Array) => Uint8Array | undefined;

// Servers at 10.0.0.N:123 answering after 20 ms of network each way.
function network(clock: FakeClock, behaviours: Record<string, Behaviour>) {
  const sent: Array<{ at: number; to: string }> = [];
  const datagrams: Datagrams = {
    open(_options, onMessage) {
      let open = true;
      return Promise.resolve({
        port: 40000,
        send(bytes: Uint8Array, to: UdpEndpoint) {
          sent.push({ at: clock.now, to: to.address });
          const behaviour = behaviours[to.address];
          const request = Uint8Array.from(bytes);
          clock.setTimer(() => {
            const answer = behaviour?.(request);
            if (answer) clock.setTimer(() => { if (open) onMessage(answer, to); }, 20);
          }, 20);
        },
        close() { open = false; },
      });
    },
  };
  return { sent, datagrams };
}

const answers = (timeMs: number, extra: { stratum?: number; referenceId?: string } = {}): Behaviour =>
  (request) => encodeReply({ ...extra, originate: request.subarray(40, 48), receiveMs: timeMs, transmitMs: timeMs });

function client(clock: SettableClock, datagrams: Datagrams, servers: string[]) {
  return new SntpClient({
    clock, datagrams, random: new SeededRandom(5), log: () => {},
    resolver: { resolve: (name: string) => Promise.resolve([name]) },
  }, { servers, notBeforeMs: NOT_BEFORE, attemptTimeoutMs: 500, backoffMs: 1000, maxAttempts: 3, retryMs: 30_000, resyncMs: 3_600_000 });
}

// Moves the fake clock in 10 ms steps, letting promise jobs run between them.
async function run(clock: FakeClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 10) {
    clock.advance(10);
    for (let i = 0; i < 6; i++) await Promise.resolve();
  }
}

const results: Record<string, unknown> = {};

async function goodServer(): Promise<void> {
  const clock = new SettableClock();
  const { sent, datagrams } = network(clock, { "10.0.0.1": answers(SERVER_TIME) });
  const sntp = client(clock, datagrams, ["10.0.0.1"]);
  sntp.start();
  await run(clock, 200);
  results.good = { state: sntp.state, sent: sent.length, offBy: clock.sets[0] - SERVER_TIME };
  sntp.stop();
}

async function silentThenGood(): Promise<void> {
  const clock = new SettableClock();
  const { sent, datagrams } = network(clock, { "10.0.0.2": answers(SERVER_TIME) });
  const sntp = client(clock, datagrams, ["10.0.0.1", "10.0.0.2"]);
  sntp.start();
  await run(clock, 3000);
  results.failover = { state: sntp.state, sent: sent.map((s) => s.to), times: sent.map((s) => s.at) };
  sntp.stop();
}

async function silentOnly(): Promise<void> {
  const clock = new SettableClock();
  const { sent, datagrams } = network(clock, {});
  const sntp = client(clock, datagrams, ["10.0.0.1"]);
  sntp.start();
  await run(clock, 10_000);
  results.silent = { state: sntp.state, times: sent.map((s) => s.at), sets: clock.sets.length };
  await run(clock, 30_000);
  results.silentLater = sent.length;
  sntp.stop();
}

async function kissAndPast(): Promise<void> {
  const clock = new SettableClock();
  const { sent, datagrams } = network(clock, {
    "10.0.0.1": answers(SERVER_TIME, { stratum: 0, referenceId: "DENY" }),
    "10.0.0.2": answers(Date.UTC(2001, 0, 1)),
  });
  const sntp = client(clock, datagrams, ["10.0.0.1", "10.0.0.2"]);
  sntp.start();
  await run(clock, 10_000);
  results.kissAndPast = { state: sntp.state, sent: sent.map((s) => s.to), sets: clock.sets.length, error: sntp.lastError };
  sntp.stop();
}

test("codec in XS: a request, a good reply, and each refusal", (t) => {
  const request = encodeRequest(nonce);
  t.is(request.length, 48);
  t.is(request[0], 0x23);
  const good = { originate: nonce, receiveMs: SERVER_TIME, transmitMs: SERVER_TIME + 250 };
  t.deepEqual(decodeReply(encodeReply(good), nonce), { ok: true, stratum: 2, receiveMs: SERVER_TIME, transmitMs: SERVER_TIME + 250 });
  const refusal = (bytes: Uint8Array) => { const r = decodeReply(bytes, nonce); return r.ok ? "ok" : r.refusal; };
  t.is(refusal(encodeReply(good).subarray(0, 40)), "short");
  t.is(refusal(encodeReply({ ...good, mode: 3 })), "mode");
  t.is(refusal(encodeReply({ ...good, originate: new Uint8Array(8) })), "originate");
  t.is(refusal(encodeReply({ ...good, stratum: 16 })), "stratum");
  t.is(refusal(encodeReply({ ...good, transmitMs: 0 })), "zero-time");
  t.is(refusal(encodeReply({ ...good, leap: 3 })), "unsynchronized");
  t.deepEqual(decodeReply(encodeReply({ ...good, stratum: 0, referenceId: "RATE" }), nonce), { ok: false, refusal: "kiss", kissCode: "RATE" });
  const bytes = new Uint8Array(8);
  writeTimestamp(bytes, 0, Date.UTC(2040, 0, 1, 0, 0, 0, 999));
  t.is(timestampMs(bytes, 0), Date.UTC(2040, 0, 1, 0, 0, 0, 999));
});

test("client in XS: one request, the clock set to the server's time plus half the round trip", (t) => {
  t.deepEqual(results.good, { state: "set", sent: 1, offBy: 20 });
});

test("client in XS: a silent server times out, the backoff waits, the next server sets the clock", (t) => {
  const r = results.failover as { state: string; sent: string[]; times: number[] };
  t.is(r.state, "set");
  t.deepEqual(r.sent, ["10.0.0.1", "10.0.0.2"]);
  t.is(r.times[1] - r.times[0], 500 + 1000);
});

test("client in XS: a round is three requests with doubling waits, then one more round after retryMs", (t) => {
  const r = results.silent as { state: string; times: number[]; sets: number };
  t.is(r.state, "setting");
  t.is(r.sets, 0);
  t.deepEqual(r.times.map((at, i) => (i === 0 ? 0 : at - r.times[i - 1])), [0, 1500, 2500]);
  t.is(results.silentLater, 6, "one more round of three after retryMs");
});

test("client in XS: a DENY server is asked once, a time from 2001 is refused, the clock is never set", (t) => {
  const r = results.kissAndPast as { state: string; sent: string[]; sets: number; error: string };
  t.is(r.state, "setting");
  t.is(r.sets, 0);
  t.deepEqual(r.sent, ["10.0.0.1", "10.0.0.2", "10.0.0.2"]);
  t.true(/before this firmware was built/.test(r.error), r.error);
});

async function stuckAfter(turns: number): Promise<never> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
  throw new Error(`still pending after ${turns} promise turns`);
}

export function runAll(): void {
  const scenarios = [goodServer, silentThenGood, silentOnly, kissAndPast];
  let chain = Promise.resolve();
  for (const scenario of scenarios) {
    chain = chain.then(() => Promise.race([scenario(), stuckAfter(100_000)])).catch((error) => { results[`${scenario.name} failed`] = String(error); });
  }
  chain.then(() => {
    test("every SNTP scenario ran to its end", (t) => {
      t.deepEqual(Object.keys(results).filter((k) => k.endsWith("failed")).map((k) => `${k}: ${results[k]}`), []);
    });
    runRegistered();
  });
}
