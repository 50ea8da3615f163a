import test from "ava";
import { DeviceMemory } from "../modules/device/memory.js";
import { Turns } from "../modules/http/turns.js";
import { Operation } from "../modules/ipp-codec/values.js";
import { NullEngine } from "../modules/print/null-engine.js";
import { OFFICE_CAPABILITIES } from "../modules/print/office-capabilities.js";
import { Printer } from "../modules/printer/printer.js";
import { nodeHal } from "../hosts/node/hal.js";
import { get, rawRequest } from "./helpers/client.js";
import { FakeClock } from "./helpers/fake-clock.js";
import { ippRequest, send } from "./helpers/ipp.js";
import { SMALL_JPEG_BASE64 } from "./helpers/small-jpeg.js";
import { attr, mimeType } from "../modules/ipp-codec/values.js";

// The memory gate (device/memory.ts): on the board the heap is fixed and XS
// cannot catch "memory full", so work starts only with room measured free.
// Here a gauge the test sets stands for heap.c's.
class Gauge {
  free = { slots: 4096, chunks: 98304 };
  asked: Array<[number, number]> = [];
  has(slots: number, chunks: number): boolean {
    this.asked.push([slots, chunks]);
    return this.free.slots >= slots && this.free.chunks >= chunks;
  }
}

const RESERVE = { requestSlots: 300, requestChunks: 6144, headroomSlots: 100, headroomChunks: 2048, retryMs: 250 };
const CALL = { share: 6, slots: 360, chunks: 12288 };
const SMALL = { share: 1, slots: 60, chunks: 2048 };

test("a large activity waits for the heap's room for its need, looks again on a timer, and room is taken in order: a smaller need does not pass it", async (t) => {
  const clock = new FakeClock();
  const gauge = new Gauge();
  const memory = new DeviceMemory(gauge, RESERVE, clock);
  const turns = new Turns(10, memory);
  gauge.free = { slots: 400, chunks: 98304 };
  const ran: string[] = [];
  // The headroom's 100 slots and the call's 360: not there.
  const call = turns.run(() => { ran.push("call"); }, CALL);
  // 360 slots would fit, but it queues behind the call, and stays there.
  const small = turns.run(() => { ran.push("small"); }, SMALL);
  await Promise.resolve();
  t.deepEqual(ran, []);
  t.deepEqual(gauge.asked.at(-1), [460, 2048 + 12288]);
  t.is(clock.pending, 1, "one timer looks again, however many wait");
  clock.advance(250);
  t.deepEqual(ran, [], "the small one does not pass the large one for memory");
  t.is(clock.pending, 1);
  // Room for both: the call, then the small one beside it (460 + 60 slots).
  gauge.free = { slots: 600, chunks: 98304 };
  clock.advance(250);
  await Promise.all([call, small]);
  t.deepEqual(ran, ["call", "small"]);
  t.is(clock.pending, 0, "no timer once nobody waits");
  t.true(memory.shortCount >= 2);
});

test("what a large activity under way was let in with stays counted: a request, or a second activity, needs room beside it", async (t) => {
  const clock = new FakeClock();
  const gauge = new Gauge();
  const memory = new DeviceMemory(gauge, RESERVE, clock);
  const turns = new Turns(10, memory);
  let finish!: () => void;
  const call = turns.run(() => new Promise<void>((resolve) => { finish = resolve; }), CALL);
  t.is(turns.heldSlots, 360);
  t.is(turns.heldChunks, 12288);
  t.true(memory.roomForRequest(turns.heldSlots, turns.heldChunks));
  t.deepEqual(gauge.asked.at(-1), [660, 18432]);
  // A bare share (the desktop's budget) needs nothing of its own: the headroom beside what is held.
  t.is(await turns.run(() => "small", 3), "small");
  t.deepEqual(gauge.asked.at(-1), [100 + 360, 2048 + 12288]);
  finish();
  await call;
  t.is(turns.heldSlots, 0);
  t.is(turns.heldChunks, 0);
});

test("a no from the gauge stands 100 ms for as much or more (each asking collects garbage on the board); less is still asked", (t) => {
  const clock = new FakeClock();
  const gauge = new Gauge();
  const memory = new DeviceMemory(gauge, RESERVE, clock);
  gauge.free = { slots: 400, chunks: 98304 };
  t.false(memory.roomFor(350, 0));
  t.is(gauge.asked.length, 1);
  t.false(memory.roomFor(400, 0), "more than was refused: no, without asking");
  t.is(gauge.asked.length, 1);
  t.true(memory.roomForRequest(), "less than was refused is asked, and fits");
  t.is(gauge.asked.length, 2);
  gauge.free = { slots: 4096, chunks: 98304 };
  clock.advance(99);
  t.false(memory.roomFor(350, 0));
  t.is(gauge.asked.length, 2);
  clock.advance(1);
  t.true(memory.roomFor(350, 0), "after 100 ms the gauge is asked again");
  t.is(gauge.asked.length, 3);
});

test("without a gauge (Node's heap grows) nothing is held back and no timer is set", async (t) => {
  const clock = new FakeClock();
  const memory = new DeviceMemory(undefined, RESERVE, clock);
  t.true(memory.roomForRequest());
  t.true(memory.roomFor(100_000, 1 << 30));
  const turns = new Turns(10, memory);
  t.is(await turns.run(() => 7, CALL), 7);
  t.is(clock.pending, 0);
});

test("short of memory, each front end refuses in its own words and serves again once there is room", async (t) => {
  const gauge = new Gauge();
  const hal = { ...nodeHal({ log: () => {}, engine: new NullEngine(OFFICE_CAPABILITIES) }), heap: gauge };
  const printer = new Printer(hal, { port: 0, budget: { capacity: 10, printerAttributes: { share: 5, slots: 200, chunks: 8192 }, reserve: RESERVE } });
  const port = await printer.start();
  t.teardown(() => printer.stop());
  const token = JSON.parse((await get(port, "/privet/info", { "X-Privet-Token": "\"\"" })).body)["x-privet-token"];
  const ticket = JSON.stringify({ version: "1.0", print: {} });
  const createjob = () => rawRequest(port, `POST /privet/printer/createjob HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Privet-Token: ${token}\r\nContent-Type: application/json\r\nContent-Length: ${ticket.length}\r\n\r\n${ticket}`);
  gauge.free = { slots: 200, chunks: 98304 };

  const info = await get(port, "/privet/info", { "X-Privet-Token": "\"\"" });
  t.is(info.status, 503);
  t.is(info.headers["retry-after"], "1");
  t.regex(info.body, /short of memory/);
  const page = await get(port, "/");
  t.is(page.status, 503);
  t.is(page.headers["retry-after"], "1");
  const created = await createjob();
  t.is(created.status, 200);
  const refusal = JSON.parse(created.body);
  t.is(refusal.error, "printer_busy");
  t.true(refusal.timeout > 0, "Privet's printer_busy says when to come back");
  const attributes = await send(port, { ...ippRequest(Operation.getPrinterAttributes, port), requestId: 4242 });
  t.is(attributes.code, 0x0507, "IPP: server-error-busy");
  t.is(attributes.requestId, 4242, "the answer carries the request's id");

  // The gauge's last "no" stands 100 ms (each asking collects garbage on the board).
  gauge.free = { slots: 4096, chunks: 98304 };
  await new Promise((resolve) => setTimeout(resolve, 150));
  t.is((await get(port, "/privet/info", { "X-Privet-Token": "\"\"" })).status, 200);
  t.is((await get(port, "/")).status, 200);
  t.truthy(JSON.parse((await createjob()).body).job_id);
  t.is((await send(port, ippRequest(Operation.getPrinterAttributes, port))).code, 0);
  t.true(printer.memory.shortCount >= 4);
});

test("a JPEG job is refused busy while the heap has no room for its decoder, and taken once it has; PWG meanwhile is not held back", async (t) => {
  const gauge = new Gauge();
  const hal = { ...nodeHal({ log: () => {}, engine: new NullEngine(OFFICE_CAPABILITIES) }), heap: gauge };
  const printer = new Printer(hal, { port: 0, budget: { capacity: 10, jpegJob: { share: 5, slots: 300, chunks: 40_000 }, reserve: RESERVE } });
  const port = await printer.start();
  t.teardown(() => printer.stop());
  const jpeg = Buffer.from(SMALL_JPEG_BASE64, "base64");
  const printJpeg = () => send(port, ippRequest(Operation.printJob, port, [attr("document-format", mimeType("image/jpeg"))]), jpeg);
  // Room for a request (300 slots), not for a request and a JPEG's decoder (600).
  gauge.free = { slots: 550, chunks: 98304 };
  const refused = await printJpeg();
  t.is(refused.code, 0x0507, "server-error-busy, which IPP clients retry");
  t.is(printer.jobs.list().length, 0, "no job was made for it");
  gauge.free = { slots: 4096, chunks: 98304 };
  await new Promise((resolve) => setTimeout(resolve, 150));
  t.is((await printJpeg()).code, 0);
});
