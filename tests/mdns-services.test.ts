import test from "ava";
import {
  FLAG_RESPONSE, TYPE_A, TYPE_ANY, TYPE_NSEC, TYPE_PTR, TYPE_SRV, TYPE_TXT, decodeMessage, encodeMessage,
  type Message, type Name, type Question, type ResourceRecord,
} from "../modules/dns/message.js";
import { MAX_SERVICES, MdnsResponder, TTL_OTHER, type ServiceSpec, type TxtPairs } from "../modules/dns/responder.js";
import { FakeClock } from "./helpers/fake-clock.js";
import { FakeNetwork, type Delivery } from "./helpers/fake-udp.js";
import { SeededRandom } from "./helpers/seeded-random.js";

// Several services on one host, on the fake link: Privet beside a second
// service as IPP Everywhere will publish it.

const PRIVET = ["_privet", "_tcp", "local"];
const IPP = ["_ipp", "_tcp", "local"];
const PRINTER_SUB = ["_printer", "_sub", ...PRIVET];
const PRINT_SUB = ["_print", "_sub", ...IPP];
const META = ["_services", "_dns-sd", "_udp", "local"];
const text = (b: Uint8Array) => Buffer.from(b).toString();
const dotted = (name: Name) => name.join(".");

const privetTxt: TxtPairs = [["txtvers", "1"], ["ty", "Printer"], ["url", ""], ["type", "printer"], ["id", ""], ["cs", "not-configured"]];
const ippTxt: TxtPairs = [["txtvers", "1"], ["qtotal", "1"], ["rp", "ipp/print"], ["ty", "Printer"], ["pdl", "image/pwg-raster"], ["kind", "document"]];

function world(seed = 1) {
  const clock = new FakeClock();
  const network = new FakeNetwork(clock);
  return { clock, network, random: new SeededRandom(seed) };
}
type World = ReturnType<typeof world>;

async function host(w: World, address: string, services: ServiceSpec[], start = true, hostName = `host-${address.split(".").pop()}`) {
  const r = new MdnsResponder(w.clock, w.random, () => {}, hostName);
  const handles = services.map((s) => r.add(s));
  const socket = await w.network.udpFor(address).openMdns((bytes, from) => r.receive(bytes, from));
  if (start) r.start(socket);
  return { r, handles, socket };
}

const privet = (instance = "Printer", txt: TxtPairs | (() => TxtPairs) = privetTxt): ServiceSpec =>
  ({ instance, type: "_privet._tcp", subtypes: ["_printer"], port: 8631, txt });
const ipp = (instance = "Printer", txt: TxtPairs | (() => TxtPairs) = ippTxt): ServiceSpec =>
  ({ instance, type: "_ipp._tcp", subtypes: ["_print"], port: 8631, txt });

function client(w: World, address = "10.9.9.9", port = 5353) {
  const inbox: Array<{ at: number; message: Message }> = [];
  const send = w.network.join(address, port, (bytes) => {
    try { inbox.push({ at: w.clock.now, message: decodeMessage(bytes) }); } catch { /* garbage another member sent */ }
  });
  return {
    inbox,
    send,
    ask(questions: Question[], answers: ResourceRecord[] = []) {
      send(encodeMessage({ id: 0, flags: 0, questions, answers, authorities: [], additionals: [] }), { address: "224.0.0.251", port: 5353 });
    },
    // Every answer that reached this client since mark, deduplicated by name, type and target.
    answersSince(mark: number) {
      return inbox.slice(mark).filter((m) => m.message.flags & FLAG_RESPONSE).flatMap((m) => m.message.answers);
    },
  };
}

const q = (name: Name, type: number, unicastResponse = false): Question => ({ name, type, unicastResponse });
const isProbe = (d: Delivery) => !(d.message.flags & FLAG_RESPONSE) && d.message.authorities.length > 0;
const isResponse = (d: Delivery) => (d.message.flags & FLAG_RESPONSE) !== 0;
const ptrTargets = (records: ResourceRecord[], name: Name) => records
  .filter((r) => r.type === TYPE_PTR && dotted(r.name) === dotted(name) && r.ttl > 0)
  .map((r) => (r.data.kind === "ptr" ? dotted(r.data.target) : ""));
const describe = (records: ResourceRecord[]) => records.map((r) => `${dotted(r.name)}/${r.type}${r.ttl === 0 ? "/bye" : ""}`).sort();

test("two services from the start share the probes and announcements: still 3 probes and 2 announcements", async (t) => {
  for (let seed = 1; seed <= 10; seed++) {
    const w = world(seed);
    const { handles } = await host(w, "10.0.0.1", [privet(), ipp()]);
    w.clock.advance(5000);
    const sent = w.network.sentBy("10.0.0.1");
    const probes = sent.filter(isProbe);
    t.is(probes.length, 3);
    t.is(sent.length, 5, `seed ${seed}`);
    t.deepEqual(probes[0].message.questions.map((x) => [dotted(x.name), x.unicastResponse]), [
      ["Printer._privet._tcp.local", true], ["Printer._ipp._tcp.local", true], ["host-1.local", true],
    ]);
    t.deepEqual(probes[0].message.authorities.map((r) => r.type).sort(), [TYPE_SRV, TYPE_TXT, TYPE_SRV, TYPE_TXT, TYPE_A].sort());
    const [announcement] = sent.filter(isResponse).map((d) => d.message);
    t.deepEqual(ptrTargets(announcement.answers, PRIVET), ["Printer._privet._tcp.local"]);
    t.deepEqual(ptrTargets(announcement.answers, PRINTER_SUB), ["Printer._privet._tcp.local"]);
    t.deepEqual(ptrTargets(announcement.answers, IPP), ["Printer._ipp._tcp.local"]);
    t.deepEqual(ptrTargets(announcement.answers, PRINT_SUB), ["Printer._ipp._tcp.local"]);
    t.deepEqual(ptrTargets(announcement.answers, META).sort(), ["_ipp._tcp.local", "_privet._tcp.local"]);
    t.is(announcement.answers.filter((r) => r.type === TYPE_A).length, 1, "one A record for the shared host");
    t.deepEqual(handles.map((h) => h.state), ["ready", "ready"]);
  }
});

test("_services._dns-sd._udp lists every type once, and each subtype leads to its own service", async (t) => {
  const w = world();
  // Two services of one type and one of another: the type is listed once.
  await host(w, "10.0.0.1", [privet(), ipp(), ipp("Lobby")]);
  w.clock.advance(3000);
  const c = client(w);
  let mark = c.inbox.length;
  c.ask([q(META, TYPE_PTR)]);
  w.clock.advance(200);
  t.deepEqual(ptrTargets(c.answersSince(mark), META).sort(), ["_ipp._tcp.local", "_privet._tcp.local"]);

  mark = c.inbox.length;
  c.ask([q(PRINT_SUB, TYPE_PTR)]);
  w.clock.advance(200);
  const [reply] = c.inbox.slice(mark).filter((m) => m.message.flags & FLAG_RESPONSE).map((m) => m.message);
  t.deepEqual(ptrTargets(reply.answers, PRINT_SUB).sort(), ["Lobby._ipp._tcp.local", "Printer._ipp._tcp.local"]);
  // The additionals resolve exactly the services asked about, and the host.
  t.deepEqual([...new Set(reply.additionals.map((r) => dotted(r.name)))].sort(), ["Lobby._ipp._tcp.local", "Printer._ipp._tcp.local", "host-1.local"]);
  const txt = reply.additionals.find((r) => r.type === TYPE_TXT && dotted(r.name) === "Printer._ipp._tcp.local")!;
  t.true(txt.data.kind === "txt" && txt.data.strings.map(text).includes("rp=ipp/print"));

  mark = c.inbox.length;
  c.ask([q(PRINTER_SUB, TYPE_PTR)]);
  w.clock.advance(200);
  t.deepEqual(ptrTargets(c.answersSince(mark), PRINTER_SUB), ["Printer._privet._tcp.local"]);
});

test("a service added after start waits 0-250 ms, probes its own name three times, then is announced with the host's address", async (t) => {
  for (let seed = 1; seed <= 10; seed++) {
    const w = world(seed);
    const { r } = await host(w, "10.0.0.1", [privet()]);
    w.clock.advance(5000);
    const c = client(w);
    const before = w.network.log.length;
    const addedAt = w.clock.now;
    const service = r.add(ipp());
    t.is(service.state, "probing");
    // While it probes, nobody is told about it.
    c.ask([q(IPP, TYPE_PTR)]);
    w.clock.advance(150);
    t.deepEqual(ptrTargets(c.answersSince(0), IPP), []);
    w.clock.advance(5000);
    const sent = w.network.log.slice(before).filter((d) => d.from.address === "10.0.0.1");
    const probes = sent.filter(isProbe);
    t.is(probes.length, 3);
    t.true(probes[0].at - addedAt <= 250);
    t.deepEqual(probes.map((p) => p.at - probes[0].at), [0, 250, 500]);
    for (const p of probes) t.deepEqual(p.message.questions.map((x) => dotted(x.name)), ["Printer._ipp._tcp.local"], "the host name is not probed again");
    const announcements = sent.filter(isResponse).filter((d) => d.message.answers.some((a) => a.type === TYPE_SRV));
    t.is(announcements.length, 2);
    t.is(announcements[0].at - probes[2].at, 250);
    t.is(announcements[1].at - announcements[0].at, 1000);
    const first = announcements[0].message;
    t.deepEqual(describe(first.answers), describe([
      { name: IPP, type: TYPE_PTR }, { name: PRINT_SUB, type: TYPE_PTR }, { name: META, type: TYPE_PTR },
      { name: ["Printer", ...IPP], type: TYPE_SRV }, { name: ["Printer", ...IPP], type: TYPE_TXT }, { name: ["Printer", ...IPP], type: TYPE_NSEC },
    ] as ResourceRecord[]), "only the new service's records");
    t.deepEqual(first.additionals.map((a) => a.type).sort(), [TYPE_A, TYPE_NSEC].sort());
    t.is(service.state, "ready");
  }
});

test("a service added while the host name is still being probed is announced together with it", async (t) => {
  const w = world(4);
  const { r } = await host(w, "10.0.0.1", [privet()]);
  w.clock.advance(300);
  r.add(ipp());
  w.clock.advance(5000);
  const sent = w.network.sentBy("10.0.0.1");
  const withIpp = sent.filter((d) => isResponse(d) && d.message.answers.some((a) => dotted(a.name) === "Printer._ipp._tcp.local" && a.type === TYPE_SRV));
  const withHost = sent.filter((d) => isResponse(d) && d.message.answers.some((a) => a.type === TYPE_A));
  t.is(withIpp.length, 2);
  // No SRV may point at the host name before the host has announced it.
  t.true(withIpp[0].at >= withHost[0].at, `ipp at ${withIpp[0].at}, host at ${withHost[0].at}`);
  t.is(r.services.length, 2);
  t.true(r.services.every((s) => s.state === "ready"));
});

test("a conflict on one service renames that service only: Privet keeps 'Printer', IPP becomes 'Printer (2)'", async (t) => {
  for (let seed = 1; seed <= 10; seed++) {
    const w = world(seed);
    // Another host already holds "Printer" for IPP, and only for IPP.
    const other = await host(w, "10.0.0.2", [ipp()]);
    w.clock.advance(5000);
    const ours = await host(w, "10.0.0.1", [privet(), ipp()]);
    w.clock.advance(10_000);
    t.is(other.handles[0].instanceName, "Printer");
    t.deepEqual(ours.handles.map((h) => h.instanceName), ["Printer", "Printer (2)"], `seed ${seed}`);
    t.true(ours.handles.every((h) => h.state === "ready"));
    const c = client(w);
    c.ask([q(IPP, TYPE_PTR)]);
    w.clock.advance(500);
    t.deepEqual(ptrTargets(c.answersSince(0), IPP).sort(), ["Printer (2)._ipp._tcp.local", "Printer._ipp._tcp.local"]);
  }
});

test("two hosts starting at once with the same two services: each name is settled on its own", async (t) => {
  for (let seed = 1; seed <= 10; seed++) {
    const w = world(seed);
    const a = await host(w, "10.0.0.1", [privet(), ipp()]);
    const b = await host(w, "10.0.0.2", [privet(), ipp()]);
    w.clock.advance(15_000);
    for (const i of [0, 1]) t.deepEqual([a.handles[i].instanceName, b.handles[i].instanceName].sort(), ["Printer", "Printer (2)"], `seed ${seed} service ${i}`);
    t.true([...a.handles, ...b.handles].every((h) => h.state === "ready"));
  }
});

test("a host name conflict renames the host; both services keep their names and point at the new host", async (t) => {
  const w = world(2);
  // Another device already holds the host name "printer" (a configured hostName, say).
  await host(w, "10.0.0.2", [privet("Other")], true, "printer");
  w.clock.advance(5000);
  const { r } = await host(w, "10.0.0.1", [privet(), ipp()], true, "printer");
  w.clock.advance(10_000);
  t.is(r.hostName, "printer-2");
  t.deepEqual(r.services.map((s) => [s.instanceName, s.state]), [["Printer", "ready"], ["Printer", "ready"]]);
  const c = client(w);
  c.ask([q(["Printer", ...IPP], TYPE_SRV), q(["Printer", ...PRIVET], TYPE_SRV)]);
  w.clock.advance(50);
  const srvs = c.answersSince(0).filter((a) => a.type === TYPE_SRV);
  t.is(srvs.length, 2);
  t.true(srvs.every((s) => s.data.kind === "srv" && dotted(s.data.target) === "printer-2.local"));
});

test("removing a service says goodbye to its records only; the other stays and answers", async (t) => {
  const w = world();
  const { r, handles } = await host(w, "10.0.0.1", [privet(), ipp()]);
  w.clock.advance(5000);
  const before = w.network.log.length;
  handles[1].remove();
  w.clock.advance(10);
  const goodbyes = w.network.log.slice(before);
  t.is(goodbyes.length, 1);
  const answers = goodbyes[0].message.answers;
  t.true(answers.every((a) => a.ttl === 0));
  t.deepEqual(describe(answers), describe([
    { name: IPP, type: TYPE_PTR, ttl: 0 }, { name: PRINT_SUB, type: TYPE_PTR, ttl: 0 }, { name: META, type: TYPE_PTR, ttl: 0 },
    { name: ["Printer", ...IPP], type: TYPE_SRV, ttl: 0 }, { name: ["Printer", ...IPP], type: TYPE_TXT, ttl: 0 }, { name: ["Printer", ...IPP], type: TYPE_NSEC, ttl: 0 },
  ] as ResourceRecord[]));
  t.deepEqual(ptrTargets(answers.map((a) => ({ ...a, ttl: 1 })), META), ["_ipp._tcp.local"], "the _services entry for _ipp._tcp goes");
  t.is(handles[1].state, "removed");
  t.is(r.services.length, 1);

  const c = client(w);
  w.clock.advance(1000);
  c.ask([q(IPP, TYPE_PTR), q(PRIVET, TYPE_PTR), q(META, TYPE_PTR)]);
  w.clock.advance(300);
  const got = c.answersSince(0);
  t.deepEqual(ptrTargets(got, IPP), []);
  t.deepEqual(ptrTargets(got, PRIVET), ["Printer._privet._tcp.local"]);
  t.deepEqual(ptrTargets(got, META), ["_privet._tcp.local"]);
  const sentSoFar = w.network.sentBy("10.0.0.1").length;
  handles[1].remove();
  w.clock.advance(3000);
  t.is(w.network.sentBy("10.0.0.1").length, sentSoFar, "a second remove sends nothing");
});

test("removing one of two services of a type keeps that type listed in _services", async (t) => {
  const w = world();
  const { handles } = await host(w, "10.0.0.1", [privet(), ipp(), ipp("Lobby")]);
  w.clock.advance(5000);
  const before = w.network.log.length;
  handles[2].remove();
  w.clock.advance(10);
  const [goodbye] = w.network.log.slice(before).map((d) => d.message);
  t.false(goodbye.answers.some((a) => dotted(a.name) === dotted(META)), "no goodbye for _services -> _ipp._tcp");
  t.deepEqual(ptrTargets(goodbye.answers.map((a) => ({ ...a, ttl: 1 })), IPP), ["Lobby._ipp._tcp.local"]);
});

test("a service removed while still probing leaves without a goodbye", async (t) => {
  const w = world();
  const { r } = await host(w, "10.0.0.1", [privet()]);
  w.clock.advance(5000);
  const service = r.add(ipp());
  w.clock.advance(300);
  service.remove();
  const before = w.network.log.length;
  w.clock.advance(5000);
  t.is(w.network.log.length, before, "no more probes, no announcement, no goodbye");
});

test("a TXT update is announced twice for that service only; an unchanged TXT sends nothing", async (t) => {
  const w = world();
  const state = { privet: privetTxt, ipp: ippTxt };
  const { r, handles } = await host(w, "10.0.0.1", [privet("Printer", () => state.privet), ipp("Printer", () => state.ipp)]);
  w.clock.advance(5000);
  let before = w.network.log.length;
  r.txtChanged();
  w.clock.advance(3000);
  t.is(w.network.log.length, before, "nothing changed, nothing sent");

  state.ipp = [...ippTxt, ["Color", "T"]];
  r.txtChanged();
  w.clock.advance(3000);
  let updates = w.network.log.slice(before);
  t.is(updates.length, 2);
  t.is(updates[1].at - updates[0].at, 1000);
  for (const u of updates) t.deepEqual(describe(u.message.answers), ["Printer._ipp._tcp.local/16"]);

  before = w.network.log.length;
  handles[0].update({ txt: [...privetTxt.slice(0, 5), ["cs", "online"]] });
  w.clock.advance(3000);
  updates = w.network.log.slice(before);
  t.is(updates.length, 2);
  const data = updates[0].message.answers[0].data;
  t.true(data.kind === "txt" && data.strings.map(text).includes("cs=online"));
  t.is(updates[0].message.answers[0].ttl, TTL_OTHER);
});

test("a new port re-announces the service; a dropped subtype gets its goodbye", async (t) => {
  const w = world();
  const { handles } = await host(w, "10.0.0.1", [privet(), ipp()]);
  w.clock.advance(5000);
  let before = w.network.log.length;
  handles[1].update({ port: 631 });
  w.clock.advance(3000);
  let sent = w.network.log.slice(before);
  t.is(sent.length, 2);
  for (const d of sent) {
    const srv = d.message.answers.find((a) => a.type === TYPE_SRV)!;
    t.true(srv.data.kind === "srv" && srv.data.port === 631 && srv.cacheFlush);
    t.false(d.message.answers.some((a) => dotted(a.name).includes("_privet")), "Privet is left alone");
  }
  t.is(handles[1].port, 631);

  before = w.network.log.length;
  handles[1].update({ subtypes: [] });
  w.clock.advance(3000);
  sent = w.network.log.slice(before);
  t.deepEqual(describe(sent[0].message.answers), [`${dotted(PRINT_SUB)}/${TYPE_PTR}/bye`]);
  const c = client(w);
  c.ask([q(PRINT_SUB, TYPE_PTR)]);
  w.clock.advance(300);
  t.deepEqual(ptrTargets(c.answersSince(0), PRINT_SUB), []);
});

test("a new instance name says goodbye to the old one and probes the new one", async (t) => {
  const w = world();
  const { handles } = await host(w, "10.0.0.1", [privet(), ipp()]);
  w.clock.advance(5000);
  const before = w.network.log.length;
  handles[1].update({ instance: "Lobby" });
  t.is(handles[1].state, "probing");
  w.clock.advance(5000);
  const sent = w.network.log.slice(before);
  t.true(sent[0].message.answers.length > 0 && sent[0].message.answers.every((a) => a.ttl === 0));
  t.true(sent[0].message.answers.some((a) => dotted(a.name) === "Printer._ipp._tcp.local"));
  t.false(sent[0].message.answers.some((a) => dotted(a.name) === dotted(META)), "the type stays listed: it is only renamed");
  t.is(sent.filter(isProbe).length, 3);
  t.is(handles[1].instanceName, "Lobby");
  t.is(handles[1].state, "ready");
});

test("known-answer suppression works per service", async (t) => {
  const w = world();
  await host(w, "10.0.0.1", [privet(), ipp()]);
  w.clock.advance(5000);
  const c = client(w);
  const known = (name: Name, target: Name): ResourceRecord => ({ name, type: TYPE_PTR, cacheFlush: false, ttl: TTL_OTHER, data: { kind: "ptr", target } });
  // The querier knows the Privet PTR and the _services entry for _privet: only IPP's are news.
  c.ask([q(PRIVET, TYPE_PTR), q(IPP, TYPE_PTR), q(META, TYPE_PTR)], [known(PRIVET, ["Printer", ...PRIVET]), known(META, PRIVET)]);
  w.clock.advance(300);
  const got = c.answersSince(0);
  t.deepEqual(ptrTargets(got, PRIVET), []);
  t.deepEqual(ptrTargets(got, IPP), ["Printer._ipp._tcp.local"]);
  t.deepEqual(ptrTargets(got, META), ["_ipp._tcp.local"]);
  // Knowing both leaves nothing to say.
  w.clock.advance(2000);
  const mark = c.inbox.length;
  c.ask([q(PRIVET, TYPE_PTR), q(IPP, TYPE_PTR)], [known(PRIVET, ["Printer", ...PRIVET]), known(IPP, ["Printer", ...IPP])]);
  w.clock.advance(300);
  t.deepEqual(c.answersSince(mark), []);
});

test("stop says goodbye to every service and the host in one packet", async (t) => {
  const w = world();
  const { r } = await host(w, "10.0.0.1", [privet(), ipp()]);
  w.clock.advance(5000);
  const before = w.network.log.length;
  r.stop();
  const sent = w.network.log.slice(before);
  t.is(sent.length, 1);
  const names = new Set(sent[0].message.answers.map((a) => dotted(a.name)));
  for (const n of ["Printer._ipp._tcp.local", "Printer._privet._tcp.local", "host-1.local", dotted(META), dotted(IPP), dotted(PRIVET)]) t.true(names.has(n), n);
  t.true(sent[0].message.answers.every((a) => a.ttl === 0));
  w.clock.advance(100);
  t.is(w.clock.pending, 0);
});

test("large TXT records are split over several packets, each under one Ethernet frame", async (t) => {
  const w = world();
  const big = (tag: string): TxtPairs => Array.from({ length: 6 }, (_, i) => [`${tag}${i}`, "x".repeat(90)] as [string, string]);
  await host(w, "10.0.0.1", [privet("Printer", big("p")), ipp("Printer", big("i")), { ...ipp("Lobby", big("l")), type: "_ipps._tcp" }]);
  w.clock.advance(1200);
  const announcement = w.network.sentBy("10.0.0.1").filter(isResponse);
  t.true(announcement.length >= 2, `${announcement.length} packets`);
  t.true(announcement.every((d) => d.bytes.length <= 1440), announcement.map((d) => d.bytes.length).join(","));
  const txts = announcement.flatMap((d) => d.message.answers).filter((a) => a.type === TYPE_TXT).map((a) => a.name[0] + "." + a.name[1]);
  t.deepEqual(txts.sort(), ["Lobby._ipps", "Printer._ipp", "Printer._privet"]);
});

test("bad services are refused without changing anything", async (t) => {
  const w = world();
  const { r, handles } = await host(w, "10.0.0.1", [privet()]);
  t.throws(() => r.add({ ...ipp(), type: "ipp" }), { instanceOf: RangeError });
  t.throws(() => r.add({ ...ipp(), type: "_a-name-longer-than-15._tcp" }), { instanceOf: RangeError });
  t.throws(() => r.add({ ...ipp(), port: 70000 }), { instanceOf: RangeError });
  t.throws(() => r.add({ ...ipp(), subtypes: ["x".repeat(64)] }), { instanceOf: RangeError });
  t.throws(() => handles[0].update({ port: -1 }), { instanceOf: RangeError });
  t.is(handles[0].port, 8631);
  for (let i = r.services.length; i < MAX_SERVICES; i++) r.add(ipp(`Extra ${i}`));
  t.throws(() => r.add(ipp("One too many")), { instanceOf: RangeError });
  // Two of our own services with one name and type: the second is renamed before it is probed.
  const w2 = world();
  const twins = await host(w2, "10.0.0.1", [ipp(), ipp()]);
  t.deepEqual(twins.handles.map((h) => h.instanceName), ["Printer", "Printer (2)"]);
});

test("hostile traffic aimed at two services never throws, stays bounded, and answers continue", async (t) => {
  const w = world();
  const { r } = await host(w, "10.0.0.1", [privet(), ipp()]);
  w.clock.advance(5000);
  const random = new SeededRandom(99);
  const evil = client(w, "10.6.6.6");
  const legacy = client(w, "10.6.6.7", 40000);
  const names: Name[] = [PRIVET, IPP, PRINTER_SUB, PRINT_SUB, META, ["Printer", ...PRIVET], ["Printer", ...IPP], ["host-1", "local"], ["x", "local"]];
  const pick = <T>(list: T[]) => list[random.below(list.length)];
  const record = (name: Name): ResourceRecord => pick<ResourceRecord>([
    { name, type: TYPE_PTR, cacheFlush: false, ttl: random.below(5000), data: { kind: "ptr", target: pick(names) } },
    { name, type: TYPE_TXT, cacheFlush: true, ttl: random.below(2) * 4500, data: { kind: "txt", strings: [random.bytes(random.below(40))] } },
    { name, type: TYPE_SRV, cacheFlush: true, ttl: 120, data: { kind: "srv", priority: 0, weight: 0, port: random.below(65536), target: pick(names) } },
    { name, type: TYPE_A, cacheFlush: true, ttl: 120, data: { kind: "a", address: random.bytes(4) } },
  ]);
  let valid = 0;
  for (let i = 0; i < 3000; i++) {
    const message: Message = {
      id: random.below(65536),
      flags: pick([0, FLAG_RESPONSE, 0x0200, FLAG_RESPONSE | 0x0400]),
      questions: Array.from({ length: random.below(6) }, () => q(pick(names), pick([TYPE_PTR, TYPE_SRV, TYPE_TXT, TYPE_A, TYPE_ANY, 28, TYPE_NSEC]), random.below(2) === 1)),
      answers: Array.from({ length: random.below(6) }, () => record(pick(names))),
      authorities: random.below(4) === 0 ? Array.from({ length: 1 + random.below(3) }, () => record(pick(names))) : [],
      additionals: [],
    };
    let bytes = encodeMessage(message);
    // Every fourth packet is mutated: flipped bytes inside a plausible packet.
    if (i % 4 === 3) {
      bytes = Uint8Array.from(bytes);
      for (let k = 0; k < 3; k++) bytes[random.below(bytes.length)] ^= 1 << random.below(8);
    } else valid++;
    (i % 7 === 0 ? legacy : evil).send(bytes, i % 7 === 0 ? { address: "10.0.0.1", port: 5353 } : { address: "224.0.0.251", port: 5353 });
    if (i % 50 === 0) t.notThrows(() => w.clock.advance(random.below(300)));
  }
  t.notThrows(() => w.clock.advance(60_000));
  t.true(valid > 2000);
  t.true(w.clock.pending <= 4, `${w.clock.pending} timers left`);
  // Whatever names the attack pushed it to, both services are back and answer.
  t.true(r.services.every((s) => s.state === "ready"), r.services.map((s) => s.state).join(","));
  const c = client(w);
  c.ask([q(META, TYPE_PTR)]);
  w.clock.advance(300);
  t.deepEqual(ptrTargets(c.answersSince(0), META).sort(), ["_ipp._tcp.local", "_privet._tcp.local"]);
});
