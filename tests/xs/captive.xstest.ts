import test, { runAll } from "./harness.js";
import { captiveAnswer } from "../../modules/dns/captive.js";
import { decodeMessage, encodeMessage, TYPE_A, TYPE_AAAA } from "../../modules/dns/message.js";

// The setup access point's DNS answers inside XS: it runs on the board, where
// a bad packet must cost nothing and throw nothing.

const AP = Uint8Array.from([192, 168, 4, 1]);
const query = (name: string, type: number) =>
  encodeMessage({ id: 7, flags: 0x0100, questions: [{ name: name.split("."), type, unicastResponse: false }], answers: [], authorities: [], additionals: [] });

test("captive DNS in XS: A is the access point, AAAA is empty, junk is silence", (t) => {
  const a = decodeMessage(captiveAnswer(query("captive.apple.com", TYPE_A), AP)!);
  t.is(a.id, 7);
  t.is(a.answers.length, 1);
  t.deepEqual(a.answers[0].data, { kind: "a", address: AP });
  t.is(decodeMessage(captiveAnswer(query("captive.apple.com", TYPE_AAAA), AP)!).answers.length, 0);
  let state = 3;
  const next = () => (state = (state * 1103515245 + 12345) >>> 0) >>> 24;
  let answered = 0;
  for (let i = 0; i < 500; i++) if (captiveAnswer(Uint8Array.from({ length: next() % 64 }, next), AP)) answered++;
  t.true(answered < 50, `${answered} answers to random bytes`);
  t.is(captiveAnswer(new Uint8Array(513), AP), undefined);
});

export { runAll };
