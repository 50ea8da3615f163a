// The one UDP use of the firmware: the mDNS socket (224.0.0.251:5353) on one
// chosen interface.

export interface UdpEndpoint {
  address: string;
  port: number;
}

export interface MdnsSocket {
  // The interface's own addresses, for the A and AAAA records: 4 or 16 bytes each.
  readonly addresses: Uint8Array[];
  send(bytes: Uint8Array, to: UdpEndpoint): void;
  close(): void;
}

export interface Udp {
  // Joins the mDNS group on the host's chosen interface, with address reuse
  // so another responder (avahi) can run beside ours.
  openMdns(onMessage: (bytes: Uint8Array, from: UdpEndpoint) => void): Promise<MdnsSocket>;
}

export const MDNS_GROUP: UdpEndpoint = { address: "224.0.0.251", port: 5353 };
