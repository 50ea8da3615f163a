// The SDK's ECMA-419 TLS session ("ssl/session", modules/crypt/ssl/session_419.js
// through modules/crypt/tls_419.json) ships without typings. Declared here from
// its source, only what hosts/moddable/tls.ts uses; tls.ts references this file,
// so mcconfig's tsc and CI's tsconfig.moddable.json both see it.

declare module "ssl/session" {
  // Any object with the ECMA-419 socket's shape: the session reads records
  // into views of its own buffers and adjusts the counts as it goes.
  interface SessionSocket {
    readable: number;
    writable: number;
    read(into: Uint8Array): unknown;
    write(packet: ArrayBuffer | Uint8Array): number;
  }

  class Session {
    constructor(options: {
      // SNI, and the name the server's certificate must carry.
      serverName?: string;
      // 0x303 is TLS 1.2, the newest the SDK speaks.
      protocolVersion?: number;
      // A DER trust anchor; the session's certificate manager registers it.
      certificate?: ArrayBuffer;
      // false skips certificate verification (never used here).
      verify?: boolean;
      // Session resumption cache, on unless false.
      cache?: boolean;
      // RFC 6066's max_fragment_length, in bytes (512, 1024, 2048 or 4096).
      tls_max_fragment_length?: number;
    });
    // The next handshake step, -1 while waiting for the peer's records.
    handshakeProcess: number;
    // Set when an alert was received or is to be sent; description 0 is close_notify.
    alert?: { level: number; description: number };
    // Holds the trust anchors until the handshake ends.
    certificateManager: { register(der: ArrayBuffer): void };
    // Makes this side the client: the first handshake step sends ClientHello.
    initiateHandshake(): void;
    // One step: true once the handshake finished (or an alert stopped it);
    // throws a TLSError when the peer cannot be trusted or misbehaves.
    handshake(socket: SessionSocket): boolean;
    // One record's application data; undefined while a record is incomplete,
    // null once the peer closed.
    read(socket: SessionSocket): Uint8Array | null | undefined;
    // Encrypts data as one record (at most 16 KB) and writes it.
    write(socket: SessionSocket, data: Uint8Array): number;
    // Sends close_notify.
    close(socket: SessionSocket): void;
  }
  export default Session;
}
