import test, { runAll as runRegistered } from "./harness.js";
import type { CloudApi, CloudJob, CloudResult } from "../../modules/cloud/api.js";
import { CloudJobs } from "../../modules/cloud/jobs.js";
import type { BodyConsumer, HttpResponse } from "../../modules/http/client.js";
import { JobStore } from "../../modules/jobs/store.js";
import { JobLifecycle } from "../../modules/print/lifecycle.js";
import { NullEngine } from "../../modules/print/null-engine.js";
import { OFFICE_CAPABILITIES } from "../../modules/print/office-capabilities.js";
import { Spooler } from "../../modules/print/spooler.js";
import { checkTicket } from "../../modules/privet/ticket.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { settle } from "../helpers/fake-cloud-api.js";
import { encodeDocument, testPage } from "../helpers/pwg.js";
import { SeededRandom } from "../helpers/seeded-random.js";
import { DeviceState } from "../../modules/device/state.js";
import { Admission } from "../../modules/print/admission.js";
import { followPrintPath } from "../../modules/print/device-state.js";

// The cloud job fetcher inside XS: a scripted service (fetch, ticket, a
// download delivered in small chunks that honours pause, control) and the
// real lifecycle, spooler and decoder. Proof that modules/cloud/jobs.ts and
// the download adapter need nothing but ECMAScript and the HAL.

const results: Record<string, unknown> = {};

// A response body handed over 512 bytes per clock turn, never while paused.
class ScriptedResponse implements HttpResponse {
  readonly status = 200;
  readonly reason = "OK";
  readonly version = "1.1" as const;
  readonly headers: Record<string, string> = { "content-type": "image/pwg-raster" };
  readonly contentLength: number;
  paused = false;
  pauses = 0;
  private offset = 0;
  private consumer: BodyConsumer | undefined;
  private done = false;

  constructor(private readonly clock: FakeClock, private readonly body: Uint8Array, private readonly cutAt?: number) {
    this.contentLength = body.length;
  }

  read(consumer: BodyConsumer): void {
    this.consumer = consumer;
    this.clock.defer(() => this.pump());
  }

  pause(): void { this.paused = true; this.pauses++; }
  resume(): void { if (!this.paused) return; this.paused = false; this.clock.defer(() => this.pump()); }
  abort(): void { this.done = true; }

  private pump(): void {
    if (this.paused || this.done) return;
    if (this.cutAt !== undefined && this.offset >= this.cutAt) {
      this.done = true;
      this.consumer!.error(new Error("connection closed mid-body") as never);
      return;
    }
    if (this.offset >= this.body.length) {
      this.done = true;
      this.consumer!.end();
      return;
    }
    const end = Math.min(this.body.length, this.offset + 512);
    const chunk = this.body.subarray(this.offset, end);
    this.offset = end;
    this.consumer!.data(chunk);
    this.clock.defer(() => this.pump());
  }
}

async function scenario(): Promise<void> {
  const clock = new FakeClock();
  const random = new SeededRandom(7);
  const log = () => {};
  const engine = new NullEngine(OFFICE_CAPABILITIES);
  const store = new JobStore(clock, random);
  const lifecycle = new JobLifecycle(store, log);
  const spooler = new Spooler(engine, lifecycle, clock, log);
  const state = new DeviceState(clock);
  followPrintPath(state, { engine, spooler, lifecycle });
  const admission = new Admission({ state, spooler, open: () => true, formats: () => ["image/pwg-raster"] });
  const doc = encodeDocument([testPage(120, 160, "sgray_8", 1), testPage(120, 160, "sgray_8", 2)]);
  const queue: CloudJob[] = [
    { id: "bad", title: "two copies", fileUrl: "u:bad", createTime: 1 },
    { id: "good", title: "two pages", fileUrl: "u:good", createTime: 2 },
    { id: "cut", title: "cut", fileUrl: "u:cut", createTime: 3 },
  ];
  const tickets: Record<string, string> = {
    bad: "{\"version\":\"1.0\",\"print\":{\"copies\":{\"copies\":2}}}",
    good: "{\"version\":\"1.0\",\"print\":{}}",
    cut: "{\"version\":\"1.0\"}",
  };
  const reports: string[] = [];
  const responses: ScriptedResponse[] = [];
  let fetches = 0;
  const api = {
    // The second round still lists "good": its DONE report was lost.
    fetch: async (): Promise<CloudResult<CloudJob[]>> => ({ ok: true, value: [queue, [queue[1]]][fetches++] ?? [] }),
    ticket: async (id: string): Promise<CloudResult<string>> => ({ ok: true, value: tickets[id] }),
    download: async (url: string): Promise<CloudResult<HttpResponse>> => {
      const response = new ScriptedResponse(clock, doc, url === "u:cut" ? 700 : undefined);
      responses.push(response);
      return { ok: true, value: response };
    },
    control: async (id: string, _token: string, diff: Record<string, unknown>) => {
      const line = `${id} ${JSON.stringify(diff)}`;
      reports.push(line);
      if (line.includes("DONE") && reports.filter((r) => r === line).length === 1) {
        return { ok: false as const, failure: { kind: "offline" as const, api: "/control", message: "lost" } };
      }
      return { ok: true as const, value: {} };
    },
  } as unknown as CloudApi;
  const jobs = new CloudJobs({
    api, clock, log, printerId: () => "printer-1",
    print: { lifecycle, spooler, admission, accept: "image/pwg-raster", checkTicket: (text) => checkTicket(text, OFFICE_CAPABILITIES) },
    authorized: (call) => call("token"),
  }, { downloadAttempts: 2, downloadRetryMs: 100 });
  jobs.start();
  jobs.due();
  for (let i = 0; i < 400; i++) {
    clock.advance(10);
    await settle(5);
  }
  results.reports = reports;
  results.fetches = fetches;
  results.downloads = responses.length;
  results.lines = engine.linesTaken;
}

test("the fetcher on XS: INVALID_TICKET, a job printed with IN_PROGRESS then DONE, a cut download retried then DOWNLOAD_FAILURE, a lost report sent again without printing twice", (t) => {
  t.deepEqual(results.reports, [
    "bad {\"state\":{\"type\":\"ABORTED\",\"device_action_cause\":{\"error_code\":\"INVALID_TICKET\"}}}",
    "good {\"state\":{\"type\":\"IN_PROGRESS\"}}",
    "good {\"state\":{\"type\":\"DONE\"},\"pages_printed\":2}",
    "cut {\"state\":{\"type\":\"IN_PROGRESS\"}}",
    "cut {\"state\":{\"type\":\"ABORTED\",\"device_action_cause\":{\"error_code\":\"DOWNLOAD_FAILURE\"}},\"pages_printed\":0}",
    "good {\"state\":{\"type\":\"DONE\"},\"pages_printed\":2}",
  ]);
  // One download for the good job (not printed twice), two tries for the cut one.
  t.is(results.downloads, 3);
  t.is(results.lines, 2 * 160, "two pages of 160 lines, once");
  // The round, once more after jobs were handled, and the lost report's round is not followed by another.
  t.is(results.fetches, 2);
});

async function stuckAfter(turns: number): Promise<never> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
  throw new Error(`still pending after ${turns} promise turns`);
}

export function runAll(): void {
  Promise.race([scenario(), stuckAfter(100_000)]).catch((error) => { results.failed = String(error); }).then(() => {
    test("the cloud jobs scenario ran to its end", (t) => t.is(results.failed, undefined));
    runRegistered();
  });
}
