import test from "ava";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { JOURNAL_KEYS, MAX_JOURNAL_KEY } from "../modules/device/keys.js";
import { deviceSettings } from "../modules/device/settings.js";
import { DeviceState } from "../modules/device/state.js";
import { FactoryReset } from "../modules/device/reset.js";
import { SafeStorage } from "../modules/storage/safe-storage.js";
import { MemoryStorage } from "../hosts/node/hal.js";
import { FakeClock } from "./helpers/fake-clock.js";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

// The ESP32's NVS takes keys of at most 15 characters.
const NVS_MAX_KEY = 15;

// What the journal writes to the board's store for each key of the registry.
function storedKeys(keys: string[]): string[] {
  const seen = new Set<string>();
  const inner = new MemoryStorage();
  const recording = { read: (k: string) => inner.read(k), write: (k: string, v: string) => { seen.add(k); inner.write(k, v); }, remove: (k: string) => { seen.add(k); inner.remove(k); } };
  const journal = new SafeStorage(recording);
  for (const key of keys) { journal.write(key, "x"); journal.write(key, "y"); }
  return [...seen];
}

function registryProblems(keys: Record<string, string>): string[] {
  const problems: string[] = [];
  const owners = new Map<string, string>();
  for (const [owner, key] of Object.entries(keys)) {
    if (key.length > MAX_JOURNAL_KEY) problems.push(`${owner}: "${key}" has ${key.length} characters; at most ${MAX_JOURNAL_KEY}`);
    const other = owners.get(key);
    if (other !== undefined) problems.push(`${owner} and ${other} both use "${key}"`);
    owners.set(key, owner);
  }
  for (const stored of storedKeys(Object.values(keys))) if (stored.length > NVS_MAX_KEY) problems.push(`"${stored}" is longer than NVS takes`);
  return problems;
}

test("every journal key fits the ESP32's NVS with the journal's slot suffix, and no two owners share one", (t) => {
  t.deepEqual(registryProblems(JOURNAL_KEYS), []);
  t.true(storedKeys(["serial"]).includes("serial.a"));
});

test("the registry check fails for a long key and for a collision", (t) => {
  t.deepEqual(registryProblems({ a: "fourteen-chars", b: "x", c: "x" }), [
    `a: "fourteen-chars" has 14 characters; at most ${MAX_JOURNAL_KEY}`,
    `c and b both use "x"`,
    `"fourteen-chars.a" is longer than NVS takes`,
    `"fourteen-chars.b" is longer than NVS takes`,
  ]);
});

test("no module names a journal key of its own: storage is read and written with the registry's keys", (t) => {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".ts")) {
        fs.readFileSync(full, "utf8").split("\n").forEach((line, i) => {
          if (/storage\??\.(read|write|remove)\(\s*["'`]/.test(line) || /_KEY\s*=\s*["'`]/.test(line)) found.push(`${path.relative(root, full)}:${i + 1}: ${line.trim()}`);
        });
      }
    }
  };
  walk(path.join(root, "modules"));
  t.deepEqual(found, []);
});

test("the settings table: configured name as default, values kept across a restart, a reset forgets them all", (t) => {
  const storage = new SafeStorage(new MemoryStorage());
  const settings = deviceSettings(storage, { name: "Configured", description: "" });
  t.is(settings.get("name"), "Configured");
  t.true(settings.get("localDiscovery"));
  const heard: string[] = [];
  settings.onChange((name) => heard.push(name));
  settings.set("name", "Front desk");
  settings.set("xmppTimeout", 600);
  const again = deviceSettings(storage, { name: "Configured", description: "" });
  t.is(again.get("name"), "Front desk");
  t.is(again.get("xmppTimeout"), 600);
  const reset = new FactoryReset(again, () => {});
  const parts: string[] = [];
  reset.add("cloud", () => parts.push("cloud"));
  reset.add("broken", () => { throw new Error("no"); });
  reset.add("wifi", () => parts.push("wifi"));
  reset.run();
  t.deepEqual(parts, ["cloud", "wifi"]);
  t.is(again.get("name"), "Configured");
  t.is(deviceSettings(storage, { name: "Other", description: "" }).get("name"), "Other", "nothing of the owner's stays in the journal");
  t.deepEqual(heard, ["name", "xmppTimeout"]);
});

test("the device state changes once per change, with the time of the change", (t) => {
  const clock = new FakeClock();
  const state = new DeviceState(clock);
  let changes = 0;
  state.onChange(() => changes++);
  clock.advance(1000);
  state.update(undefined, true, undefined);
  t.is(state.activity, "processing");
  t.is(state.since, clock.monotonic());
  state.update(undefined, true, undefined);
  t.is(changes, 1);
  clock.advance(1000);
  state.update({ code: "media-jam", description: "jammed" }, true, undefined);
  t.is(state.activity, "stopped");
  t.is(changes, 2);
  t.is(state.since, clock.monotonic());
});
