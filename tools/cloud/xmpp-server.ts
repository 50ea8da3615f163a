import * as net from "node:net";
import * as tls from "node:tls";
import type { AddressInfo } from "node:net";
import { DEFAULT_XML_LIMITS, type XmlLimits } from "./xmpp-xml.js";
import { XmppSession, type SessionHost, type TransportMode, type XmppIdentity } from "./xmpp-session.js";

// The emulator's XMPP side: up to three listeners, as reference 3.1 and 0.5 describe.
// Plain text (the firmware's tests on loopback), STARTTLS (the official raw-XMPP page,
// with <required/>) and direct TLS (Google's own connector and cloudprint 0.14). All of
// them lead to the same sessions, and a push reaches every subscribed session it is for.

export interface XmppConfig {
  // Plain-text listener; 0 picks a free port.
  port?: number;
  // Key and certificate (PEM). Without them the TLS listeners are not started and STARTTLS is never offered.
  tls?: { key: string | Buffer; cert: string | Buffer };
  // Only with tls; 0 (the default) picks a free port.
  starttlsPort?: number;
  directTlsPort?: number;
  // The server's own name in stream headers and ping results (reference 3.2: gmail.com).
  domain?: string;
  // Send pushes as the captured <push:push xmlns:push="google:push"> form instead of the default prefix-free one.
  prefixedPush?: boolean;
  limits?: Partial<XmppLimits>;
  // One line per session event (connected, SASL, bound, subscribed, push, stream error, closed); never a token.
  onLog?: (line: string) => void;
  // How long a shutdown waits for clients to read the end of their streams and hang up (default 1 s).
  shutdownGraceMs?: number;
}

export interface XmppLimits extends XmlLimits {
  maxSessions: number;
  authTimeoutSeconds: number;
  // Devices ping every xmpp_timeout_value (300 s or more, plus jitter); allow a missed ping or two.
  idleTimeoutSeconds: number;
  maxQueuedBytes: number;
}

const SHUTDOWN_GRACE_MS = 1000;

export const DEFAULT_XMPP_LIMITS: XmppLimits = {
  ...DEFAULT_XML_LIMITS,
  maxSessions: 512,
  authTimeoutSeconds: 30,
  idleTimeoutSeconds: 1200,
  maxQueuedBytes: 256 * 1024,
};

// What the service object shows a device (or a person) about where to connect.
export interface XmppEndpoints {
  host: string;
  domain: string;
  port: number;
  starttlsPort?: number;
  directTlsPort?: number;
}

export interface XmppServer extends XmppEndpoints {
  // Delivers one push to every subscribed session for printerId; returns how many got it.
  push(printerId: string, payload: string, ownerId?: string): number;
  sessions(): XmppSession[];
  // Ends the streams of printerId's robot: its credentials are gone with it.
  disconnect(printerId: string, reason: string): number;
  // Ends every stream with </stream:stream>, waits a moment for the clients to close, then drops the rest.
  close(): Promise<void>;
}

export interface XmppHooks {
  authenticate(authcid: string, token: string): XmppIdentity | undefined;
  // Whether a session of this identity hears about printerId (its robot, or its owner).
  concerns(identity: XmppIdentity, printerId: string, ownerId?: string): boolean;
  // Any sign of life from an authenticated session: the service's stand-in for presence.
  activity?(identity: XmppIdentity): void;
  onError?(error: unknown): void;
}

export async function startXmppServer(host: string, config: XmppConfig, hooks: XmppHooks): Promise<XmppServer> {
  const limits: XmppLimits = { ...DEFAULT_XMPP_LIMITS, ...config.limits };
  const domain = config.domain ?? "gmail.com";
  const sessions = new Set<XmppSession>();
  // Numbers tell the lines of concurrent sessions apart in a log.
  const numbers = new WeakMap<XmppSession, number>();
  let counter = 0;
  let drained: (() => void) | undefined;
  const secureContext = config.tls ? tls.createSecureContext({ key: config.tls.key, cert: config.tls.cert }) : undefined;

  const hostFor = (mode: TransportMode): SessionHost => ({
    domain, mode, secureContext, limits,
    authTimeoutSeconds: limits.authTimeoutSeconds,
    idleTimeoutSeconds: limits.idleTimeoutSeconds,
    maxQueuedBytes: limits.maxQueuedBytes,
    prefixedPush: config.prefixedPush === true,
    authenticate: hooks.authenticate,
    bound: () => {},
    activity: (session) => { if (session.identity) hooks.activity?.(session.identity); },
    closed: (session) => {
      sessions.delete(session);
      if (sessions.size === 0) drained?.();
    },
    log: (session, message) => {
      if (!config.onLog) return;
      if (!numbers.has(session)) numbers.set(session, ++counter);
      config.onLog(`xmpp #${numbers.get(session)} ${message}`);
    },
    onError: (error) => (hooks.onError ?? ((e: unknown) => process.stderr.write(`cloud xmpp: ${(e as Error)?.stack ?? String(e)}\n`)))(error),
  });

  const accept = (mode: TransportMode) => (socket: net.Socket) => {
    socket.on("error", () => socket.destroy());
    if (sessions.size >= limits.maxSessions) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    sessions.add(new XmppSession(socket, hostFor(mode)));
  };

  const servers: net.Server[] = [];
  const listen = async (server: net.Server, port: number): Promise<number> => {
    servers.push(server);
    // A hostile handshake is the client's problem, never the listener's.
    server.on("tlsClientError", (_error: Error, socket: tls.TLSSocket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => { server.off("error", reject); resolve(); });
    });
    return (server.address() as AddressInfo).port;
  };

  try {
    const port = await listen(net.createServer(accept("plain")), config.port ?? 0);
    let starttlsPort: number | undefined;
    let directTlsPort: number | undefined;
    if (secureContext) {
      starttlsPort = await listen(net.createServer(accept("starttls")), config.starttlsPort ?? 0);
      // The handshake gets a deadline too, or a client that stops halfway would hold a slot.
      directTlsPort = await listen(tls.createServer({ key: config.tls!.key, cert: config.tls!.cert, handshakeTimeout: limits.authTimeoutSeconds * 1000 }, accept("tls")), config.directTlsPort ?? 0);
    }
    return {
      host, domain, port, starttlsPort, directTlsPort,
      push(printerId, payload, ownerId) {
        let delivered = 0;
        for (const session of sessions) {
          if (session.identity && hooks.concerns(session.identity, printerId, ownerId) && session.push(payload)) delivered++;
        }
        return delivered;
      },
      sessions: () => [...sessions],
      disconnect(printerId, reason) {
        let ended = 0;
        for (const session of sessions) {
          if (session.printerId !== printerId) continue;
          session.shutdown(reason);
          ended++;
        }
        return ended;
      },
      close: async () => {
        // No new connection may slip in while the open ones wind down.
        const listening = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
        if (sessions.size > 0) {
          const settled = new Promise<void>((resolve) => { drained = resolve; });
          for (const session of sessions) session.shutdown("the emulator is stopping");
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([settled, new Promise<void>((resolve) => { timer = setTimeout(resolve, config.shutdownGraceMs ?? SHUTDOWN_GRACE_MS); })]);
          clearTimeout(timer);
          for (const session of sessions) session.close();
          sessions.clear();
        }
        await listening;
      },
    };
  } catch (error) {
    for (const s of servers) s.close();
    throw error;
  }
}
