import test from "ava";
import { MemoryStorage } from "../hosts/node/hal.js";
import { capsHash } from "../modules/cloud/cloud.js";
import { cloudDeviceDescription } from "../modules/privet/cdd.js";
import { OFFICE_CAPABILITIES } from "../modules/print/office-capabilities.js";
import { startTestCloud } from "./helpers/cloud.js";
import { registerPrinter, startCloudPrinter, until } from "./helpers/cloud-printer.js";
import { SafeStorage } from "../modules/storage/safe-storage.js";
import { TestEngine } from "./helpers/test-engine.js";

// Seed 001: the printer keeps the service's copy of its CDD in step, by hash.

test("capsHash: SHA-1 hex of the CDD text", (t) => {
  t.is(capsHash("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
});

test("registration sends the CDD's hash; a restart with the same engine uploads nothing; an engine changed between two starts has its CDD uploaded", async (t) => {
  const cloud = await startTestCloud({ xmpp: { port: 0 } });
  t.teardown(() => cloud.service.close());
  const storage = new MemoryStorage();
  const xmpp = { host: "127.0.0.1", port: cloud.service.xmpp!.port, transport: "plain" as const, allowPlainText: true, backoffInitialMs: 100 };
  const engine = new TestEngine();
  const first = await startCloudPrinter({ url: cloud.service.baseUrl, storage, engine, cloud: { xmpp } });
  t.teardown(() => first.stop());
  const { deviceId } = await registerPrinter(cloud, first);
  const record = () => cloud.service.store.state.printers[deviceId];
  const officeCdd = JSON.stringify(cloudDeviceDescription(OFFICE_CAPABILITIES));
  t.is(record().capsHash, capsHash(officeCdd));
  await until("online", () => first.printer.cloud!.connectionState === "online", 10_000);
  await first.stop();

  const again = await startCloudPrinter({ url: cloud.service.baseUrl, storage, engine: new TestEngine(), cloud: { xmpp } });
  t.teardown(() => again.stop());
  await until("online", () => again.printer.cloud!.connectionState === "online", 10_000);
  await new Promise((r) => setTimeout(r, 200));
  t.false(again.logs.some((l) => l.includes("uploading them")), "same engine, nothing to upload");
  await again.stop();

  // A monochrome engine at 203 dpi on a roll: a different CDD.
  const thermal = new TestEngine();
  thermal.capabilities = {
    colorSpaces: ["black_1"], resolutions: [{ x: 203, y: 203 }],
    media: [{ name: "CUSTOM_58MM", widthMicrons: 58_000, heightMicrons: 200_000 }], maxWidth: 464, maxHeight: 4000,
  };
  const changed = await startCloudPrinter({ url: cloud.service.baseUrl, storage, engine: thermal, cloud: { xmpp } });
  t.teardown(() => changed.stop());
  const thermalCdd = JSON.stringify(cloudDeviceDescription(thermal.capabilities));
  await until("the new CDD is at the service", () => record().capsHash === capsHash(thermalCdd), 10_000);
  t.deepEqual(record().capabilities, JSON.parse(thermalCdd));
  t.true(changed.logs.some((l) => l.includes("uploading them")));
  // Kept for a service that shows no hash, once the upload's answer is in.
  await until("the hash is kept", () => new SafeStorage(storage).read("capshash") === capsHash(thermalCdd), 5000);
});
