import test from "ava";
import { createHash } from "node:crypto";
import { base64Decode, base64Encode } from "../modules/crypto/base64.js";
import { Sha1, sha1 } from "../modules/crypto/sha1.js";
import { utf8Decode, utf8Encode } from "../modules/text/utf8.js";
import { SeededRandom } from "./helpers/seeded-random.js";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const ascii = (text: string) => new Uint8Array(Buffer.from(text, "latin1"));

// FIPS 180-4 examples (NIST CSRC "SHA1.pdf", "SHA1 long message").
test("sha1 matches the published vectors", (t) => {
  t.is(hex(sha1(ascii("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d");
  t.is(hex(sha1(ascii(""))), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  t.is(hex(sha1(ascii("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  t.is(hex(sha1(ascii("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"))),
    "a49b2446a02c645bf419f995b67091253a04a259");
});

test("sha1 of one million 'a' fed in uneven pieces", (t) => {
  const hash = new Sha1();
  const piece = new Uint8Array(997).fill(0x61);
  let left = 1_000_000;
  while (left > 0) {
    const n = Math.min(left, piece.length);
    hash.update(piece.subarray(0, n));
    left -= n;
  }
  t.is(hex(hash.digest()), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
});

test("sha1 agrees with node:crypto on thousands of seeded random inputs split at random", (t) => {
  const random = new SeededRandom(20261121);
  for (let n = 0; n < 3000; n++) {
    // Lengths around the 55/56/64-byte padding edges are the interesting ones.
    const length = n < 200 ? n : random.below(n % 10 === 0 ? 5000 : 300);
    const data = random.bytes(length);
    const hash = new Sha1();
    let offset = 0;
    while (offset < length) {
      const step = 1 + random.below(Math.max(1, length - offset));
      hash.update(data.subarray(offset, offset + step));
      offset += step;
    }
    const expected = createHash("sha1").update(data).digest("hex");
    if (hex(hash.digest()) !== expected) return t.fail(`length ${length} differs`);
  }
  t.pass();
});

test("sha1 refuses use after digest", (t) => {
  const hash = new Sha1().update(ascii("x"));
  hash.digest();
  t.throws(() => hash.update(ascii("y")));
  t.throws(() => hash.digest());
  t.is(hex(hash.reset().update(ascii("abc")).digest()), "a9993e364706816aba3e25717850c26c9cd0d89d");
});

// RFC 4648 section 10.
test("base64 matches the RFC 4648 vectors both ways", (t) => {
  const vectors: Array<[string, string]> = [["", ""], ["f", "Zg=="], ["fo", "Zm8="], ["foo", "Zm9v"], ["foob", "Zm9vYg=="], ["fooba", "Zm9vYmE="], ["foobar", "Zm9vYmFy"]];
  for (const [plain, encoded] of vectors) {
    t.is(base64Encode(ascii(plain)), encoded);
    t.is(Buffer.from(base64Decode(encoded)!).toString("latin1"), plain);
  }
});

test("base64 agrees with Buffer on thousands of seeded random inputs", (t) => {
  const random = new SeededRandom(7);
  for (let n = 0; n < 4000; n++) {
    const data = random.bytes(random.below(200));
    const encoded = base64Encode(data);
    if (encoded !== Buffer.from(data).toString("base64")) return t.fail(`encode differs at ${n}`);
    const decoded = base64Decode(encoded);
    if (!decoded || hex(decoded) !== hex(data)) return t.fail(`decode differs at ${n}`);
  }
  t.pass();
});

test("base64 decoding rejects what is not canonical base64", (t) => {
  for (const bad of ["Zg=", "Zg", "Z===", "Zm9v=", "Zh==", "Zm9=", "Zm 9v", "Zm9v\n", "Zm-v", "Zm_v", "=Zm9", "Zg==Zg==", "Zé==", "===="]) {
    t.is(base64Decode(bad), undefined, JSON.stringify(bad));
  }
  t.is(base64Decode("Zm9vYmFy", 5), undefined, "longer than the caller allows");
});

test("utf8 round-trips text and matches TextEncoder", (t) => {
  for (const text of ["", "printer", "Gene’s printer", "日本語のプリンター", "emoji 🖨️ ok", "\u0000\u007f\u0080\u07ff\u0800\uffff"]) {
    t.is(hex(utf8Encode(text)), hex(new TextEncoder().encode(text)));
    t.is(utf8Decode(utf8Encode(text)), text);
  }
  t.is(hex(utf8Encode("a\ud800b")), hex(new TextEncoder().encode("a\ud800b")), "lone surrogate becomes U+FFFD");
});

test("utf8 decoding turns hostile bytes into U+FFFD like TextDecoder", (t) => {
  const random = new SeededRandom(99);
  const decoder = new TextDecoder("utf-8");
  const cases = [[0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xff], [0x80, 0x41]];
  for (const bytes of cases) t.is(utf8Decode(Uint8Array.from(bytes)).replace(/\ufffd+/g, "?"), decoder.decode(Uint8Array.from(bytes)).replace(/\ufffd+/g, "?"));
  for (let n = 0; n < 2000; n++) {
    const bytes = random.bytes(random.below(24));
    const ours = utf8Decode(bytes);
    // Valid input must decode exactly; invalid input must at least not throw and keep valid parts.
    let valid = true;
    try { new TextDecoder("utf-8", { fatal: true }).decode(bytes); } catch { valid = false; }
    if (valid && ours !== decoder.decode(bytes)) return t.fail(`valid input ${hex(bytes)} differs`);
  }
  t.pass();
});
