import test from "./harness.js";
import { FLAG_RESPONSE, TYPE_PTR, TYPE_SRV, type Name, type ResourceRecord } from "../../modules/dns/message.js";
import { MdnsResponder, type ServiceSpec } from "../../modules/dns/responder.js";
import type { MdnsSocket } from "../../modules/hal/udp.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { FakeNetwork, type Delivery } from "../helpers/fake-udp.js";
import { SeededRandom } from "../helpers/seeded-random.js";

// The several-services responder inside XS: the Map, RegExp and typed-array
// paths it takes must work on the board's engine, not only on Node.

const privet: ServiceSpec = { instance: "Printer", type: "_privet._tcp", subtypes: ["_printer"], port: 8631, txt: [["txtvers", "1"], ["ty", "Printer"]] };
const ipp: ServiceSpec = { instance: "Printer", type: "_ipp._tcp", subtypes: ["_print"], port: 8631, txt: [["txtvers", "1"], ["rp", "ipp/print"]] };
const dotted = (name: Name) => name.join(".");
const isResponse = (d: Delivery) => (d.message.flags & FLAG_RESPONSE) !== 0;
const metaTargets = (records: ResourceRecord[]) => records
  .filter((r) => r.type === TYPE_PTR && dotted(r.name) === "_services._dns-sd._udp.local")
  .map((r) => (r.data.kind === "ptr" ? dotted(r.data.target) : "")).sort();

function responder(clock: FakeClock, network: FakeNetwork, address: string, seed: number, services: ServiceSpec[]) {
  const r = new MdnsResponder(clock, new SeededRandom(seed), () => {}, `host-${address.split(".").pop()}`);
  const handles = services.map((s) => r.add(s));
  const socket: MdnsSocket = { addresses: [Uint8Array.from(address.split(".").map(Number))], send: network.join(address, 5353, (b, f) => r.receive(b, f)), close: () => {} };
  r.start(socket);
  return { r, handles };
}

test("two services on one host in XS: shared probes and announcements, both types in _services", (t) => {
  const clock = new FakeClock();
  const network = new FakeNetwork(clock);
  const { handles } = responder(clock, network, "10.0.0.1", 1, [privet, ipp]);
  clock.advance(5000);
  const sent = network.sentBy("10.0.0.1");
  t.is(sent.length, 5);
  t.deepEqual(metaTargets(sent.filter(isResponse)[0].message.answers), ["_ipp._tcp.local", "_privet._tcp.local"]);
  t.deepEqual(handles.map((h) => h.state), ["ready", "ready"]);
});

test("removing one service in XS says goodbye to its records only", (t) => {
  const clock = new FakeClock();
  const network = new FakeNetwork(clock);
  const { r, handles } = responder(clock, network, "10.0.0.1", 2, [privet]);
  clock.advance(5000);
  const later = r.add(ipp);
  clock.advance(5000);
  t.is(later.state, "ready");
  const before = network.log.length;
  handles[0].remove();
  clock.advance(10);
  const [goodbye] = network.log.slice(before).map((d) => d.message);
  t.true(goodbye.answers.every((a) => a.ttl === 0));
  t.true(goodbye.answers.every((a) => !dotted(a.name).includes("_ipp")), "nothing of IPP");
  t.true(goodbye.answers.some((a) => a.type === TYPE_SRV && dotted(a.name) === "Printer._privet._tcp.local"));
  t.is(r.services.length, 1);
});

test("a conflict renames only the service that has it, in XS", (t) => {
  const clock = new FakeClock();
  const network = new FakeNetwork(clock);
  const other = responder(clock, network, "10.0.0.2", 3, [ipp]);
  clock.advance(5000);
  const ours = responder(clock, network, "10.0.0.1", 4, [privet, ipp]);
  clock.advance(10_000);
  t.is(other.handles[0].instanceName, "Printer");
  t.deepEqual(ours.handles.map((h) => h.instanceName), ["Printer", "Printer (2)"]);
});

test("random packets never throw inside XS", (t) => {
  const clock = new FakeClock();
  const network = new FakeNetwork(clock);
  const { r } = responder(clock, network, "10.0.0.1", 5, [privet, ipp]);
  clock.advance(5000);
  const random = new SeededRandom(6);
  const send = network.join("10.6.6.6", 5353, () => {});
  for (let i = 0; i < 500; i++) send(random.bytes(12 + random.below(200)), { address: "224.0.0.251", port: 5353 });
  clock.advance(1000);
  t.true(r.services.every((s) => s.state === "ready"));
});

// The runner calls this after the bundle has registered every test.
export { runAll } from "./harness.js";
