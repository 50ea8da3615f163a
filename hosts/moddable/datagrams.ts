import UDP from "embedded:io/socket/udp";
import type { DatagramSocket, Datagrams, UdpEndpoint } from "../../modules/hal/udp.js";

// Unicast UDP with the SDK's ECMA-419 socket (SNTP, the setup access point's
// DNS). The SDK binds to every interface whatever address is asked for,
// which on the board is what the access point's DNS needs anyway.

export const moddableDatagrams: Datagrams = {
  open(options, onMessage: (bytes: Uint8Array, from: UdpEndpoint) => void): Promise<DatagramSocket> {
    let socket: UDP | undefined;
    try {
      socket = new UDP({
        port: options.port === 0 ? undefined : options.port,
        format: "buffer",
        onReadable(count: number) {
          // count is what lwIP has queued, bounded by its packet buffers; a
          // packet left unread would not be announced again.
          for (let i = 0; i < count && socket; i++) {
            const packet = this.read();
            if (packet) onMessage(new Uint8Array(packet), { address: packet.address, port: packet.port });
          }
        },
      });
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const open = socket;
    return Promise.resolve({
      // The SDK does not say which port it picked; nothing in the core needs it for a client.
      port: options.port,
      send(bytes: Uint8Array, to: UdpEndpoint) {
        if (!socket) return;
        try {
          socket.write(bytes, to.address, to.port);
        } catch {
          // Out of packet buffers: the datagram is lost, as UDP allows.
        }
      },
      close() {
        socket = undefined;
        // close() is in the SDK's UDP sockets (lin, lwIP) but not in its typings.
        (open as unknown as { close(): void }).close();
      },
    });
  },
};
