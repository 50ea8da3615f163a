// Base64 with the standard alphabet and padding (RFC 4648 section 4).

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const NOT_BASE64 = 255;
const DECODE = new Uint8Array(128).fill(NOT_BASE64);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

export function base64Encode(data: Uint8Array): string {
  let out = "";
  const n = data.length;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += ALPHABET[v >>> 18] + ALPHABET[(v >>> 12) & 63] + ALPHABET[(v >>> 6) & 63] + ALPHABET[v & 63];
  }
  if (n - i === 1) {
    const v = data[i] << 16;
    out += ALPHABET[v >>> 18] + ALPHABET[(v >>> 12) & 63] + "==";
  } else if (n - i === 2) {
    const v = (data[i] << 16) | (data[i + 1] << 8);
    out += ALPHABET[v >>> 18] + ALPHABET[(v >>> 12) & 63] + ALPHABET[(v >>> 6) & 63] + "=";
  }
  return out;
}

// Strict decoding: the length must be a multiple of 4, padding only at the end,
// and the unused bits of the last symbol zero, so one byte string has exactly
// one accepted spelling. Returns undefined for anything else.
export function base64Decode(text: string, maxBytes = Infinity): Uint8Array | undefined {
  const length = text.length;
  if (length % 4 !== 0) return undefined;
  let pad = 0;
  if (length > 0 && text.charCodeAt(length - 1) === 61) pad = text.charCodeAt(length - 2) === 61 ? 2 : 1;
  const size = (length / 4) * 3 - pad;
  if (size > maxBytes) return undefined;
  const out = new Uint8Array(size);
  let o = 0;
  for (let i = 0; i < length; i += 4) {
    const last = i + 4 === length;
    const a = symbol(text, i), b = symbol(text, i + 1);
    const c = last && pad === 2 ? 0 : symbol(text, i + 2);
    const d = last && pad >= 1 ? 0 : symbol(text, i + 3);
    if ((a | b | c | d) > 63) return undefined;
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = v >>> 16;
    if (o < size) out[o++] = (v >>> 8) & 0xff;
    else if (last && (v & 0xffff) !== 0) return undefined;
    if (o < size) out[o++] = v & 0xff;
    else if (last && pad === 1 && (v & 0xff) !== 0) return undefined;
  }
  return out;
}

function symbol(text: string, index: number): number {
  const code = text.charCodeAt(index);
  return code < 128 ? DECODE[code] : NOT_BASE64;
}
