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

export function moddableResolver(configured?: string[]): Resolver {
  return {
    resolve(name: string, timeoutMs: number): Promise<string[]> {
      if (isIpv4(name)) return Promise.resolve([name]);
      if (name === "localhost") return Promise.resolve(["127.0.0.1"]);
      const servers = (configured ?? systemServers()).map(parseServer).filter((s) => s !== undefined);
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
      return new Promise((resolve, reject) => {
        let sent = 0;
        let retry: Timer | undefined;
        let deadline: Timer | undefined;
        let socket: UDP | undefined;
        const settle = (addresses: string[] | undefined, why: string) => {
          Timer.clear(retry);
          Timer.clear(deadline);
          retry = deadline = undefined;
          // close() is in the SDK's UDP sockets (lin, lwIP) but not in its typings.
          (socket as unknown as { close(): void } | undefined)?.close();
          socket = undefined;
          if (addresses) resolve(addresses);
          else reject(new Error(`resolve ${name}: ${why}`));
        };
        const answer = (packet: ArrayBuffer) => {
          let message;
          try {
            message = decodeMessage(new Uint8Array(packet));
          } catch {
            return;  // not DNS: keep waiting
          }
          if (message.id !== id || !(message.flags & FLAG_RESPONSE)) return;
          const rcode = message.flags & RCODE_MASK;
          if (rcode !== 0) return settle(undefined, rcode === 3 ? "no such name" : `server answered rcode ${rcode}`);
          // CNAME records come first in the answer; the A records that follow
          // are the canonical name's.
          const addresses: string[] = [];
          for (const record of message.answers) {
            if (record.type === TYPE_A && record.data.kind === "a") addresses.push(Array.from(record.data.address).join("."));
          }
          settle(addresses.length > 0 ? addresses : undefined, "no IPv4 address");
        };
        try {
          socket = new UDP({
            format: "buffer",
            onReadable(count: number) {
              for (let i = 0; i < count && socket; i++) {
                const packet = this.read();
                if (packet) answer(packet);
              }
            },
          });
        } catch (error) {
          return settle(undefined, `no UDP socket (${String(error)})`);
        }
        const send = () => {
          const server = servers[sent++ % servers.length];
          try {
            socket?.write(query, server.address, server.port);
          } catch {
            // A full send queue: the next retry sends again.
          }
        };
        send();
        retry = Timer.set(send, RETRY_MS, RETRY_MS);
        deadline = Timer.set(() => {
          deadline = undefined;
          settle(undefined, `timed out after ${timeoutMs} ms`);
        }, timeoutMs);
      });
    },
  };
}
