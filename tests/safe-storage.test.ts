import test from "ava";
import { crc32 as nodeCrc32 } from "node:zlib";
import { SafeStorage, crc32 } from "../modules/storage/safe-storage.js";
import { MemoryStorage } from "../hosts/node/hal.js";
import { SeededRandom } from "./helpers/seeded-random.js";
import { TearingStorage } from "./helpers/tearing-storage.js";


test("crc32 is the standard one", (t) => {
  const random = new SeededRandom(1);
  for (let i = 0; i < 200; i++) {
    const bytes = random.bytes(random.below(300));
    t.is(crc32(bytes), nodeCrc32(bytes) >>> 0);
  }
  t.is(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
});

test("values round-trip and the newest write wins", (t) => {
  const safe = new SafeStorage(new MemoryStorage());
  t.is(safe.read("serial"), undefined);
  for (const value of ["one", "", "twø: with colons:and more", "x".repeat(3000)]) {
    safe.write("serial", value);
    t.is(safe.read("serial"), value);
  }
  safe.remove("serial");
  t.is(safe.read("serial"), undefined);
});

test("power lost at any point of a write leaves the old value or the new one, never anything else", (t) => {
  const random = new SeededRandom(7);
  for (let round = 0; round < 2000; round++) {
    const flash = new TearingStorage();
    const safe = new SafeStorage(flash);
    const before = `settings-${round}-${"v".repeat(random.below(40))}`;
    safe.write("settings", before);
    if (random.below(2)) safe.write("settings", before); // either slot may be the older one
    const after = `settings-${round + 1}-${"w".repeat(random.below(40))}`;
    flash.tearNext = (value) => {
      const kind = random.below(3);
      if (kind === 0) return undefined; // the slot was erased, nothing written yet
      if (kind === 1) return value.slice(0, random.below(value.length)); // a prefix
      const bytes = value.split(""); // a flipped character
      bytes[random.below(bytes.length)] = "#";
      return bytes.join("");
    };
    t.throws(() => safe.write("settings", after));
    const seen = safe.read("settings");
    if (seen !== before && seen !== after) return t.fail(`round ${round}: read ${JSON.stringify(seen)}`);
    // And the device goes on: the next write lands whole.
    safe.write("settings", after);
    if (safe.read("settings") !== after) return t.fail(`round ${round}: next write lost`);
  }
  t.pass();
});
