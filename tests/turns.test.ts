import test from "ava";
import { Turns } from "../modules/http/turns.js";

// The heap's one-at-a-time rule for large exchanges (cloud calls, IPP's
// attribute answers): the later waits for the earlier's end, in order, and
// a failure ends a turn as surely as success does.

test("work runs one at a time, in the order asked, and a failed turn still hands over", async (t) => {
  const turns = new Turns();
  const events: string[] = [];
  let release!: () => void;
  const first = turns.run(() => new Promise<string>((resolve) => { events.push("first starts"); release = () => { events.push("first ends"); resolve("one"); }; }));
  const second = turns.run(() => { events.push("second runs"); throw new Error("broken"); });
  const third = turns.run(() => { events.push("third runs"); return 3; });
  await new Promise((r) => setTimeout(r, 20));
  t.deepEqual(events, ["first starts"], "the later ones wait while the first holds its turn");
  release();
  t.is(await first, "one");
  await t.throwsAsync(second, { message: "broken" });
  t.is(await third, 3);
  t.deepEqual(events, ["first starts", "first ends", "second runs", "third runs"]);
});

test("with no turn under way, work runs at once in the caller's turn of the event loop, and synchronous work hands over at once", (t) => {
  const turns = new Turns();
  const ran: number[] = [];
  void turns.run(() => { ran.push(1); });
  void turns.run(() => { ran.push(2); });
  t.deepEqual(ran, [1, 2], "both ran before run() returned");
});

// The board's budget (privet.budget): shares, what fits runs beside what holds.
const held = (turns: Turns, cost: number, events: string[], name: string) => {
  let release!: () => void;
  const done = turns.run(() => new Promise<void>((resolve) => { events.push(`${name} starts`); release = () => { events.push(`${name} ends`); resolve(); }; }), cost);
  return { done, release: () => release() };
};

test("a budget lets activities that fit run together; one that does not fit waits for a share to come back", async (t) => {
  const turns = new Turns(52);
  const events: string[] = [];
  const jpeg = held(turns, 48, events, "jpeg");
  const attributes = held(turns, 4, events, "attributes");
  const cloud = held(turns, 20, events, "cloud");
  await new Promise((r) => setTimeout(r, 10));
  t.deepEqual(events, ["jpeg starts", "attributes starts"], "48 + 4 fit 52; the cloud call's 20 does not");
  t.true(turns.busy);
  attributes.release();
  await attributes.done;
  await new Promise((r) => setTimeout(r, 10));
  t.false(events.includes("cloud starts"), "4 back is not enough for 20");
  jpeg.release();
  await jpeg.done;
  await new Promise((r) => setTimeout(r, 10));
  t.true(events.includes("cloud starts"));
  cloud.release();
  await cloud.done;
  t.false(turns.busy);
});

test("a budget: a newcomer queues behind a waiter (a large job is not passed for ever), a small waiter behind a large one may go when it fits, and a cost above the capacity takes the whole", async (t) => {
  const turns = new Turns(52);
  const events: string[] = [];
  const cloud = held(turns, 20, events, "cloud");
  const jpeg = held(turns, 48, events, "jpeg");
  const attributes = held(turns, 4, events, "attributes");
  await new Promise((r) => setTimeout(r, 10));
  t.deepEqual(events, ["cloud starts"], "the newcomer waits behind the waiting job though it would fit");
  cloud.release();
  await cloud.done;
  await new Promise((r) => setTimeout(r, 10));
  t.deepEqual(events, ["cloud starts", "cloud ends", "jpeg starts", "attributes starts"], "in order, each that fits");
  jpeg.release();
  attributes.release();
  await Promise.all([jpeg.done, attributes.done]);
  const huge = held(turns, 500, events, "huge");
  const small = held(turns, 1, events, "small");
  await new Promise((r) => setTimeout(r, 10));
  t.true(events.includes("huge starts"), "more than the capacity runs alone rather than never");
  t.false(events.includes("small starts"));
  huge.release();
  await huge.done;
  small.release();
  await small.done;
  t.true(events.includes("small starts"));
});
