import test from "ava";
import {
  FLAG_RESPONSE, TYPE_A, TYPE_ANY, TYPE_PTR, TYPE_SRV, TYPE_TXT, decodeMessage, encodeMessage, type Message, type Question, type ResourceRecord,
} from "../modules/dns/message.js";
import { MdnsResponder, TTL_OTHER, nextInstanceName } from "../modules/dns/responder.js";
import { FakeClock } from "./helpers/fake-clock.js";
import { FakeNetwork, type Delivery } from "./helpers/fake-udp.js";
import { SeededRandom } from "./helpers/seeded-random.js";

const SERVICE = ["_privet", "_tcp", "local"];
const SUBTYPE = ["_printer", "_sub", "_privet", "_tcp", "local"];
const text = (b: Uint8Array) => Buffer.from(b).toString();

function world(seed = 1) {
  const clock = new FakeClock();
  const network = new FakeNetwork(clock);
  return { clock, network, random: new SeededRandom(seed) };
}

async function responder(w: ReturnType<typeof world>, address: string, name = "Printer", txt: Array<[string, string]> = [["txtvers", "1"], ["ty", name], ["url", ""], ["type", "printer"], ["id", ""], ["cs", "not-configured"]]) {
  const state = { txt };
  const r = new MdnsResponder(w.clock, w.random, () => {}, `host-${address.split(".").pop()}`);
  const service = r.add({ instance: name, type: "_privet._tcp", subtypes: ["_printer"], port: 8631, txt: () => state.txt });
  const socket = await w.network.udpFor(address).openMdns((bytes, from) => r.receive(bytes, from));
  r.start(socket);
  return { r, service, state };
}

// A querier on the same link: what it sends, and what reaches it.
function client(w: ReturnType<typeof world>, address = "10.9.9.9", port = 5353) {
  const inbox: Array<{ at: number; message: Message }> = [];
  const send = w.network.join(address, port, (bytes) => {
    try { inbox.push({ at: w.clock.now, message: decodeMessage(bytes) }); } catch { /* garbage another test member sent */ }
  });
  return {
    inbox,
    ask(questions: Question[], options: { id?: number; answers?: ResourceRecord[]; to?: string } = {}) {
      send(encodeMessage({ id: options.id ?? 0, flags: 0, questions, answers: options.answers ?? [], authorities: [], additionals: [] }), { address: options.to ?? "224.0.0.251", port: 5353 });
    },
    responses: () => inbox.filter((m) => m.message.flags & FLAG_RESPONSE),
  };
}

const isProbe = (d: Delivery) => !(d.message.flags & FLAG_RESPONSE) && d.message.authorities.length > 0;
const isResponse = (d: Delivery) => (d.message.flags & FLAG_RESPONSE) !== 0;

test("startup: a 0-250 ms wait, three probes 250 ms apart, then two announcements one second apart", async (t) => {
  for (let seed = 1; seed <= 20; seed++) {
    const w = world(seed);
    await responder(w, "10.0.0.1");
    w.clock.advance(5000);
    const sent = w.network.sentBy("10.0.0.1");
    const probes = sent.filter(isProbe);
    const announcements = sent.filter(isResponse);
    t.is(probes.length, 3);
    t.true(probes[0].at >= 0 && probes[0].at <= 250, `first probe at ${probes[0].at}`);
    t.deepEqual(probes.map((p) => p.at - probes[0].at), [0, 250, 500]);
    t.is(announcements.length, 2);
    t.is(announcements[0].at - probes[2].at, 250);
    t.is(announcements[1].at - announcements[0].at, 1000);
    t.is(sent.length, 5, "five packets in the first five seconds");
  }
});

test("probes ask ANY for the instance and host (QU first) and propose SRV, TXT and A", async (t) => {
  const w = world();
  await responder(w, "10.0.0.1");
  w.clock.advance(1000);
  const [first, second] = w.network.sentBy("10.0.0.1").filter(isProbe).map((d) => d.message);
  t.deepEqual(first.questions.map((q) => [q.name.join("."), q.type, q.unicastResponse]), [
    ["Printer._privet._tcp.local", TYPE_ANY, true], ["host-1.local", TYPE_ANY, true],
  ]);
  t.false(second.questions[0].unicastResponse);
  t.deepEqual(first.authorities.map((r) => r.type).sort(), [TYPE_A, TYPE_TXT, TYPE_SRV].sort());
});

test("announcements carry every record; unique ones with the cache-flush bit, shared PTRs without", async (t) => {
  const w = world();
  await responder(w, "10.0.0.1");
  w.clock.advance(2000);
  const announcement = w.network.sentBy("10.0.0.1").filter(isResponse)[0].message;
  const byName = (name: string[], type: number) => announcement.answers.find((r) => r.name.join(".") === name.join(".") && r.type === type)!;
  t.false(byName(SERVICE, TYPE_PTR).cacheFlush);
  t.false(byName(SUBTYPE, TYPE_PTR).cacheFlush);
  t.false(byName(["_services", "_dns-sd", "_udp", "local"], TYPE_PTR).cacheFlush);
  const srv = byName(["Printer", ...SERVICE], TYPE_SRV);
  t.true(srv.cacheFlush);
  t.is(srv.ttl, 120);
  t.deepEqual(srv.data, { kind: "srv", priority: 0, weight: 0, port: 8631, target: ["host-1", "local"] });
  const txt = byName(["Printer", ...SERVICE], TYPE_TXT);
  t.is(txt.ttl, TTL_OTHER);
  t.deepEqual(txt.data.kind === "txt" ? txt.data.strings.map(text) : [], ["txtvers=1", "ty=Printer", "url=", "type=printer", "id=", "cs=not-configured"]);
  const a = byName(["host-1", "local"], TYPE_A);
  t.true(a.cacheFlush);
  t.deepEqual(a.data, { kind: "a", address: Uint8Array.of(10, 0, 0, 1) });
});

test("shared answers wait 20-120 ms and bring SRV, TXT and A along; unique answers go at once", async (t) => {
  const w = world();
  await responder(w, "10.0.0.1");
  w.clock.advance(3000);
  const c = client(w);
  const delays: number[] = [];
  for (let i = 0; i < 10; i++) {
    const asked = w.clock.now;
    c.ask([{ name: SUBTYPE, type: TYPE_PTR, unicastResponse: false }]);
    w.clock.advance(1500);
    const answer = c.responses().at(-1)!;
    delays.push(answer.at - asked);
    t.is(answer.message.answers[0].type, TYPE_PTR);
    t.deepEqual(answer.message.additionals.map((r) => r.type).sort(), [TYPE_SRV, TYPE_TXT, TYPE_A, 47, 47].sort());
  }
  t.true(delays.every((d) => d >= 20 && d <= 121), delays.join(","));
  t.true(new Set(delays).size > 1, "the delay is random");
  const asked = w.clock.now;
  c.ask([{ name: ["Printer", ...SERVICE], type: TYPE_SRV, unicastResponse: false }]);
  w.clock.advance(1);
  const srv = c.responses().at(-1)!;
  t.true(srv.at - asked <= 1);
  t.is(srv.message.answers[0].type, TYPE_SRV);
  t.deepEqual(srv.message.additionals.map((r) => r.type).sort(), [TYPE_A, 47].sort());
});

test("QU questions are answered by unicast to the asker", async (t) => {
  const w = world();
  await responder(w, "10.0.0.1");
  w.clock.advance(3000);
  const c = client(w, "10.9.9.9", 5353);
  const before = w.network.log.length;
  c.ask([{ name: SERVICE, type: TYPE_PTR, unicastResponse: true }]);
  w.clock.advance(200);
  const answers = w.network.log.slice(before).filter(isResponse);
  t.is(answers.length, 1);
  t.deepEqual(answers[0].to, { address: "10.9.9.9", port: 5353 });
});

test("legacy unicast queries get the ID and question back, TTLs of at most 10 s, no cache-flush", async (t) => {
  const w = world();
  await responder(w, "10.0.0.1");
  w.clock.advance(3000);
  const c = client(w, "10.9.9.9", 40000);
  c.ask([{ name: SERVICE, type: TYPE_PTR, unicastResponse: false }], { id: 0xbeef, to: "10.0.0.1" });
  w.clock.advance(10);
  const [reply] = c.responses().map((r) => r.message);
  t.is(reply.id, 0xbeef);
  t.deepEqual(reply.questions.map((q) => q.name.join(".")), ["_privet._tcp.local"]);
  const all = [...reply.answers, ...reply.additionals];
  t.true(all.length >= 4);
  t.true(all.every((r) => r.ttl <= 10 && !r.cacheFlush));
});

test("known answers with at least half the TTL left are not repeated", async (t) => {
  const w = world();
  await responder(w, "10.0.0.1");
  w.clock.advance(3000);
  const c = client(w);
  const ptr = (ttl: number): ResourceRecord => ({ name: SERVICE, type: TYPE_PTR, cacheFlush: false, ttl, data: { kind: "ptr", target: ["Printer", ...SERVICE] } });
  c.ask([{ name: SERVICE, type: TYPE_PTR, unicastResponse: false }], { answers: [ptr(TTL_OTHER / 2 + 1)] });
  w.clock.advance(1500);
  t.is(c.responses().length, 0);
  c.ask([{ name: SERVICE, type: TYPE_PTR, unicastResponse: false }], { answers: [ptr(TTL_OTHER / 2 - 100)] });
  w.clock.advance(1500);
  t.is(c.responses().length, 1);
});

test("a record is multicast at most once a second", async (t) => {
  const w = world();
  await responder(w, "10.0.0.1");
  w.clock.advance(3000);
  const c = client(w);
  const ask = () => c.ask([{ name: ["Printer", ...SERVICE], type: TYPE_TXT, unicastResponse: false }]);
  ask();
  w.clock.advance(400);
  ask();
  w.clock.advance(400);
  t.is(c.responses().length, 1);
  w.clock.advance(400);
  ask();
  w.clock.advance(10);
  t.is(c.responses().length, 2);
});

test("a TXT change is announced twice, a second apart, with the new values", async (t) => {
  const w = world();
  const { r, state } = await responder(w, "10.0.0.1");
  w.clock.advance(5000);
  const before = w.network.log.length;
  state.txt = [["txtvers", "1"], ["ty", "Printer"], ["url", "https://cloud"], ["type", "printer"], ["id", "abc"], ["cs", "online"]];
  r.txtChanged();
  w.clock.advance(3000);
  const updates = w.network.log.slice(before).filter(isResponse);
  t.is(updates.length, 2);
  t.is(updates[1].at - updates[0].at, 1000);
  for (const u of updates) {
    t.deepEqual(u.message.answers.map((a) => a.type), [TYPE_TXT]);
    const data = u.message.answers[0].data;
    t.true(data.kind === "txt" && data.strings.map(text).includes("id=abc") && data.strings.map(text).includes("cs=online"));
    t.true(u.message.answers[0].cacheFlush);
  }
});

test("stop sends a goodbye with TTL 0 for every record and then stays silent", async (t) => {
  const w = world();
  const { r } = await responder(w, "10.0.0.1");
  w.clock.advance(5000);
  const before = w.network.log.length;
  r.stop();
  const [goodbye] = w.network.log.slice(before);
  t.true(goodbye.message.answers.length >= 6);
  t.true(goodbye.message.answers.every((a) => a.ttl === 0));
  const c = client(w);
  c.ask([{ name: SERVICE, type: TYPE_PTR, unicastResponse: false }]);
  w.clock.advance(2000);
  t.is(c.responses().length, 0);
  t.is(w.clock.pending, 0, "no timers left");
});

test("two printers with one name starting together: one keeps it, the other becomes 'Printer (2)'", async (t) => {
  for (let seed = 1; seed <= 10; seed++) {
    const w = world(seed);
    const a = await responder(w, "10.0.0.1");
    const b = await responder(w, "10.0.0.2");
    w.clock.advance(10_000);
    const names = [a.service.instanceName, b.service.instanceName].sort();
    t.deepEqual(names, ["Printer", "Printer (2)"], `seed ${seed}`);
    t.is(a.r.state, "ready");
    t.is(b.r.state, "ready");
  }
});

test("a printer that starts later finds the name defended and renames", async (t) => {
  const w = world(3);
  const a = await responder(w, "10.0.0.1");
  w.clock.advance(5000);
  const b = await responder(w, "10.0.0.2");
  w.clock.advance(10_000);
  t.is(a.service.instanceName, "Printer");
  t.is(b.service.instanceName, "Printer (2)");
  const c = client(w);
  c.ask([{ name: SERVICE, type: TYPE_PTR, unicastResponse: false }]);
  w.clock.advance(500);
  const targets = c.responses().flatMap((r) => r.message.answers).filter((r) => r.type === TYPE_PTR && r.data.kind === "ptr").map((r) => (r.data as any).target[0]);
  t.deepEqual(targets.sort(), ["Printer", "Printer (2)"]);
});

test("renaming counts up and keeps labels within 63 bytes", (t) => {
  t.is(nextInstanceName("Printer"), "Printer (2)");
  t.is(nextInstanceName("Printer (2)"), "Printer (3)");
  t.is(nextInstanceName("Printer (9)"), "Printer (10)");
  t.true(Buffer.byteLength(nextInstanceName("ü".repeat(40))) <= 63);
});

test("hostile packets are dropped and the responder keeps answering", async (t) => {
  const w = world();
  await responder(w, "10.0.0.1");
  w.clock.advance(3000);
  const c = client(w);
  const random = new SeededRandom(77);
  const send = w.network.join("10.6.6.6", 5353, () => {});
  for (let i = 0; i < 2000; i++) send(random.bytes(random.below(300)), { address: "224.0.0.251", port: 5353 });
  t.notThrows(() => w.clock.advance(100));
  c.ask([{ name: ["Printer", ...SERVICE], type: TYPE_SRV, unicastResponse: false }]);
  w.clock.advance(10);
  t.is(c.responses().length, 1);
});
