import test from "./harness.js";
import { JobStore } from "../../modules/jobs/store.js";
import { JobLifecycle } from "../../modules/print/lifecycle.js";
import type { DocumentConsumer, DocumentSource } from "../../modules/print/source.js";
import { Spooler, type ReceiveResult } from "../../modules/print/spooler.js";
import { HttpRouter } from "../../modules/http/router.js";
import { Settings } from "../../modules/device/settings.js";
import { SafeStorage } from "../../modules/storage/safe-storage.js";
import type { Storage } from "../../modules/hal/storage.js";
import type { HttpRequest, HttpResponse } from "../../modules/http/server.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { SeededRandom } from "../helpers/seeded-random.js";
import { TestEngine } from "../helpers/test-engine.js";
import { encodeDocument, testPage } from "../helpers/pwg.js";

// The print layer on XS: a document from a plain source (no HTTP), through the
// spooler and the lifecycle, with the engine filling up on the way.

test("the spooler on XS: a non-HTTP source, backpressure, lifecycle events", (t) => {
  const clock = new FakeClock();
  const engine = new TestEngine();
  engine.capacity = 9;
  const lifecycle = new JobLifecycle(new JobStore(clock, new SeededRandom(1)), () => {});
  const seen: string[] = [];
  lifecycle.listen((e) => seen.push(e.to));
  const spooler = new Spooler(engine, lifecycle, clock, () => {});
  const doc = encodeDocument([testPage(120, 50, "sgray_8", 3)]);
  let consumer: DocumentConsumer | undefined;
  let offset = 0, paused = false, pauses = 0;
  const source: DocumentSource = {
    declaredLength: doc.length,
    readBody(c) { consumer = c; },
    pause() { paused = true; pauses++; },
    resume() { paused = false; },
  };
  const results: ReceiveResult[] = [];
  const job = lifecycle.createQueued();
  spooler.start(job, source, (r) => results.push(r));
  for (let i = 0; i < 1000 && offset <= doc.length; i++) {
    if (paused) { engine.release(); clock.advance(1); continue; }
    if (offset === doc.length) { offset++; consumer!.end(); break; }
    const piece = doc.subarray(offset, offset + 300);
    offset += piece.length;
    consumer!.data(piece);
  }
  for (let i = 0; i < 100 && job.state !== "done"; i++) { engine.release(); clock.advance(1); }
  t.is(job.state, "done");
  t.deepEqual(results, [{ ok: true }]);
  t.true(pauses > 0, "the engine filled up");
  t.is(engine.pages[0].rows.length, 50);
  t.deepEqual(seen, ["queued", "in_progress", "done"]);
});

test("settings and the router on XS", (t) => {
  const values = new Map<string, string>();
  const flash: Storage = { read: (k) => values.get(k), write: (k, v) => { values.set(k, v); }, remove: (k) => { values.delete(k); } };
  const settings = new Settings<{ on: boolean; n: number }>(new SafeStorage(flash), { on: "on", n: "n" }, { on: true, n: 3 });
  settings.set("on", false);
  settings.set("n", 9);
  const again = new Settings(new SafeStorage(flash), { on: "on", n: "n" }, { on: true, n: 3 });
  t.is(again.get("on"), false);
  t.is(again.get("n"), 9);
  const router = new HttpRouter();
  const hits: string[] = [];
  router.mount("/privet/", (r) => hits.push(r.path));
  const sent: number[] = [];
  const response = { send: (status: number) => sent.push(status) } as unknown as HttpResponse;
  router.handle({ path: "/privet/info" } as HttpRequest, response);
  router.handle({ path: "/nothing" } as HttpRequest, response);
  t.deepEqual(hits, ["/privet/info"]);
  t.deepEqual(sent, [404]);
});

export { runAll } from "./harness.js";
