import type { Log } from "../hal/log.js";
import type { Datagrams, DatagramSocket, UdpEndpoint } from "../hal/udp.js";
import { decodeMessage, encodeMessage, FLAG_AUTHORITATIVE, FLAG_RESPONSE, TYPE_A, TYPE_ANY, type Message } from "./message.js";

// The setup access point's DNS: every name is the printer. A phone that
// joins the access point asks for its connectivity-check host, gets the
// printer's address, fetches the check page from the printer's web server,
// and, getting a redirect instead of the answer it expects, opens the setup
// page by itself (the "captive portal" sign-in sheet). Unicast DNS (RFC 1035)
// with the core's codec; one answer per query, no state kept.

// A DNS query over UDP is at most 512 bytes (RFC 1035 4.2.1) unless EDNS
// allows more; a query does not need more, so longer packets are not read.
const MAX_QUERY_BYTES = 512;
const OPCODE_MASK = 0x7800;
const FLAG_RECURSION_DESIRED = 0x0100;
const FLAG_RECURSION_AVAILABLE = 0x0080;
// Short, so a phone that leaves the access point forgets these answers soon.
const ANSWER_TTL_S = 10;

// The answer to one query, or undefined for a packet that gets none (not a
// query, not one question, not DNS at all).
export function captiveAnswer(query: Uint8Array, address: Uint8Array): Uint8Array | undefined {
  if (query.length > MAX_QUERY_BYTES) return undefined;
  let message: Message;
  try {
    message = decodeMessage(query);
  } catch {
    return undefined;
  }
  if (message.flags & FLAG_RESPONSE || (message.flags & OPCODE_MASK) !== 0 || message.questions.length !== 1) return undefined;
  const question = message.questions[0];
  const wantsA = question.type === TYPE_A || question.type === TYPE_ANY;
  // Other types (AAAA, HTTPS) get an empty answer: the client then uses the A record.
  return encodeMessage({
    id: message.id,
    flags: FLAG_RESPONSE | FLAG_AUTHORITATIVE | (message.flags & FLAG_RECURSION_DESIRED) | FLAG_RECURSION_AVAILABLE,
    questions: [{ name: question.name, type: question.type, unicastResponse: false }],
    answers: wantsA ? [{ name: question.name, type: TYPE_A, cacheFlush: false, ttl: ANSWER_TTL_S, data: { kind: "a", address } }] : [],
    authorities: [],
    additionals: [],
  });
}

function ipv4Bytes(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) < 256)) return undefined;
  return Uint8Array.from(parts.map(Number));
}

export class CaptiveDns {
  private socket: DatagramSocket | undefined;
  private opening = false;
  // stop() during start()'s open: the socket that opens late is closed at once.
  private wanted = false;
  // For the log and tests.
  answered = 0;

  constructor(private readonly datagrams: Datagrams, private readonly log: Log) {}

  get running(): boolean {
    return this.socket !== undefined;
  }

  // The port it listens on (the one the host picked when 0 was asked for).
  get port(): number | undefined {
    return this.socket?.port;
  }

  // Answers every name with address (the access point's own) on port.
  async start(port: number, address: string, bindAddress?: string): Promise<void> {
    const bytes = ipv4Bytes(address);
    if (!bytes) throw new Error(`captive DNS: ${address} is not an IPv4 address`);
    this.wanted = true;
    if (this.socket || this.opening) return;
    this.opening = true;
    let socket: DatagramSocket;
    try {
      socket = await this.datagrams.open({ port, address: bindAddress }, (query: Uint8Array, from: UdpEndpoint) => {
        const answer = captiveAnswer(query, bytes);
        if (!answer) return;
        this.answered++;
        socket.send(answer, from);
      });
    } finally {
      this.opening = false;
    }
    if (!this.wanted) return socket.close();
    this.socket = socket;
    this.log("info", `captive DNS: every name is ${address} (port ${port})`);
  }

  stop(): void {
    this.wanted = false;
    if (!this.socket) return;
    this.socket.close();
    this.socket = undefined;
    this.log("info", "captive DNS: stopped");
  }
}
