import * as dgram from "node:dgram";
import * as os from "node:os";
import type { DatagramSocket, Datagrams, MdnsSocket, Udp, UdpEndpoint } from "../../modules/hal/udp.js";
import { MDNS_GROUP } from "../../modules/hal/udp.js";

function ipv4Bytes(address: string): Uint8Array {
  return Uint8Array.from(address.split(".").map(Number));
}

function ipv6Bytes(address: string): Uint8Array {
  const [head, tail = ""] = address.split("%")[0].split("::");
  const part = (s: string) => (s === "" ? [] : s.split(":").map((h) => parseInt(h, 16)));
  const a = part(head), b = part(tail);
  const words = address.includes("::") ? [...a, ...new Array(8 - a.length - b.length).fill(0), ...b] : a;
  const out = new Uint8Array(16);
  words.forEach((w, i) => { out[2 * i] = w >> 8; out[2 * i + 1] = w & 0xff; });
  return out;
}

// The addresses of the interface that owns interfaceAddress.
function interfaceAddresses(interfaceAddress: string): Uint8Array[] {
  for (const entries of Object.values(os.networkInterfaces())) {
    if (!entries?.some((e) => e.address === interfaceAddress)) continue;
    return entries
      .filter((e) => !e.internal || e.address === interfaceAddress)
      .filter((e) => e.family === "IPv4" || !e.internal)
      .map((e) => (e.family === "IPv4" ? ipv4Bytes(e.address) : ipv6Bytes(e.address)));
  }
  return [ipv4Bytes(interfaceAddress)];
}

// The first IPv4 address of a real interface, for --lan.
export function firstLanAddress(): string | undefined {
  for (const entries of Object.values(os.networkInterfaces())) {
    const v4 = entries?.find((e) => e.family === "IPv4" && !e.internal);
    if (v4) return v4.address;
  }
  return undefined;
}

// mDNS on one IPv4 interface. Multicast leaves by interfaceAddress only
// (IP_MULTICAST_IF): without it Linux would route 224.0.0.251 out of the
// machine even when we mean loopback.
export function nodeUdp(interfaceAddress = "127.0.0.1"): Udp {
  const loopbackOnly = interfaceAddress.startsWith("127.");
  return {
    openMdns(onMessage: (bytes: Uint8Array, from: UdpEndpoint) => void): Promise<MdnsSocket> {
      return new Promise((resolve, reject) => {
        const socket = dgram.createSocket({ type: "udp4", reuseAddr: true });
        socket.once("error", reject);
        socket.on("message", (bytes, rinfo) => {
          // A socket bound to 0.0.0.0 can also hear the group on other
          // interfaces; on loopback, listen to loopback alone.
          if (loopbackOnly && !rinfo.address.startsWith("127.")) return;
          onMessage(bytes, { address: rinfo.address, port: rinfo.port });
        });
        socket.bind({ port: MDNS_GROUP.port, address: "0.0.0.0", exclusive: false }, () => {
          try {
            socket.setMulticastInterface(interfaceAddress);
            socket.addMembership(MDNS_GROUP.address, interfaceAddress);
            socket.setMulticastTTL(255);
            socket.setMulticastLoopback(true);
          } catch (error) {
            socket.close();
            return reject(error);
          }
          socket.off("error", reject);
          socket.on("error", () => {});
          resolve({
            addresses: interfaceAddresses(interfaceAddress),
            send: (bytes, to) => socket.send(bytes, to.port, to.address),
            close: () => socket.close(),
          });
        });
      });
    },
  };
}

// Unicast UDP for the core (SNTP, the setup access point's DNS), bound to
// defaultAddress unless the caller names one: loopback in tests and by
// default, so a server started here is not on the LAN.
export function nodeDatagrams(defaultAddress = "127.0.0.1"): Datagrams {
  return {
    open(options, onMessage): Promise<DatagramSocket> {
      return new Promise((resolve, reject) => {
        const socket = dgram.createSocket("udp4");
        socket.once("error", reject);
        socket.on("message", (bytes, rinfo) => onMessage(bytes, { address: rinfo.address, port: rinfo.port }));
        socket.bind({ port: options.port, address: options.address ?? defaultAddress }, () => {
          socket.off("error", reject);
          // An ICMP port-unreachable comes back as an error on Linux; for UDP it is just no answer.
          socket.on("error", () => {});
          let closed = false;
          resolve({
            port: socket.address().port,
            send: (bytes, to) => {
              if (!closed) socket.send(bytes, to.port, to.address, () => {});
            },
            close: () => {
              if (closed) return;
              closed = true;
              socket.close();
            },
          });
        });
      });
    },
  };
}
