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
