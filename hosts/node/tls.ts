import * as net from "node:net";
import * as tls from "node:tls";
import type { TcpConnection } from "../../modules/hal/tcp.js";
import type { Tls, TlsOptions } from "../../modules/hal/tls.js";
import { NodeTcpConnection } from "./tcp.js";

// TLS on node:tls over a connection the TCP HAL opened. The handshake takes
// the connection's socket; the result is again a NodeTcpConnection, so
// pause() stops reading the TLS socket and the TCP window closes as before.

// OpenSSL's verification codes that mean "the chain does not lead to a
// trusted certificate", as opposed to a broken handshake.
const TRUST_CODES = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN", "DEPTH_ZERO_SELF_SIGNED_CERT", "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "CERT_UNTRUSTED",
  "CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID", "CERT_REVOKED", "CERT_SIGNATURE_FAILURE",
  "CERT_CHAIN_TOO_LONG", "INVALID_CA", "CERT_REJECTED", "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
]);

function describe(error: Error & { code?: string; reason?: string; cert?: tls.PeerCertificate }, serverName: string): string {
  const code = error.code ?? "";
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    const names = error.cert?.subjectaltname;
    return `certificate is not valid for ${serverName}: ${names ? `it names ${names}` : error.reason ?? error.message}`;
  }
  if (TRUST_CODES.has(code)) return `certificate for ${serverName} is not trusted: ${code}`;
  return `TLS handshake with ${serverName} failed: ${code || error.message}`;
}

export const nodeTls: Tls = {
  wrap(connection: TcpConnection, options: TlsOptions): Promise<TcpConnection> {
    return new Promise((resolve, reject) => {
      if (!(connection instanceof NodeTcpConnection)) {
        reject(new Error("TLS: not a connection of the Node TCP host"));
        return;
      }
      const remote = { address: connection.remoteAddress, port: connection.remotePort };
      const socket = connection.takeSocket();
      const ca = [...(options.trustAnchors ?? tls.rootCertificates)];
      if (options.trustSelfSigned) ca.push(options.trustSelfSigned);
      const secure = tls.connect({
        socket,
        // SNI takes names only (RFC 6066 3); host is what the certificate is checked against.
        servername: net.isIP(options.serverName) ? undefined : options.serverName,
        host: options.serverName,
        ca,
        rejectUnauthorized: true,
        minVersion: "TLSv1.2",
      });
      let settled = false;
      const settle = (error: Error | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        secure.removeAllListeners("secureConnect");
        if (error) {
          secure.destroy();
          socket.destroy();
          reject(error);
          return;
        }
        // Nothing is read until the firmware has set its events, as with connect.
        secure.pause();
        resolve(new NodeTcpConnection(secure, remote));
      };
      const timer = setTimeout(() => settle(new Error(`TLS handshake with ${options.serverName} timed out after ${options.timeoutMs} ms`)), options.timeoutMs);
      secure.once("secureConnect", () => settle(undefined));
      secure.once("error", (error) => settle(new Error(describe(error, options.serverName))));
      secure.once("close", () => settle(new Error(`TLS handshake with ${options.serverName} failed: the connection closed`)));
    });
  },
};
