// SNTP's one packet (RFC 4330 4): 48 bytes, read at fixed offsets, so a reply
// of any length or content costs the same to check. Anything after byte 48
// (extension fields, a MAC) is ignored, never parsed.

export const PACKET_BYTES = 48;
export const NTP_PORT = 123;

const MODE_CLIENT = 3;
const MODE_SERVER = 4;
const VERSION = 4;
const LEAP_UNSYNCHRONIZED = 3;
const MAX_STRATUM = 15;

// Seconds from 1900-01-01 (NTP's epoch) to 1970-01-01 (Unix's).
const NTP_TO_UNIX_SECONDS = 2_208_988_800;
// NTP seconds wrap in 2036; RFC 4330 3 reads a clear top bit as the next era.
const ERA_SECONDS = 4_294_967_296;

const TRANSMIT_OFFSET = 40;
const RECEIVE_OFFSET = 32;
const ORIGINATE_OFFSET = 24;
const REFERENCE_ID_OFFSET = 12;

export type ReplyRefusal =
  | "short"        // fewer than 48 bytes
  | "mode"         // not a server's answer (mode 4)
  | "version"      // a version SNTP does not speak (not 1 to 4)
  | "unsynchronized" // leap indicator 3: the server's own clock is not set
  | "kiss"         // stratum 0: kiss-o'-death, code in kissCode
  | "stratum"      // above 15
  | "originate"    // does not echo our request: stale, spoofed or someone else's
  | "zero-time";   // transmit timestamp 0

export type Reply =
  | { ok: true; stratum: number; receiveMs: number; transmitMs: number }
  | { ok: false; refusal: ReplyRefusal; kissCode?: string };

// A client request. The transmit timestamp is a nonce, not the time: a board
// that has not set its clock has no time to send, and the server echoes
// whatever is there as the originate timestamp, which is all we check.
export function encodeRequest(nonce: Uint8Array): Uint8Array {
  const packet = new Uint8Array(PACKET_BYTES);
  packet[0] = (VERSION << 3) | MODE_CLIENT;
  for (let i = 0; i < 8; i++) packet[TRANSMIT_OFFSET + i] = nonce[i] ?? 0;
  // Some servers drop a request whose transmit timestamp is all zero.
  if (packet.subarray(TRANSMIT_OFFSET).every((b) => b === 0)) packet[TRANSMIT_OFFSET + 7] = 1;
  return packet;
}

// The nonce as encodeRequest put it in the packet, for decodeReply to compare.
export function requestNonce(request: Uint8Array): Uint8Array {
  return request.slice(TRANSMIT_OFFSET, TRANSMIT_OFFSET + 8);
}

function uint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) >>> 0) + (bytes[at + 1] << 16) + (bytes[at + 2] << 8) + bytes[at + 3];
}

// An NTP timestamp as Unix milliseconds (fractions to the millisecond).
export function timestampMs(bytes: Uint8Array, at: number): number {
  let seconds = uint32(bytes, at);
  if (seconds < 0x80000000) seconds += ERA_SECONDS;
  const fraction = uint32(bytes, at + 4);
  return (seconds - NTP_TO_UNIX_SECONDS) * 1000 + Math.floor((fraction * 1000) / ERA_SECONDS);
}

// For the test servers and the XS tests: a Unix time as an NTP timestamp.
export function writeTimestamp(bytes: Uint8Array, at: number, unixMs: number): void {
  const seconds = Math.floor(unixMs / 1000) + NTP_TO_UNIX_SECONDS;
  const wrapped = seconds % ERA_SECONDS;
  // Rounded up, so reading it back (rounded down) gives the same millisecond.
  const fraction = Math.ceil(((unixMs % 1000) * ERA_SECONDS) / 1000);
  for (let i = 0; i < 4; i++) {
    bytes[at + i] = Math.floor(wrapped / 2 ** (24 - 8 * i)) & 0xff;
    bytes[at + 4 + i] = Math.floor(fraction / 2 ** (24 - 8 * i)) & 0xff;
  }
}

function isZero(bytes: Uint8Array, at: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (bytes[at + i] !== 0) return false;
  return true;
}

// Checks a reply to the request that carried nonce, in the order RFC 4330 5
// gives, and reads the server's times from it.
export function decodeReply(bytes: Uint8Array, nonce: Uint8Array): Reply {
  if (bytes.length < PACKET_BYTES) return { ok: false, refusal: "short" };
  const leap = bytes[0] >> 6;
  const version = (bytes[0] >> 3) & 7;
  const mode = bytes[0] & 7;
  const stratum = bytes[1];
  if (mode !== MODE_SERVER) return { ok: false, refusal: "mode" };
  if (version < 1 || version > VERSION) return { ok: false, refusal: "version" };
  // Before the kiss check: a kiss-o'-death only counts if it answers our request.
  for (let i = 0; i < 8; i++) if (bytes[ORIGINATE_OFFSET + i] !== nonce[i]) return { ok: false, refusal: "originate" };
  if (stratum === 0) {
    let code = "";
    for (let i = 0; i < 4; i++) {
      const c = bytes[REFERENCE_ID_OFFSET + i];
      // The code is four ASCII letters; anything else is shown as "?".
      code += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : "?";
    }
    return { ok: false, refusal: "kiss", kissCode: code };
  }
  if (stratum > MAX_STRATUM) return { ok: false, refusal: "stratum" };
  if (leap === LEAP_UNSYNCHRONIZED) return { ok: false, refusal: "unsynchronized" };
  if (isZero(bytes, TRANSMIT_OFFSET, 8)) return { ok: false, refusal: "zero-time" };
  return { ok: true, stratum, receiveMs: timestampMs(bytes, RECEIVE_OFFSET), transmitMs: timestampMs(bytes, TRANSMIT_OFFSET) };
}

export interface ReplyFields {
  leap?: number;
  version?: number;
  mode?: number;
  stratum?: number;
  referenceId?: string;
  originate: Uint8Array;
  receiveMs: number;
  transmitMs: number;
}

// A server's answer (test servers, XS tests); a zero transmitMs writes zeros.
export function encodeReply(fields: ReplyFields): Uint8Array {
  const packet = new Uint8Array(PACKET_BYTES);
  packet[0] = ((fields.leap ?? 0) << 6) | ((fields.version ?? VERSION) << 3) | (fields.mode ?? MODE_SERVER);
  packet[1] = fields.stratum ?? 2;
  packet[2] = 6;
  packet[3] = 0xec;
  const id = fields.referenceId ?? "GPS";
  for (let i = 0; i < 4 && i < id.length; i++) packet[REFERENCE_ID_OFFSET + i] = id.charCodeAt(i) & 0xff;
  packet.set(fields.originate.subarray(0, 8), ORIGINATE_OFFSET);
  writeTimestamp(packet, RECEIVE_OFFSET, fields.receiveMs);
  if (fields.transmitMs !== 0) writeTimestamp(packet, TRANSMIT_OFFSET, fields.transmitMs);
  return packet;
}
