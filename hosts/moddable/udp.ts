import Net from "net";
import { Socket } from "socket";
import type { MdnsSocket, Udp, UdpEndpoint } from "../../modules/hal/udp.js";
import { MDNS_GROUP } from "../../modules/hal/udp.js";

// mDNS on the board's Wi-Fi interface with the SDK's UDP socket, which joins
// a multicast group on lwIP platforms (ESP32). On the Linux simulator the
// SDK's socket cannot join a group, so the simulator builds leave this out.

const DATA_RECEIVED = 2;

interface UdpSocket {
  callback: (message: number, count: number, address: string, port: number) => void;
  read(type: typeof ArrayBuffer): ArrayBuffer;
  write(address: string, port: number, data: ArrayBuffer): void;
  close(): void;
}

function ipv4Bytes(address: string): Uint8Array {
  return Uint8Array.from(address.split(".").map(Number));
}

export const moddableUdp: Udp = {
  openMdns(onMessage: (bytes: Uint8Array, from: UdpEndpoint) => void): Promise<MdnsSocket> {
    // The SDK's typings know neither the multicast option nor the sender's
    // address and port that UDP callbacks receive; both are in its socket code.
    const options = { kind: "UDP", port: MDNS_GROUP.port, multicast: MDNS_GROUP.address };
    const socket = new Socket(options as unknown as { listener: never }) as unknown as UdpSocket;
    socket.callback = function (message, _count, address, port) {
      if (message === DATA_RECEIVED) onMessage(new Uint8Array(socket.read(ArrayBuffer)), { address, port });
    };
    const ip = String(Net.get("IP") ?? "");
    return Promise.resolve({
      addresses: ip ? [ipv4Bytes(ip)] : [],
      send: (bytes, to) => socket.write(to.address, to.port, bytes.slice().buffer as ArrayBuffer),
      close: () => socket.close(),
    });
  },
};
