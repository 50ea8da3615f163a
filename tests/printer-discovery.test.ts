import test from "ava";
import { FLAG_RESPONSE, TYPE_SRV, TYPE_TXT } from "../modules/dns/message.js";
import { Printer } from "../modules/printer/printer.js";
import { MemoryStorage } from "../hosts/node/hal.js";
import { NullEngine } from "../modules/print/null-engine.js";
import { OFFICE_CAPABILITIES } from "../modules/print/office-capabilities.js";
import { FakeClock } from "./helpers/fake-clock.js";
import { FakeNetwork } from "./helpers/fake-udp.js";
import { FakeTcp, fakeResolver, parseResponses } from "./helpers/fake-tcp.js";
import { SeededRandom } from "./helpers/seeded-random.js";

async function rig(storage = new MemoryStorage()) {
  const clock = new FakeClock();
  const network = new FakeNetwork(clock);
  const tcp = new FakeTcp();
  const printer = new Printer({ clock, random: new SeededRandom(9), storage, tcp, resolver: fakeResolver(), udp: network.udpFor("10.0.0.5"), log: () => {}, engine: new NullEngine(OFFICE_CAPABILITIES) },
    { port: 8631, name: "Office", description: "by the window" });
  await printer.start();
  clock.advance(3000);
  const info = () => {
    const c = tcp.accept();
    c.send("GET /privet/info HTTP/1.1\r\nX-Privet-Token: \"\"\r\n\r\n");
    const [response] = parseResponses(c.output());
    return response.status === 200 ? JSON.parse(response.body) : response.status;
  };
  const txtIn = (from: number) => network.log.slice(from).filter((d) => d.message.flags & FLAG_RESPONSE)
    .flatMap((d) => d.message.answers).filter((r) => r.type === TYPE_TXT && r.ttl > 0)
    .map((r) => Object.fromEntries((r.data as any).strings.map((s: Uint8Array) => Buffer.from(s).toString().split("=", 2))));
  return { clock, network, printer, info, txtIn, storage };
}

test("TXT and /privet/info are read from one record and change together", async (t) => {
  const { printer, info, txtIn, clock, network } = await rig();
  const [announced] = txtIn(0);
  const first = info();
  t.deepEqual(announced, { txtvers: "1", ty: first.name, note: first.description, url: first.url, type: "printer", id: first.id, cs: first.connection_state });
  const mark = network.log.length;
  printer.device.connectionState = "offline";
  printer.device.description = "moved to the lobby";
  printer.device.changed();
  clock.advance(3000);
  const updates = txtIn(mark);
  t.is(updates.length, 2, "announced twice");
  const now = info();
  t.is(now.connection_state, "offline");
  t.deepEqual(updates[0], { txtvers: "1", ty: now.name, note: now.description, url: now.url, type: "printer", id: now.id, cs: "offline" });
});

test("local_discovery off: a goodbye, then silence and 404 for every API; it stays off after a restart", async (t) => {
  const { printer, info, network, clock, storage } = await rig();
  const mark = network.log.length;
  const stopped = printer.setLocalDiscovery(false);
  clock.advance(200);
  await stopped;
  const goodbye = network.log.slice(mark);
  t.is(goodbye.length, 1);
  t.true(goodbye[0].message.answers.every((r) => r.ttl === 0));
  t.is(info(), 404);
  clock.advance(10_000);
  t.is(network.log.length, mark + 1, "nothing more on the network");

  const again = await rig(storage);
  t.is(again.info(), 404);
  t.is(again.network.log.length, 0, "a restarted printer stays silent");
  await again.printer.setLocalDiscovery(true);
  again.clock.advance(3000);
  t.is(again.info().name, "Office");
  t.true(again.network.log.length >= 5, "probes and announcements again");
});

test("Printer.publish puts another service beside Privet and IPP: announced with them, gone with local_discovery, withdrawn alone", async (t) => {
  const { printer, network, clock } = await rig();
  const types = (from: number, live: boolean) => [...new Set(network.log.slice(from).filter((d) => d.message.flags & FLAG_RESPONSE)
    .flatMap((d) => d.message.answers).filter((r) => r.type === TYPE_SRV && (r.ttl > 0) === live).map((r) => r.name.slice(1, 3).join(".")))].sort();
  let mark = network.log.length;
  // The printer's own IPP service came up with Privet's.
  t.deepEqual(printer.mdns!.services.map((s) => `${s.instanceName}.${s.type}/${s.state}`), ["Office._privet._tcp/ready", "Office._ipp._tcp/ready"]);
  // A TXT read from the device record follows it like Privet's does.
  const withdraw = printer.publish({ instance: printer.device.name, type: "_http._tcp", subtypes: ["_printer"], port: 8631, txt: () => [["txtvers", "1"], ["ty", printer.device.name], ["note", printer.device.description]] });
  clock.advance(3000);
  t.deepEqual(types(mark, true), ["_http._tcp"], "probed and announced on its own, Privet and IPP untouched");
  t.deepEqual(printer.mdns!.services.map((s) => `${s.instanceName}.${s.type}/${s.state}`), ["Office._privet._tcp/ready", "Office._ipp._tcp/ready", "Office._http._tcp/ready"]);

  mark = network.log.length;
  printer.device.description = "moved to the lobby";
  printer.device.changed();
  clock.advance(3000);
  const txtNames = network.log.slice(mark).flatMap((d) => d.message.answers).filter((r) => r.type === TYPE_TXT).map((r) => r.name.slice(1, 3).join("."));
  t.deepEqual([...new Set(txtNames)].sort(), ["_http._tcp", "_privet._tcp"], "the TXT records that read the description re-announced");

  mark = network.log.length;
  const off = printer.setLocalDiscovery(false);
  clock.advance(200);
  await off;
  t.deepEqual(types(mark, false), ["_http._tcp", "_ipp._tcp", "_privet._tcp"], "a goodbye for all");
  t.is(network.log.length - mark, 1, "in one packet");
  mark = network.log.length;
  await printer.setLocalDiscovery(true);
  clock.advance(3000);
  t.deepEqual(types(mark, true), ["_http._tcp", "_ipp._tcp", "_privet._tcp"], "all come back");

  mark = network.log.length;
  withdraw();
  clock.advance(3000);
  t.deepEqual(types(mark, false), ["_http._tcp"]);
  t.deepEqual(types(mark, true), []);
  t.deepEqual(printer.mdns!.services.map((s) => s.type), ["_privet._tcp", "_ipp._tcp"]);
});
