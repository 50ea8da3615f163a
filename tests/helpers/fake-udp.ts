import type { MdnsSocket, Udp, UdpEndpoint } from "../../modules/hal/udp.js";
import { decodeMessage, type Message } from "../../modules/dns/message.js";
import type { FakeClock } from "./fake-clock.js";

export interface Delivery { at: number; from: UdpEndpoint; to: UdpEndpoint; bytes: Uint8Array; message: Message }

interface Member { address: string; port: number; receive: (bytes: Uint8Array, from: UdpEndpoint) => void }

// One multicast link: every packet to 224.0.0.251 reaches every member, the
// sender included (as IP_MULTICAST_LOOP does); unicast reaches one member.
// Delivery waits for the next clock tick, like a real network.
export class FakeNetwork {
  readonly log: Delivery[] = [];
  private readonly members: Member[] = [];

  constructor(readonly clock: FakeClock) {}

  join(address: string, port: number, receive: Member["receive"]): (bytes: Uint8Array, to: UdpEndpoint) => void {
    const member = { address, port, receive };
    this.members.push(member);
    return (bytes, to) => {
      const copy = Uint8Array.from(bytes);
      // The log is for checking what responders send; garbage a test injects is not logged.
      let message: Message | undefined;
      try { message = decodeMessage(copy); } catch { message = undefined; }
      if (message) this.log.push({ at: this.clock.now, from: { address, port }, to, bytes: copy, message });
      const targets = to.address === "224.0.0.251" ? this.members : this.members.filter((m) => m.address === to.address && m.port === to.port);
      for (const target of targets) this.clock.setTimer(() => target.receive(copy, { address, port }), 0);
    };
  }

  udpFor(address: string): Udp {
    return {
      openMdns: (onMessage) => {
        const send = this.join(address, 5353, onMessage);
        const socket: MdnsSocket = {
          addresses: [Uint8Array.from(address.split(".").map(Number))],
          send,
          close: () => {},
        };
        return Promise.resolve(socket);
      },
    };
  }

  sentBy(address: string): Delivery[] {
    return this.log.filter((d) => d.from.address === address);
  }
}
