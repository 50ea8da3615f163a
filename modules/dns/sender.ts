import type { Clock } from "../hal/clock.js";
import type { Log } from "../hal/log.js";
import type { Random } from "../hal/random.js";
import { MDNS_GROUP, type MdnsSocket, type UdpEndpoint } from "../hal/udp.js";
import { FLAG_AUTHORITATIVE, FLAG_RESPONSE, encodeMessage, type Message, type ResourceRecord } from "./message.js";
import { recordKey } from "./records.js";

// Packets out: a record multicast at most once a second, a response that
// does not fit one packet trimmed or split, and a failed send logged rather
// than thrown into the responder's timers.

// An Ethernet frame's UDP payload, less room for IPv6's longer header, so a
// response is never fragmented (RFC 6762 17).
export const MAX_PACKET_BYTES = 1440;
const MIN_MULTICAST_INTERVAL_MS = 1000;

export class MdnsSender {
  socket: MdnsSocket | undefined;
  packetsSent = 0;
  private readonly lastMulticast = new Map<string, number>();

  constructor(private readonly clock: Clock, private readonly log: Log) {}

  // Multicasts a response, leaving out any answer multicast less than a
  // second ago (RFC 6762 6) unless force is set (announcements, goodbyes).
  multicast(answers: ResourceRecord[], additionals: ResourceRecord[], force: boolean, minInterval = MIN_MULTICAST_INTERVAL_MS): void {
    const now = this.clock.monotonic();
    // Entries older than the longest interval no longer hold anything back;
    // dropping them keeps the map as small as one second's traffic.
    for (const [key, at] of this.lastMulticast) if (now - at >= MIN_MULTICAST_INTERVAL_MS) this.lastMulticast.delete(key);
    const keep = answers.filter((r) => {
      const key = recordKey(r);
      const last = this.lastMulticast.get(key);
      if (!force && last !== undefined && now - last < minInterval) return false;
      this.lastMulticast.set(key, now);
      return true;
    });
    if (keep.length === 0) return;
    this.sendResponse(keep, additionals, MDNS_GROUP);
  }

  // A response that would not fit one packet loses its additionals first,
  // then is split; only a single record larger than a packet goes out as is.
  sendResponse(answers: ResourceRecord[], additionals: ResourceRecord[], to: UdpEndpoint): void {
    const message: Message = { id: 0, flags: FLAG_RESPONSE | FLAG_AUTHORITATIVE, questions: [], answers, authorities: [], additionals };
    if (answers.length <= 1 || this.encodedSize(message) <= MAX_PACKET_BYTES) return this.send(message, to);
    if (additionals.length > 0) return this.sendResponse(answers, [], to);
    const half = answers.length >> 1;
    this.sendResponse(answers.slice(0, half), [], to);
    this.sendResponse(answers.slice(half), [], to);
  }

  encodedSize(message: Message): number {
    try {
      return encodeMessage(message).length;
    } catch {
      return 0;
    }
  }

  send(message: Message, to: UdpEndpoint): void {
    if (!this.socket) return;
    try {
      this.socket.send(encodeMessage(message), to);
      this.packetsSent++;
    } catch (error) {
      this.log("warn", `mdns: send to ${to.address}:${to.port} failed: ${String(error)}`);
    }
  }
}

// Random waits (the first probe, a shared answer) keep the responders on a
// link from all sending at the same moment.
export function randomBelow(random: Random, n: number): number {
  const b = new Uint8Array(2);
  random.fill(b);
  return ((b[0] << 8) | b[1]) % n;
}
