import test, { runAll as runRegistered } from "./harness.js";
import { Cloud, type CloudHost } from "../../modules/cloud/cloud.js";
import { CredentialStore } from "../../modules/cloud/credentials.js";
import { DEFAULT_LOCAL_SETTINGS, type LocalSettings } from "../../modules/cloud/local-settings.js";
import { RegistrationMachine, type RegisterAnswer } from "../../modules/cloud/registration.js";
import type { IndicatorMode, Panel } from "../../modules/hal/panel.js";
import type { Storage } from "../../modules/hal/storage.js";
import { SafeStorage } from "../../modules/storage/safe-storage.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { FakeCloudApi, settle } from "../helpers/fake-cloud-api.js";
import { SeededRandom } from "../helpers/seeded-random.js";

// The registration state machine and the cloud connection inside XS, with
// a fake clock and a scripted service: proof that modules/cloud needs
// nothing but ECMAScript and the HAL. As in http-client.xstest.ts, the
// scenarios run first (promise jobs drain between turns) and the registered
// tests check what they recorded.

class MapStorage implements Storage {
  readonly values = new Map<string, string>();
  read(key: string) { return this.values.get(key); }
  write(key: string, value: string) { this.values.set(key, value); }
  remove(key: string) { this.values.delete(key); }
}

class Lamp implements Panel {
  modes: IndicatorMode[] = [];
  onButton(): void {}
  indicator(mode: IndicatorMode): void { this.modes.push(mode); }
  message(): void {}
}

const results: Record<string, unknown> = {};

async function fullRegistration(): Promise<void> {
  const clock = new FakeClock();
  const api = new FakeCloudApi(clock);
  api.pollsBeforeClaim = 2;
  const lamp = new Lamp();
  const done: string[] = [];
  const m = new RegistrationMachine({
    clock, api: api.asApi(), panel: lamp, describe: () => [], wallClockSet: () => true,
    completed: (r) => done.push(r.registration.printerId),
  });
  const answers: RegisterAnswer[] = [];
  answers.push(await m.handle("start", "a@x"));
  answers.push(await m.handle("start", "b@x"));
  answers.push(await m.handle("getClaimToken", "a@x"));
  m.confirm();
  await settle();
  answers.push(await m.handle("getClaimToken", "a@x"));
  const completing = m.handle("complete", "a@x");
  await settle();
  answers.push(await m.handle("getClaimToken", "a@x"));
  for (let i = 0; i < 15; i++) { clock.advance(1000); await settle(); }
  answers.push(await completing);
  results.full = answers.map((a) => a.error ?? a.action);
  results.deviceId = answers[answers.length - 1].device_id;
  results.polls = api.at("getauthcode");
  results.lamp = lamp.modes;
  results.done = done;
}

async function timeout(): Promise<void> {
  const clock = new FakeClock();
  const api = new FakeCloudApi(clock);
  const m = new RegistrationMachine({ clock, api: api.asApi(), panel: new Lamp(), describe: () => [], wallClockSet: () => true, completed: () => {} });
  await m.handle("start", "a@x");
  clock.advance(59_999);
  const before = (await m.handle("getClaimToken", "a@x")).error;
  clock.advance(1);
  const after = (await m.handle("getClaimToken", "a@x")).error;
  results.timeout = [before, after];
  results.unsetClock = await unsetClock();
}

async function unsetClock(): Promise<unknown> {
  const clock = new FakeClock();
  const api = new FakeCloudApi(clock);
  const m = new RegistrationMachine({ clock, api: api.asApi(), panel: new Lamp(), describe: () => [], wallClockSet: () => false, completed: () => {} });
  return (await m.handle("start", "a@x")).error;
}

async function deletion(): Promise<void> {
  const clock = new FakeClock();
  const api = new FakeCloudApi(clock);
  api.printerAnswer = { ok: true, value: undefined };
  const storage = new SafeStorage(new MapStorage());
  new CredentialStore(storage).save({ printerId: "p-9", refreshToken: "r", xmppJid: "j", user: "a@x" });
  let settings: LocalSettings = { ...DEFAULT_LOCAL_SETTINGS, local_discovery: false };
  const ids: string[] = [];
  const host: CloudHost = {
    describe: () => [], localSettings: () => settings, applyLocalSettings: (s) => { settings = s; },
    idChanged: (id) => ids.push(id), connectionChanged: () => {},
  };
  const cloud = new Cloud({ api: api.asApi(), clock, random: new SeededRandom(5), storage, log: () => {}, panel: new Lamp(), host });
  results.registeredBefore = cloud.registered;
  cloud.start();
  await settle();
  results.deletion = { registered: cloud.registered, ids, discovery: settings.local_discovery, stored: new CredentialStore(storage).load() ?? null };
  cloud.stop();
}

test("the whole registration on XS: busy for another user, pending until OK, busy while completing, polls 5 s apart", (t) => {
  t.deepEqual(results.full, ["start", "device_busy", "pending_user_action", "getClaimToken", "device_busy", "complete"]);
  t.is(results.deviceId, "p-1");
  t.deepEqual(results.polls, [0, 5000, 10000]);
  t.deepEqual(results.lamp, ["off", "blink", "on", "on", "off"]);
  t.deepEqual(results.done, ["p-1"]);
});

test("confirmation_timeout at exactly 60 s, device_config_error without a wall clock, on XS", (t) => {
  t.deepEqual(results.timeout, ["pending_user_action", "confirmation_timeout"]);
  t.is(results.unsetClock, "device_config_error");
});

test("a deleted printer erases its credentials and returns to the defaults, on XS", (t) => {
  t.true(results.registeredBefore);
  t.deepEqual(results.deletion, { registered: false, ids: [""], discovery: true, stored: null });
});

async function stuckAfter(turns: number): Promise<never> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
  throw new Error(`still pending after ${turns} promise turns`);
}

export function runAll(): void {
  const scenarios = [fullRegistration, timeout, deletion];
  let chain = Promise.resolve();
  for (const scenario of scenarios) {
    chain = chain.then(() => Promise.race([scenario(), stuckAfter(5000)])).catch((error) => { results[`${scenario.name} failed`] = String(error); });
  }
  chain.then(() => {
    test("every cloud scenario ran to its end", (t) => {
      t.deepEqual(Object.keys(results).filter((k) => k.endsWith("failed")).map((k) => `${k}: ${results[k]}`), []);
    });
    runRegistered();
  });
}
