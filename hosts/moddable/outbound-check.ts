import type { Hal } from "../../modules/hal/hal.js";
import type { TcpConnection } from "../../modules/hal/tcp.js";

// The outbound check: at boot, when the config has privet.outboundCheck, the
// printer resolves a host, connects, wraps the connection in TLS against the
// configured trust anchors, logs whether the server's certificate verified,
// and keeps that connection open, idle. A printer maker uses it on a new board
// (or after changing trust anchors) to see that DNS, the route out, the trust
// anchors and the clock are right before any cloud service is configured:
// an unset clock shows as a refused certificate, and the log says the time
// the board believes. It goes only through the HAL (resolver, tcp, tls), as
// the cloud and XMPP clients will.

export interface OutboundCheckConfig {
  // A name or an IPv4 address.
  host: string;
  port: number;
  // The name the certificate must carry; host when absent.
  serverName?: string;
  // PEM certificates to trust; the host's defaults when absent.
  trustAnchors?: string[];
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 15_000;

export function startOutboundCheck(hal: Hal, config: OutboundCheckConfig, log: (message: string) => void): void {
  const say = (message: string) => log(`outbound check: ${message}`);
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const serverName = config.serverName ?? config.host;
  const tls = hal.tls;
  if (!tls) {
    say("this host has no TLS");
    return;
  }
  // Certificates are valid between two dates: an unset clock refuses them all.
  say(`clock reads ${new Date(hal.clock.wall()).toISOString()}`);
  let plain: TcpConnection | undefined;
  hal.resolver.resolve(config.host, timeoutMs)
    .then((addresses) => {
      say(`${config.host} is ${addresses.join(", ")}`);
      return hal.tcp.connect({ address: addresses[0], port: config.port, timeoutMs });
    })
    .then((connection) => {
      plain = connection;
      say(`TCP connected to ${connection.remoteAddress}:${connection.remotePort}`);
      return tls.wrap(connection, { serverName, trustAnchors: config.trustAnchors, timeoutMs });
    })
    .then((secure) => {
      plain = undefined;
      say(`TLS certificate verified for ${serverName}; holding the connection open`);
      let received = 0;
      secure.setEvents({
        data(chunk) {
          if (received === 0) say(`received ${chunk.length} bytes over TLS`);
          received += chunk.length;
        },
        drain() {},
        close(hadError) {
          say(`connection closed${hadError ? " with an error" : ""} after ${received} bytes received`);
        },
      });
      // One line, so the server side sees that data flows both ways.
      secure.write(new Uint8Array(Array.from("privet outbound check\r\n", (c) => c.charCodeAt(0))));
    })
    .catch((error) => {
      plain?.destroy();
      say(`failed: ${(error as Error)?.message ?? String(error)}`);
    });
}
