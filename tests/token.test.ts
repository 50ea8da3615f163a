import test from "ava";
import { base64Decode, base64Encode } from "../modules/crypto/base64.js";
import { TOKEN_LIFETIME_S, TokenEngine, constantTimeEqual } from "../modules/privet/token.js";
import { sha1 } from "../modules/crypto/sha1.js";
import { FakeClock } from "./helpers/fake-clock.js";
import { SeededRandom } from "./helpers/seeded-random.js";

function engine(seed = 1) {
  const clock = new FakeClock();
  clock.now = 5_000_000;
  return { clock, tokens: new TokenEngine(clock, new SeededRandom(seed)) };
}

test("a fresh token is valid and has the Privet 6.2 shape", (t) => {
  const { tokens, clock } = engine();
  const token = tokens.issue();
  t.is(tokens.verify(token), "valid");
  const raw = base64Decode(token)!;
  t.is(raw[20], 0x3a);
  t.is(Buffer.from(raw.subarray(21)).toString(), String(Math.floor(clock.now / 1000)));
});

test("the digest is SHA1(secret:counter) of a secret of at least 64 random bits that changes every boot", (t) => {
  // Two engines from different randomness: tokens for the same counter differ,
  // and neither accepts the other's (a token from an earlier boot).
  const a = engine(1), b = engine(2);
  t.not(a.tokens.tokenFor(5000), b.tokens.tokenFor(5000));
  t.is(b.tokens.verify(a.tokens.issue()), "wrong-digest");
  // The same randomness gives the same secret: the digest is a pure function of it.
  t.is(engine(1).tokens.tokenFor(5000), a.tokens.tokenFor(5000));
  // Recompute from the published algorithm, with the secret the engine drew (hex of 16 random bytes).
  const secretBytes = new SeededRandom(1).bytes(16);
  const secret = Buffer.from(secretBytes).toString("hex");
  t.true(secret.length * 4 >= 64);
  const digest = sha1(new Uint8Array(Buffer.from(`${secret}:5000`)));
  t.is(a.tokens.tokenFor(5000), base64Encode(new Uint8Array(Buffer.concat([digest, Buffer.from(":5000")]))));
});

test("tokens stay valid for 24 hours and no longer", (t) => {
  const { tokens, clock } = engine();
  const token = tokens.issue();
  clock.advance(TOKEN_LIFETIME_S * 1000);
  t.is(tokens.verify(token), "valid");
  clock.advance(1000);
  t.is(tokens.verify(token), "expired");
});

test("tokens dated in the future are refused", (t) => {
  const { tokens, clock } = engine();
  t.is(tokens.verify(tokens.tokenFor(Math.floor(clock.now / 1000) + 60)), "future");
});

test("malformed tokens are refused without throwing", (t) => {
  const { tokens } = engine();
  const good = tokens.issue();
  const raw = base64Decode(good)!;
  const forged = (bytes: Uint8Array) => base64Encode(bytes);
  const withCounter = (counter: string) => forged(new Uint8Array(Buffer.concat([raw.subarray(0, 21), Buffer.from(counter)])));
  for (const bad of ["", "\"\"", "not base64!", good.slice(0, -4), good + "AAAA", base64Encode(new Uint8Array(10)),
    withCounter(""), withCounter("12a"), withCounter("-5"), withCounter("0" + Buffer.from(raw.subarray(21)).toString()),
    withCounter("9".repeat(16)), "A".repeat(10_000)]) {
    t.not(tokens.verify(bad), "valid", JSON.stringify(bad.slice(0, 40)));
  }
  const flipped = Uint8Array.from(raw);
  flipped[3] ^= 1;
  t.is(tokens.verify(forged(flipped)), "wrong-digest");
});

test("a digest that itself contains ':' (0x3A) still verifies, split on the last colon", (t) => {
  const { tokens, clock } = engine(3);
  let found = 0;
  for (let counter = 1; counter < 20_000 && found < 3; counter++) {
    const token = tokens.tokenFor(counter);
    if (!base64Decode(token)!.subarray(0, 20).includes(0x3a)) continue;
    found++;
    clock.now = (counter + 10) * 1000;
    t.is(tokens.verify(token), "valid", `counter ${counter}`);
  }
  t.is(found, 3, "the search found digests containing 0x3A");
});

test("constant-time comparison compares whole buffers", (t) => {
  t.true(constantTimeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3)));
  t.false(constantTimeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4)));
  t.false(constantTimeEqual(Uint8Array.of(9, 2, 3), Uint8Array.of(1, 2, 3)));
  t.false(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3)));
});
