import test from "ava";
import type { Storage } from "../modules/hal/storage.js";
import { HttpRouter } from "../modules/http/router.js";
import type { HttpRequest, HttpResponse } from "../modules/http/server.js";
import { Printer } from "../modules/printer/printer.js";
import { NullEngine } from "../modules/print/null-engine.js";
import { OFFICE_CAPABILITIES } from "../modules/print/office-capabilities.js";
import { SafeStorage } from "../modules/storage/safe-storage.js";
import { Settings } from "../modules/device/settings.js";
import { MemoryStorage } from "../hosts/node/hal.js";
import { FakeClock } from "./helpers/fake-clock.js";
import { FakeTcp, fakeResolver, parseResponses } from "./helpers/fake-tcp.js";
import { SeededRandom } from "./helpers/seeded-random.js";

// Counts every read and write, so a test can see that requests never touch flash.
class CountingStorage implements Storage {
  readonly inner = new MemoryStorage();
  reads = 0;
  writes = 0;
  read(key: string) { this.reads++; return this.inner.read(key); }
  write(key: string, value: string) { this.writes++; this.inner.write(key, value); }
  remove(key: string) { this.writes++; this.inner.remove(key); }
}

type Demo = { flag: boolean; count: number; label: string };
const KEYS = { flag: "flag", count: "count", label: "label" };
const DEFAULTS: Demo = { flag: true, count: 30, label: "x" };

test("settings are read once at boot, written through on change, and survive a restart", (t) => {
  const flash = new CountingStorage();
  const settings = new Settings(new SafeStorage(flash), KEYS, DEFAULTS);
  const bootReads = flash.reads;
  t.is(settings.get("flag"), true);
  t.is(settings.get("count"), 30);
  for (let i = 0; i < 100; i++) settings.get("label");
  t.is(flash.reads, bootReads, "no read after boot");
  const changed: string[] = [];
  settings.onChange((name) => changed.push(name));
  t.true(settings.set("flag", false));
  t.false(settings.set("flag", false), "the same value is no change");
  settings.set("count", 45);
  t.deepEqual(changed, ["flag", "count"]);
  const again = new Settings(new SafeStorage(flash.inner), KEYS, DEFAULTS);
  t.is(again.get("flag"), false);
  t.is(again.get("count"), 45);
  t.is(again.get("label"), "x");
});

test("a stored value of the wrong shape falls back to the default", (t) => {
  const flash = new MemoryStorage();
  const journal = new SafeStorage(flash);
  journal.write("flag", "maybe");
  journal.write("count", "lots");
  const settings = new Settings(journal, KEYS, DEFAULTS);
  t.is(settings.get("flag"), true);
  t.is(settings.get("count"), 30);
  t.is(settings.get("label"), "x");
});

test("answering Privet requests never reads storage", async (t) => {
  const flash = new CountingStorage();
  const tcp = new FakeTcp();
  const clock = new FakeClock();
  const printer = new Printer({ clock, random: new SeededRandom(2), storage: flash, tcp, resolver: fakeResolver(), log: () => {}, engine: new NullEngine(OFFICE_CAPABILITIES) }, { port: 8631 });
  await printer.start();
  const bootReads = flash.reads;
  const token = printer.tokens.issue();
  for (const target of ["/privet/info", "/privet/capabilities", "/privet/printer/jobstate?job_id=x"]) {
    const c = tcp.accept();
    c.send(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Privet-Token: ${token}\r\n\r\n`);
    t.is(parseResponses(c.output())[0].status, 200, target);
  }
  t.is(flash.reads, bootReads);
  printer.http.stop();
});

test("on the setup access point too, neither the captive portal nor Privet reads storage per request", async (t) => {
  const { SimulatedWifi } = await import("../hosts/node/network.js");
  const flash = new CountingStorage();
  const tcp = new FakeTcp();
  const printer = new Printer({ clock: new FakeClock(), random: new SeededRandom(3), storage: flash, tcp, resolver: fakeResolver(), log: () => {}, engine: new NullEngine(OFFICE_CAPABILITIES), network: new SimulatedWifi() }, { port: 8631 });
  await printer.start();
  const bootReads = flash.reads;
  const token = printer.tokens.issue();
  const probe = tcp.accept();
  probe.send("GET /generate_204 HTTP/1.1\r\nHost: connectivitycheck.gstatic.com\r\n\r\n");
  t.is(parseResponses(probe.output())[0].status, 302);
  const own = tcp.accept();
  own.send(`GET /privet/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Privet-Token: ${token}\r\n\r\n`);
  t.is(parseResponses(own.output())[0].status, 200);
  t.is(flash.reads, bootReads);
  printer.http.stop();
});

function fakeExchange(pathName: string) {
  const sent: Array<{ status: number; body: string }> = [];
  const request = { path: pathName } as HttpRequest;
  const response = { send: (status: number, body: string) => sent.push({ status, body }) } as unknown as HttpResponse;
  return { request, response, sent };
}

test("the router sends each path to the front end that owns it, longest prefix first", (t) => {
  const router = new HttpRouter();
  const hits: string[] = [];
  router.mount("/privet/", (r) => hits.push(`privet ${r.path}`));
  router.mount("/ipp/print", (r) => hits.push(`ipp ${r.path}`));
  router.mount("/", (r) => hits.push(`web ${r.path}`));
  for (const p of ["/privet/info", "/privet", "/ipp/print", "/ipp/printer", "/", "/status"]) {
    const { request, response } = fakeExchange(p);
    router.handle(request, response);
  }
  t.deepEqual(hits, ["privet /privet/info", "privet /privet", "ipp /ipp/print", "web /ipp/printer", "web /", "web /status"]);
  t.throws(() => router.mount("/privet/", () => {}), { message: /twice/ });
  t.throws(() => router.mount("privet", () => {}), { message: /start with/ });
});

test("a path no front end owns is 404 with a reason", (t) => {
  const router = new HttpRouter();
  router.mount("/privet/", () => t.fail());
  const { request, response, sent } = fakeExchange("/favicon.ico");
  router.handle(request, response);
  t.is(sent[0].status, 404);
  t.regex(sent[0].body, /favicon\.ico is not available/);
  router.unmount("/privet/");
  const second = fakeExchange("/privet/info");
  router.handle(second.request, second.response);
  t.is(second.sent[0].status, 404);
});
