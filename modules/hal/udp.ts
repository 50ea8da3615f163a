// UDP: the mDNS socket (224.0.0.251:5353) on one chosen interface, and plain
// unicast sockets for the few small exchanges of the core (SNTP's client,
// the setup access point's DNS server).

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

export interface DatagramSocket {
  // The local port, which the platform picks when 0 was asked for.
  readonly port: number;
  // A send that cannot be queued is dropped: UDP promises nothing, and every
  // user of these sockets retries or is answered again.
  send(bytes: Uint8Array, to: UdpEndpoint): void;
  close(): void;
}

export interface DatagramOptions {
  // 0 for any free port (a client).
  port: number;
  // The local address to bind; the host's choice when absent.
  address?: string;
}

export interface Datagrams {
  // Rejects when the port cannot be had (in use, or privileged).
  open(options: DatagramOptions, onMessage: (bytes: Uint8Array, from: UdpEndpoint) => void): Promise<DatagramSocket>;
}

export const MDNS_GROUP: UdpEndpoint = { address: "224.0.0.251", port: 5353 };
