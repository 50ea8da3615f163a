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
  // false: neither offer a kept session nor keep this one. For a long-lived
  // connection (XMPP), so its session does not take the place of the one the
  // short calls (HTTPS) resume: a host may keep only one (the Moddable SDK's
  // TLS keeps one, by server name), and a full handshake costs a board far
  // more memory than a resumed one.
  resume?: boolean;
}

export interface Tls {
  // Resolves with the encrypted connection once the handshake has verified
  // the server; rejects with an Error naming what failed (an untrusted or
  // expired certificate, a name mismatch, a handshake error). The plain
  // connection belongs to the TLS connection from then on.
  wrap(connection: TcpConnection, options: TlsOptions): Promise<TcpConnection>;
}
