import UDP from "embedded:io/socket/udp";
import Net from "net";
import Timer from "timer";
import { decodeMessage, encodeMessage, FLAG_RESPONSE, TYPE_A } from "../../modules/dns/message.js";
import type { Resolver } from "../../modules/hal/resolver.js";

// Names to IPv4 addresses with a unicast DNS query (RFC 1035) over the
// ECMA-419 UDP socket, encoded and decoded by the core's DNS codec. The
// servers are the configured ones (privet.dns.servers, "a.b.c.d" or
// "a.b.c.d:port") or else the ones DHCP gave the board (Net.get("DNS") on the
// ESP32). The SDK has no ECMA-419 resolver among its io modules; its older
// Net.resolve (lwIP's resolver) exists on the ESP32 but is not implemented on
// lin, so this one path serves the board and the simulator alike.

const FLAG_RECURSION_DESIRED = 0x0100;
const RCODE_MASK = 0x000f;
const DNS_PORT = 53;
// Ask again (the next server, in turn) this often until the caller's timeout.
const RETRY_MS = 1000;

function isIpv4(name: string): boolean {
  const parts = name.split(".");
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) < 256);
}

function parseServer(text: string): { address: string; port: number } | undefined {
  const [address, port] = text.split(":");
  if (!isIpv4(address)) return undefined;
  return { address, port: port ? Number(port) : DNS_PORT };
}

function systemServers(): string[] {
  // An array of addresses on the ESP32; nothing on lin.
  const value = Net.get("DNS") as unknown;
  if (Array.isArray(value)) return value.map(String);
  return typeof value === "string" && value ? [value] : [];
}

// One query in flight: its socket, timers and promise. A class, not closures
// made per call: closures made at run time each take a copy of their byte
// code (this resolver's was 2 KB) and an environment in the heap, while
// methods stay in flash with the preloaded module.
class Lookup {
  private sent = 0;
  private retry: Timer | undefined;
  private deadline: Timer | undefined;
  private socket: UDP | undefined;
  private resolve!: (addresses: string[]) => void;
  private reject!: (error: Error) => void;

  constructor(private readonly name: string, private readonly servers: Array<{ address: string; port: number }>,
    private readonly id: number, private readonly query: Uint8Array) {}

  start(timeoutMs: number, resolve: (addresses: string[]) => void, reject: (error: Error) => void): void {
    this.resolve = resolve;
    this.reject = reject;
    try {
      this.socket = new UDP({ format: "buffer", target: this, onReadable: onDatagrams });
    } catch (error) {
      return this.settle(undefined, `no UDP socket (${String(error)})`);
    }
    this.timeoutMs = timeoutMs;
    this.send();
    // Small closures that only call back: their copied code is a few bytes.
    this.retry = Timer.set(() => this.send(), RETRY_MS, RETRY_MS);
    this.deadline = Timer.set(() => this.expire(), timeoutMs);
  }

  private timeoutMs = 0;

  send(): void {
    const server = this.servers[this.sent++ % this.servers.length];
    try {
      this.socket?.write(this.query, server.address, server.port);
    } catch {
      // A full send queue: the next retry sends again.
    }
  }

  expire(): void {
    this.deadline = undefined;
    this.settle(undefined, `timed out after ${this.timeoutMs} ms`);
  }

  datagrams(socket: UDP, count: number): void {
    for (let i = 0; i < count && this.socket; i++) {
      const packet = socket.read();
      if (packet) this.answer(packet);
    }
  }

  private answer(packet: ArrayBuffer): void {
    let message;
    try {
      message = decodeMessage(new Uint8Array(packet));
    } catch {
      return;  // not DNS: keep waiting
    }
    if (message.id !== this.id || !(message.flags & FLAG_RESPONSE)) return;
    const rcode = message.flags & RCODE_MASK;
    if (rcode !== 0) return this.settle(undefined, rcode === 3 ? "no such name" : `server answered rcode ${rcode}`);
    // CNAME records come first in the answer; the A records that follow
    // are the canonical name's.
    const addresses: string[] = [];
    for (const record of message.answers) {
      if (record.type === TYPE_A && record.data.kind === "a") addresses.push(Array.from(record.data.address).join("."));
    }
    this.settle(addresses.length > 0 ? addresses : undefined, "no IPv4 address");
  }

  private settle(addresses: string[] | undefined, why: string): void {
    Timer.clear(this.retry);
    Timer.clear(this.deadline);
    this.retry = this.deadline = undefined;
    // close() is in the SDK's UDP sockets (lin, lwIP) but not in its typings.
    (this.socket as unknown as { close(): void } | undefined)?.close();
    this.socket = undefined;
    if (addresses) this.resolve(addresses);
    else this.reject(new Error(`resolve ${this.name}: ${why}`));
  }
}

function onDatagrams(this: UDP, count: number): void {
  (this as unknown as { target: Lookup }).target.datagrams(this, count);
}

class ModdableResolver implements Resolver {
  constructor(private readonly configured: string[] | undefined) {}

  resolve(name: string, timeoutMs: number): Promise<string[]> {
    if (isIpv4(name)) return Promise.resolve([name]);
    if (name === "localhost") return Promise.resolve(["127.0.0.1"]);
    const servers = (this.configured ?? systemServers()).map(parseServer).filter((s) => s !== undefined);
    if (servers.length === 0) return Promise.reject(new Error(`resolve ${name}: no DNS server (set privet.dns.servers)`));
    const labels = name.split(".").filter((l) => l.length > 0);
    const id = (Math.random() * 0xffff) | 0;
    const query = encodeMessage({
      id,
      flags: FLAG_RECURSION_DESIRED,
      questions: [{ name: labels, type: TYPE_A, unicastResponse: false }],
      answers: [],
      authorities: [],
      additionals: [],
    });
    const lookup = new Lookup(name, servers, id, query);
    return new Promise((resolve, reject) => lookup.start(timeoutMs, resolve, reject));
  }
}

export function moddableResolver(configured?: string[]): Resolver {
  return new ModdableResolver(configured);
}
