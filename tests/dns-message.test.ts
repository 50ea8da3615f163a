import test from "ava";
import {
  DnsFormatError, FLAG_AUTHORITATIVE, FLAG_RESPONSE, TYPE_A, TYPE_AAAA, TYPE_ANY, TYPE_NSEC, TYPE_PTR, TYPE_SRV, TYPE_TXT,
  decodeMessage, encodeMessage, type Message,
} from "../modules/dns/message.js";
import { SeededRandom } from "./helpers/seeded-random.js";

const enc = (s: string) => new TextEncoder().encode(s);
const instance = ["Lobby v2.1 (2)", "_privet", "_tcp", "local"];

const sample: Message = {
  id: 0x1234,
  flags: FLAG_RESPONSE | FLAG_AUTHORITATIVE,
  questions: [{ name: ["_privet", "_tcp", "local"], type: TYPE_PTR, unicastResponse: true }],
  answers: [
    { name: ["_privet", "_tcp", "local"], type: TYPE_PTR, cacheFlush: false, ttl: 4500, data: { kind: "ptr", target: instance } },
    { name: instance, type: TYPE_SRV, cacheFlush: true, ttl: 120, data: { kind: "srv", priority: 1, weight: 2, port: 8631, target: ["host", "local"] } },
    { name: instance, type: TYPE_TXT, cacheFlush: true, ttl: 4500, data: { kind: "txt", strings: [enc("txtvers=1"), enc("ty=Drucker Büro"), enc("id=")] } },
  ],
  authorities: [
    { name: ["host", "local"], type: TYPE_A, cacheFlush: true, ttl: 120, data: { kind: "a", address: Uint8Array.of(127, 0, 0, 1) } },
  ],
  additionals: [
    { name: ["host", "local"], type: TYPE_AAAA, cacheFlush: true, ttl: 120, data: { kind: "aaaa", address: Uint8Array.of(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1) } },
    { name: ["host", "local"], type: TYPE_NSEC, cacheFlush: true, ttl: 120, data: { kind: "nsec", next: ["host", "local"], types: [TYPE_A, TYPE_AAAA, 300] } },
    { name: ["x", "local"], type: 99, cacheFlush: false, ttl: 1, data: { kind: "raw", bytes: Uint8Array.of(1, 2, 3) } },
  ],
};

test("every record type round-trips, dots inside labels included", (t) => {
  const bytes = encodeMessage(sample);
  t.deepEqual(decodeMessage(bytes), sample);
});

test("names are compressed when encoding", (t) => {
  const bytes = encodeMessage(sample);
  // "_privet._tcp.local" is written once; every later use is a 2-byte pointer.
  const text = Buffer.from(bytes).toString("latin1");
  t.is(text.split("_privet").length - 1, 1);
  t.is(text.split("Lobby v2.1 (2)").length - 1, 1);
  t.true(bytes.length < 300, `${bytes.length} bytes`);
});

test("the unicast-response and cache-flush bits travel in the class field", (t) => {
  const bytes = encodeMessage(sample);
  // The first question's class: header (12) + "_privet._tcp.local" (20) + type (2).
  t.is(bytes[12 + 20 + 2] & 0x80, 0x80);
  const decoded = decodeMessage(bytes);
  t.true(decoded.questions[0].unicastResponse);
  t.false(decoded.answers[0].cacheFlush);
  t.true(decoded.answers[1].cacheFlush);
});

function header(qd: number, an = 0): number[] {
  return [0, 0, 0, 0, 0, qd, 0, an, 0, 0, 0, 0];
}

test("hostile names are rejected: loops, forward and out-of-range pointers, long labels and names", (t) => {
  const cases: Record<string, number[]> = {
    "pointer to itself": [...header(1), 0xc0, 12, 0, 1, 0, 1],
    "forward pointer": [...header(1), 0xc0, 14, 1, 97, 0, 0, 1, 0, 1],
    "pointer past the end": [...header(1), 0xff, 0xff, 0, 1, 0, 1],
    "two-step loop": [...header(1), 1, 97, 0xc0, 12, 0, 1, 0, 1],
    "label of 64 bytes": [...header(1), 64, ...new Array(64).fill(97), 0, 0, 1, 0, 1],
    "name over 255 bytes": [...header(1), ...Array.from({ length: 5 }, () => [60, ...new Array(60).fill(97)]).flat(), 0, 0, 1, 0, 1],
    "reserved label type": [...header(1), 0x40, 0, 0, 1, 0, 1],
    "truncated label": [...header(1), 5, 97, 97],
    "truncated header": [0, 0, 0],
    "counts larger than the packet": [...header(0, 60000)],
    "rdata length past the end": [...header(0, 1), 0, 0, 1, 0, 1, 0, 0, 0, 10, 0, 200, 1, 2, 3, 4],
    "A record of 3 bytes": [...header(0, 1), 0, 0, 1, 0, 1, 0, 0, 0, 10, 0, 3, 1, 2, 3],
    "TXT string past its record": [...header(0, 1), 0, 0, 16, 0, 1, 0, 0, 0, 10, 0, 2, 5, 97],
    "SRV shorter than declared": [...header(0, 1), 0, 0, 33, 0, 1, 0, 0, 0, 10, 0, 9, 0, 0, 0, 0, 0, 1, 0, 0, 0],
    "NSEC bitmap of 0 bytes": [...header(0, 1), 0, 0, 47, 0, 1, 0, 0, 0, 10, 0, 3, 0, 0, 0],
  };
  for (const [what, bytes] of Object.entries(cases)) {
    t.throws(() => decodeMessage(Uint8Array.from(bytes)), { instanceOf: DnsFormatError }, what);
  }
});

test("a long chain of backward pointers is followed, not refused", (t) => {
  // "a.local" then questions that each point at the previous one's name.
  const bytes = [...header(3), 1, 97, 5, ...enc("local"), 0, 0, 1, 0, 1, 1, 98, 0xc0, 12, 0, 1, 0, 1, 1, 99, 0xc0, 25, 0, 1, 0, 1];
  const message = decodeMessage(Uint8Array.from(bytes));
  t.deepEqual(message.questions.map((q) => q.name.join(".")), ["a.local", "b.a.local", "c.b.a.local"]);
});

test("random and mutated packets either decode or throw DnsFormatError, never anything else", (t) => {
  const random = new SeededRandom(5353);
  const good = encodeMessage(sample);
  for (let i = 0; i < 20_000; i++) {
    let bytes: Uint8Array;
    if (i % 2 === 0) {
      bytes = Uint8Array.from(good);
      for (let k = 0; k < 1 + random.below(6); k++) bytes[random.below(bytes.length)] = random.below(256);
      if (random.below(4) === 0) bytes = bytes.subarray(0, random.below(bytes.length));
    } else {
      bytes = random.bytes(random.below(600));
    }
    try {
      decodeMessage(bytes);
    } catch (error) {
      if (!(error instanceof DnsFormatError)) return t.fail(`${String(error)} for ${Buffer.from(bytes).toString("hex")}`);
    }
  }
  t.pass();
});

test("encoding refuses labels longer than 63 bytes and TXT strings over 255", (t) => {
  t.throws(() => encodeMessage({ ...sample, answers: [], authorities: [], additionals: [], questions: [{ name: ["x".repeat(64)], type: TYPE_ANY, unicastResponse: false }] }));
  t.throws(() => encodeMessage({ ...sample, questions: [], authorities: [], additionals: [], answers: [{ name: ["a"], type: TYPE_TXT, cacheFlush: false, ttl: 1, data: { kind: "txt", strings: [new Uint8Array(256)] } }] }));
});
