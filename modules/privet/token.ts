import type { Clock } from "../hal/clock.js";
import type { Random } from "../hal/random.js";
import { base64Decode, base64Encode } from "../crypto/base64.js";
import { Sha1 } from "../crypto/sha1.js";
import { utf8Encode } from "../text/utf8.js";

// X-Privet-Token (Privet 6.2):
//   base64( SHA1(secret ":" counter) ":" counter )
// with the raw 20-byte digest and the counter in decimal seconds since boot.
// Nothing is stored per token; a token is checked by recomputing its digest.

export const TOKEN_LIFETIME_S = 24 * 60 * 60;
const SECRET_BYTES = 16;
const DIGEST_BYTES = 20;
const COLON = 0x3a;
// 20 digest bytes, a colon and at most 15 digits.
const MAX_TOKEN_BYTES = DIGEST_BYTES + 1 + 15;

export type TokenVerdict = "valid" | "malformed" | "wrong-digest" | "expired" | "future";

export class TokenEngine {
  // A new secret every boot (Privet 6.2), so tokens of an earlier boot fail.
  private readonly secret: Uint8Array;

  constructor(private readonly clock: Clock, random: Random) {
    const bytes = new Uint8Array(SECRET_BYTES);
    random.fill(bytes);
    // The secret is hashed as text, so keep it printable: hex of 128 random bits.
    this.secret = utf8Encode(hex(bytes));
  }

  private counterNow(): number {
    return Math.floor(this.clock.monotonic() / 1000);
  }

  issue(): string {
    return this.tokenFor(this.counterNow());
  }

  tokenFor(counter: number): string {
    const counterBytes = utf8Encode(String(counter));
    const digest = this.digest(counterBytes);
    const raw = new Uint8Array(DIGEST_BYTES + 1 + counterBytes.length);
    raw.set(digest, 0);
    raw[DIGEST_BYTES] = COLON;
    raw.set(counterBytes, DIGEST_BYTES + 1);
    return base64Encode(raw);
  }

  verify(token: string): TokenVerdict {
    const raw = base64Decode(token.trim(), MAX_TOKEN_BYTES);
    if (!raw) return "malformed";
    // The digest may itself contain 0x3A, so the counter starts after the last colon.
    const colon = raw.lastIndexOf(COLON);
    if (colon !== DIGEST_BYTES) return "malformed";
    const counterBytes = raw.subarray(colon + 1);
    if (counterBytes.length === 0 || counterBytes.length > 15) return "malformed";
    let counter = 0;
    for (const b of counterBytes) {
      if (b < 48 || b > 57) return "malformed";
      counter = counter * 10 + (b - 48);
    }
    // One spelling per counter: "007" would otherwise hash differently from "7"
    // and still be accepted.
    if (counterBytes.length > 1 && counterBytes[0] === 48) return "malformed";
    if (!constantTimeEqual(this.digest(counterBytes), raw.subarray(0, DIGEST_BYTES))) return "wrong-digest";
    const age = this.counterNow() - counter;
    if (age < 0) return "future";
    if (age > TOKEN_LIFETIME_S) return "expired";
    return "valid";
  }

  private digest(counterBytes: Uint8Array): Uint8Array {
    return new Sha1().update(this.secret).update(COLON_BYTES).update(counterBytes).digest();
  }
}

const COLON_BYTES = Uint8Array.of(COLON);

// Looks at every byte whatever the first difference, so the time taken does
// not tell an attacker how much of a forged digest was right.
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += (b < 16 ? "0" : "") + b.toString(16);
  return s;
}
