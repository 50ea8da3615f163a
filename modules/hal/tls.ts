import type { TcpConnection } from "./tcp.js";

// TLS as a service that wraps an open connection, as the ECMA-419 TLS socket
// wraps a TCP socket: a client connects, then wraps (at once for HTTPS, after
// the server's go-ahead for XMPP's STARTTLS).

export interface TlsOptions {
  // The name the certificate must carry (SNI and hostname check).
  serverName: string;
  // PEM certificates the server's chain must lead to; the host's defaults
  // when absent.
  trustAnchors?: string[];
  // Test only: also trust this one self-signed PEM certificate.
  trustSelfSigned?: string;
  timeoutMs: number;
}

export interface Tls {
  // Resolves with the encrypted connection once the handshake has verified
  // the server; rejects with an Error naming what failed (an untrusted or
  // expired certificate, a name mismatch, a handshake error). The plain
  // connection belongs to the TLS connection from then on.
  wrap(connection: TcpConnection, options: TlsOptions): Promise<TcpConnection>;
}
