import test from "ava";
import { jobStateDocument } from "../modules/jobs/job.js";
import { JobStore } from "../modules/jobs/store.js";
import { FakeClock } from "./helpers/fake-clock.js";
import { SeededRandom } from "./helpers/seeded-random.js";

const MIN = 60_000;

function store() {
  const clock = new FakeClock();
  return { clock, jobs: new JobStore(clock, new SeededRandom(3)) };
}

test("createjob takes a free slot, and with all three taken replaces the oldest job that is not printing", (t) => {
  const { clock, jobs } = store();
  const a = jobs.create({})!; clock.advance(1000);
  const b = jobs.create({})!; clock.advance(1000);
  const c = jobs.create({})!; clock.advance(1000);
  t.is(jobs.slotCount, 3);
  t.is(new Set([a.id, b.id, c.id]).size, 3, "ids differ");
  a.state = "in_progress"; // a is printing: it must not be replaced
  const d = jobs.create({})!;
  t.truthy(d);
  t.is(jobs.draft(b.id), undefined, "b, the oldest non-printing job, was replaced");
  t.is(jobs.draft(c.id), c);
  t.is(jobs.find(a.id), a);
  t.is(jobs.slotCount, 3);
});

test("when every slot is printing, createjob has no room", (t) => {
  const { jobs } = store();
  for (let i = 0; i < 3; i++) jobs.create({})!.state = "in_progress";
  t.is(jobs.create({}), undefined);
});

test("a draft lives at least five minutes, then its slot is free and its id invalid", (t) => {
  const { clock, jobs } = store();
  const job = jobs.create({})!;
  clock.advance(5 * MIN);
  t.is(jobs.draft(job.id), job, "still there after five minutes");
  t.true(jobStateDocument(job, clock.now).expires_in as number > 0);
  clock.advance(jobs.options.draftLifetimeMs);
  t.is(jobs.draft(job.id), undefined);
  t.is(jobs.find(job.id), undefined);
  jobs.create({}); jobs.create({}); jobs.create({});
  t.is(jobs.slotCount, 3, "the expired slot was reused");
});

test("finished jobs go to a ring of ten, oldest out first, each kept at least five minutes", (t) => {
  const { clock, jobs } = store();
  const finished = [];
  for (let i = 0; i < 11; i++) {
    const job = jobs.createUnslotted();
    job.state = "done";
    jobs.finished(job);
    finished.push(job);
    clock.advance(1000);
  }
  t.is(jobs.find(finished[0].id), undefined, "the 11th pushed out the first");
  for (const job of finished.slice(1)) t.is(jobs.find(job.id), job);
  clock.advance(5 * MIN);
  t.is(jobs.find(finished[10].id), finished[10], "kept five minutes");
  clock.advance(jobs.options.statusLifetimeMs);
  t.is(jobs.find(finished[10].id), undefined, "then dropped");
});

test("a finished slotted job frees its slot", (t) => {
  const { jobs } = store();
  const job = jobs.create({})!;
  job.state = "in_progress";
  jobs.started(job);
  job.state = "done";
  jobs.finished(job);
  t.is(jobs.slotCount, 0);
  t.is(jobs.find(job.id)!.state, "done");
  t.is(jobs.draft(job.id), undefined, "a used job cannot take a second document");
});

test("the jobstate document follows Privet 5.3 with a PrintJobState", (t) => {
  const { clock, jobs } = store();
  const job = jobs.createUnslotted();
  Object.assign(job, { state: "stopped", description: "Out of paper", jobType: "image/pwg-raster", jobSize: 10, jobName: "x", pagesPrinted: 2,
    cause: { device_state_cause: { error_code: "INPUT_TRAY" } } });
  const doc = jobStateDocument(job, clock.now);
  t.like(doc, { job_id: job.id, state: "stopped", description: "Out of paper", job_type: "image/pwg-raster", job_size: 10, job_name: "x" });
  t.deepEqual(doc.semantic_state, { version: "1.0", state: { type: "STOPPED", device_state_cause: { error_code: "INPUT_TRAY" } }, pages_printed: 2 });
});
