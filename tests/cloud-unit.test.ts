import test from "ava";
import { Cloud, type CloudHost } from "../modules/cloud/cloud.js";
import { CredentialStore } from "../modules/cloud/credentials.js";
import { DEFAULT_LOCAL_SETTINGS, mergeLocalSettings, type LocalSettings } from "../modules/cloud/local-settings.js";
import { RegistrationMachine, type RegisterAnswer } from "../modules/cloud/registration.js";
import { AccessTokens } from "../modules/cloud/tokens.js";
import type { IndicatorMode, Panel } from "../modules/hal/panel.js";
import { SafeStorage } from "../modules/storage/safe-storage.js";
import { MemoryStorage } from "../hosts/node/hal.js";
import { FakeClock } from "./helpers/fake-clock.js";
import { FakeCloudApi, settle } from "./helpers/fake-cloud-api.js";
import { SeededRandom } from "./helpers/seeded-random.js";
import { TearingStorage } from "./helpers/tearing-storage.js";

// The timing rules of registration and sync on a fake clock: the 60 s
// confirmation window, polls at least 5 s apart, the 24-32 h /printer check,
// access tokens refreshed before they expire; and the credentials' journal
// under power cuts.

class QuietPanel implements Panel {
  mode: IndicatorMode = "off";
  onButton(): void {}
  indicator(mode: IndicatorMode): void { this.mode = mode; }
  message(): void {}
}

function machine(clock: FakeClock, api: FakeCloudApi, done: RegisterAnswer[] = []) {
  const panel = new QuietPanel();
  const m = new RegistrationMachine({
    clock, api: api.asApi(), panel, describe: () => [["name", "P"]], wallClockSet: () => true,
    completed: (result) => done.push({ id: result.registration.printerId }),
  });
  return { m, panel };
}

test("the confirmation window is exactly 60 s", async (t) => {
  const clock = new FakeClock();
  const api = new FakeCloudApi(clock);
  const { m, panel } = machine(clock, api);
  t.is((await m.handle("start", "a@x")).action, "start");
  t.is(panel.mode, "blink");
  clock.advance(59_999);
  t.is((await m.handle("getClaimToken", "a@x")).error, "pending_user_action");
  clock.advance(1);
  t.is((await m.handle("getClaimToken", "a@x")).error, "confirmation_timeout");
  t.is(panel.mode, "off");
  t.false(m.confirm(), "OK after the window is ignored");
  t.deepEqual(api.calls, [], "nothing went to the service");
});

test("OK just in time registers; complete polls at least 5 s apart until the claim", async (t) => {
  const clock = new FakeClock();
  const api = new FakeCloudApi(clock);
  api.pollsBeforeClaim = 4;
  const done: RegisterAnswer[] = [];
  const { m } = machine(clock, api, done);
  await m.handle("start", "a@x");
  clock.advance(59_999);
  t.true(m.confirm());
  await settle();
  const claim = await m.handle("getClaimToken", "a@x");
  t.is(claim.token, "tok");
  t.is(claim.claim_url, "https://svc/claim?t=tok");
  t.is(claim.automated_claim_url, "https://svc/confirm?token=tok");
  const completing = m.handle("complete", "a@x");
  for (let i = 0; i < 30; i++) { await settle(); clock.advance(1000); }
  const answer = await completing;
  t.deepEqual(answer, { action: "complete", user: "a@x", device_id: "p-1" });
  const polls = api.at("getauthcode");
  t.is(polls.length, 5);
  for (let i = 1; i < polls.length; i++) t.true(polls[i] - polls[i - 1] >= 5000, `poll ${i} came ${polls[i] - polls[i - 1]} ms after the one before`);
  t.deepEqual(done, [{ id: "p-1" }]);
  t.is(m.phase, "idle");
});

test("complete gives up when token_duration runs out", async (t) => {
  const clock = new FakeClock();
  const api = new FakeCloudApi(clock);
  api.registration = { ...api.registration, tokenDuration: 30 };
  api.pollsBeforeClaim = 1000;
  const { m } = machine(clock, api);
  await m.handle("start", "a@x");
  m.confirm();
  await settle();
  const completing = m.handle("complete", "a@x");
  for (let i = 0; i < 40; i++) { await settle(); clock.advance(1000); }
  t.is((await completing).error, "confirmation_timeout");
  t.true(api.at("getauthcode").length <= 6, "at most one poll per 5 s of the 30 s");
  // A claim token handed out after its registration token expired is no use either.
  await m.handle("start", "a@x");
  m.confirm();
  await settle();
  t.truthy((await m.handle("getClaimToken", "a@x")).token);
  clock.advance(30_000);
  t.is((await m.handle("getClaimToken", "a@x")).error, "confirmation_timeout");
});

function cloudWith(clock: FakeClock, api: FakeCloudApi, storage = new SafeStorage(new MemoryStorage()), seed = 1) {
  let settings: LocalSettings = { ...DEFAULT_LOCAL_SETTINGS };
  const ids: string[] = [];
  const host: CloudHost = {
    describe: () => [],
    localSettings: () => settings,
    applyLocalSettings: (s) => { settings = s; },
    idChanged: (id) => ids.push(id),
    connectionChanged: () => {},
  };
  const cloud = new Cloud({ api: api.asApi(), clock, random: new SeededRandom(seed), storage, log: () => {}, panel: new QuietPanel(), host });
  return { cloud, ids, settings: () => settings };
}

function registeredStorage(): SafeStorage {
  const storage = new SafeStorage(new MemoryStorage());
  new CredentialStore(storage).save({ printerId: "p-9", refreshToken: "r", xmppJid: "j", user: "a@x" });
  return storage;
}

test("a registered printer checks /printer at startup and then every 24-32 h, randomized", async (t) => {
  const gaps: number[] = [];
  for (let seed = 1; seed <= 40; seed++) {
    const clock = new FakeClock();
    const api = new FakeCloudApi(clock);
    const { cloud } = cloudWith(clock, api, registeredStorage(), seed);
    cloud.start();
    await settle();
    t.deepEqual(api.at("printer"), [0]);
    const gap = cloud.nextSyncAt - clock.now;
    gaps.push(gap);
    clock.advance(gap - 1);
    await settle();
    t.is(api.at("printer").length, 1);
    clock.advance(1);
    await settle();
    t.is(api.at("printer").length, 2);
    cloud.stop();
  }
  t.true(gaps.every((g) => g >= 24 * 3600_000 && g < 32 * 3600_000), JSON.stringify(gaps));
  t.true(Math.max(...gaps) - Math.min(...gaps) > 3600_000, "spread over the window");
});

test("offline at the check: last known settings kept, retried in 5 minutes", async (t) => {
  const clock = new FakeClock();
  const api = new FakeCloudApi(clock);
  api.printerAnswer = { ok: false, failure: { kind: "offline", api: "/printer", message: "ECONNREFUSED" } };
  const { cloud, settings } = cloudWith(clock, api, registeredStorage());
  cloud.start();
  await settle();
  t.deepEqual(settings(), DEFAULT_LOCAL_SETTINGS);
  t.true(cloud.registered);
  t.is(cloud.nextSyncAt, 5 * 60_000);
});

test("pending settings are applied and confirmed with current only, never pending", async (t) => {
  const clock = new FakeClock();
  const api = new FakeCloudApi(clock);
  api.printerAnswer = { ok: true, value: { current: DEFAULT_LOCAL_SETTINGS, pending: { "printer/local_printing_enabled": "false", xmpp_timeout_value: "600", unknown: 1 } } };
  const { cloud, settings } = cloudWith(clock, api, registeredStorage());
  cloud.start();
  await settle();
  t.false(settings()["printer/local_printing_enabled"]);
  t.is(settings().xmpp_timeout_value, 600);
  const update = api.calls.find((c) => c.api.startsWith("update"))!.api;
  t.is(update, `update local_settings=${JSON.stringify({ current: settings() })}`);
  t.false(update.includes("pending"));
});

test("merging local settings takes string forms and ignores what the device lacks", (t) => {
  const merged = mergeLocalSettings(DEFAULT_LOCAL_SETTINGS, { local_discovery: "false", "printer/conversion_printing_enabled": true, xmpp_timeout_value: 5, access_token_enabled: "maybe" });
  t.deepEqual(merged, { ...DEFAULT_LOCAL_SETTINGS, local_discovery: false, xmpp_timeout_value: 60 });
  t.deepEqual(mergeLocalSettings(DEFAULT_LOCAL_SETTINGS, "nonsense"), DEFAULT_LOCAL_SETTINGS);
});

test("both deletion answers and a revoked refresh token erase the credentials", async (t) => {
  for (const answer of ["deleted", "revoked"] as const) {
    const clock = new FakeClock();
    const api = new FakeCloudApi(clock);
    if (answer === "deleted") api.printerAnswer = { ok: true, value: undefined };
    else api.refreshAnswer = { ok: false, failure: { kind: "revoked", api: "/token", message: "invalid_grant" } };
    const storage = registeredStorage();
    const { cloud, ids } = cloudWith(clock, api, storage);
    t.is(cloud.printerId, "p-9");
    cloud.start();
    await settle();
    t.false(cloud.registered, answer);
    t.deepEqual(ids, [""]);
    t.is(new CredentialStore(storage).load(), undefined);
  }
});

test("the access token is refreshed before it expires, and refreshes are shared", async (t) => {
  const clock = new FakeClock();
  const api = new FakeCloudApi(clock);
  const tokens = new AccessTokens(api.asApi(), clock, "refresh");
  tokens.seed("first", 3600);
  clock.advance(3300_000 - 1);
  t.deepEqual(await tokens.get(), { ok: true, value: "first" });
  t.is(api.at("token:refresh").length, 0);
  clock.advance(1);
  const [a, b] = await Promise.all([tokens.get(), tokens.get()]);
  t.deepEqual(a, b);
  t.not((a as { value: string }).value, "first");
  t.deepEqual(api.at("token:refresh"), [3300_000], "five minutes before expiry, once");
  // A short-lived token is refreshed with a fifth of its life left.
  tokens.seed("short", 100);
  clock.advance(79_999);
  t.is((await tokens.get() as { value: string }).value, "short");
  clock.advance(1);
  t.not((await tokens.get() as { value: string }).value, "short");
});


test("a power cut at any byte of saving or erasing credentials leaves the old registration or the new one, never half", (t) => {
  const old = { printerId: "old-id", refreshToken: "1/old", xmppJid: "old@robot", user: "a@x" };
  const fresh = { printerId: "new-id", refreshToken: "1/new", xmppJid: "new@robot", user: "b@x" };
  let cuts = 0;
  for (const before of [undefined, old] as const) {
    for (const op of ["save", "erase"] as const) {
      // Every prefix of the value being written, and a slot erased before the write.
      for (let cut = -1; ; cut++) {
        const flash = new TearingStorage();
        const store = new CredentialStore(new SafeStorage(flash));
        if (before) { store.save(before); if (cut % 2 === 0) store.save(before); }
        let length = 0;
        flash.tearNext = (value) => { length = value.length; return cut < 0 ? undefined : value.slice(0, cut); };
        t.throws(() => (op === "save" ? store.save(fresh) : store.erase()));
        cuts++;
        // After the reboot: a new store reads what the flash holds.
        const seen = new CredentialStore(new SafeStorage(flash)).load();
        const allowed = op === "save" ? [before, fresh] : [before, undefined];
        if (!allowed.some((a) => JSON.stringify(a) === JSON.stringify(seen))) return t.fail(`${op} from ${before?.printerId} cut at ${cut}: read ${JSON.stringify(seen)}`);
        if (cut >= length) break;
      }
    }
  }
  t.true(cuts > 100);
});

test("cloud/ and privet/ do not know each other: the Printer wires them", async (t) => {
  const fs = await import("node:fs");
  const path = await import("node:path");
  const { fileURLToPath } = await import("node:url");
  const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "modules");
  const problems: string[] = [];
  for (const [folder, other] of [["cloud", "privet"], ["privet", "cloud"]]) {
    for (const file of fs.readdirSync(path.join(root, folder)).filter((f: string) => f.endsWith(".ts"))) {
      if (fs.readFileSync(path.join(root, folder, file), "utf8").includes(`from "../${other}/`)) problems.push(`${folder}/${file} imports ${other}/`);
    }
  }
  t.deepEqual(problems, []);
});
