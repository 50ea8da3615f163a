// UTF-8 by hand: XS on a device does not promise the WHATWG text codecs.

export function utf8Encode(text: string): Uint8Array {
  const out = new Uint8Array(utf8Length(text));
  utf8Write(text, out, 0);
  return out;
}

// The bytes text takes in UTF-8, without encoding it.
export function utf8Length(text: string): number {
  let size = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) size += 1;
    else if (c < 0x800) size += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) { size += 4; i++; }
    else size += 3;
  }
  return size;
}

// Writes text as UTF-8 into out at o (which must have utf8Length(text)
// bytes free there), so an encoder can fill one buffer without a small
// array per string. Returns the offset after it.
export function utf8Write(text: string, out: Uint8Array, o: number): number {
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) { out[o++] = c; continue; }
    if (c < 0x800) {
      out[o++] = 0xc0 | (c >> 6);
      out[o++] = 0x80 | (c & 63);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) {
      c = 0x10000 + ((c - 0xd800) << 10) + (text.charCodeAt(++i) - 0xdc00);
      out[o++] = 0xf0 | (c >> 18);
      out[o++] = 0x80 | ((c >> 12) & 63);
      out[o++] = 0x80 | ((c >> 6) & 63);
      out[o++] = 0x80 | (c & 63);
      continue;
    }
    // A lone surrogate has no UTF-8 form; write U+FFFD as the WHATWG encoder does.
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    out[o++] = 0xe0 | (c >> 12);
    out[o++] = 0x80 | ((c >> 6) & 63);
    out[o++] = 0x80 | (c & 63);
  }
  return o;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

// Decodes strictly enough for hostile input: overlong forms, surrogates and
// truncated sequences become U+FFFD instead of throwing.
export function utf8Decode(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let out = "";
  let i = start;
  while (i < end) {
    const b = bytes[i++];
    let cp = 0xfffd;
    if (b < 0x80) cp = b;
    else if (b >= 0xc2 && b <= 0xdf) {
      if (i < end && (bytes[i] & 0xc0) === 0x80) cp = ((b & 31) << 6) | (bytes[i++] & 63);
    } else if (b >= 0xe0 && b <= 0xef) {
      if (i + 1 < end && (bytes[i] & 0xc0) === 0x80 && (bytes[i + 1] & 0xc0) === 0x80) {
        const v = ((b & 15) << 12) | ((bytes[i] & 63) << 6) | (bytes[i + 1] & 63);
        if (v >= 0x800 && (v < 0xd800 || v > 0xdfff)) { cp = v; i += 2; }
      }
    } else if (b >= 0xf0 && b <= 0xf4) {
      if (i + 2 < end && (bytes[i] & 0xc0) === 0x80 && (bytes[i + 1] & 0xc0) === 0x80 && (bytes[i + 2] & 0xc0) === 0x80) {
        const v = ((b & 7) << 18) | ((bytes[i] & 63) << 12) | ((bytes[i + 1] & 63) << 6) | (bytes[i + 2] & 63);
        if (v >= 0x10000 && v <= 0x10ffff) { cp = v; i += 3; }
      }
    }
    out += String.fromCodePoint(cp);
  }
  return out;
}

// The longest prefix of text whose UTF-8 form fits in maxBytes, cut between
// characters, never inside one.
export function fitUtf8(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const n = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (bytes + n > maxBytes) break;
    bytes += n;
    end += ch.length;
  }
  return text.slice(0, end);
}

// Text from a peer that is echoed into a status message or a log line: a
// control character there can end the line, ring a terminal or drive its
// escape sequences, so C0, DEL and C1 are shown as \xHH (and the backslash
// doubled, so what is shown reads back unambiguously).
export function escapeControls(text: string): string {
  let out = "";
  let plain = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c !== 0x5c && (c < 0x7f || c > 0x9f)) continue;
    out += text.slice(plain, i) + (c === 0x5c ? "\\\\" : `\\x${c.toString(16).padStart(2, "0")}`);
    plain = i + 1;
  }
  return plain === 0 ? text : out + text.slice(plain);
}
