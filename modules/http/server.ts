import type { Clock, TimerId } from "../hal/clock.js";
import type { Log } from "../hal/log.js";
import type { Tcp, TcpConnection, TcpListener } from "../hal/tcp.js";
import { utf8Encode } from "../text/utf8.js";
import { Connection } from "./connection.js";
import type { HttpRequest } from "./request.js";
import { encodeResponse, type HttpResponse } from "./response.js";

// The listener and its slot policy: which connections are let in, and which
// one gives up its slot when they are all taken. What happens on a
// connection is connection.ts; what a handler sees is request.ts and
// response.ts, re-exported here so handlers import the server alone.
export { HttpRequest, readSmallBody, type BodyConsumer } from "./request.js";
export { HttpResponse, encodeResponse, type ResponseOptions } from "./response.js";

// Defaults are sized for the board (a few KiB per connection); the desktop
// host may raise the byte budgets. The manifest sets the board's connection
// count and head size.
export interface HttpServerOptions {
  port: number;
  host: string;
  // Fixed memory: each connection owns one head buffer of maxHeaderBytes.
  maxConnections: number;
  // Slots one remote address may hold, so one LAN host cannot take them all.
  // Loopback is exempt: it is the device itself, or the desktop user's own
  // tools. Absent: half of maxConnections, rounded up.
  maxConnectionsPerAddress?: number;
  maxHeaderBytes: number;
  maxHeaders: number;
  // A connection that sends nothing for this long while we wait on it is closed.
  idleTimeoutMs: number;
  // A response the client has stopped reading is given up after this long
  // (idleTimeoutMs when absent): on the board it holds a connection, its
  // buffers and its page's writer, which the heap wants back sooner.
  stallTimeoutMs?: number;
  // A new connection must send its first byte within this long (at most
  // idleTimeoutMs): a silent connection is a slot held for nothing.
  firstByteTimeoutMs: number;
  // The whole head must arrive within this long of its first byte, however
  // steadily it trickles in (slowloris).
  headTimeoutMs: number;
  // Bytes a host may hand over after being asked to pause (it should stop at
  // once; one read's worth is tolerated). Beyond this the connection closes.
  maxHeldBytes: number;
  // Unread body bytes up to this many are read and dropped after an early
  // response so the connection can be kept; more than this and it is closed.
  // Reading costs time, not memory: the bytes pass through and are dropped.
  discardLimit: number;
}

export const defaultHttpServerOptions: HttpServerOptions = {
  port: 8631,
  host: "127.0.0.1",
  maxConnections: 8,
  maxHeaderBytes: 8192,
  maxHeaders: 48,
  idleTimeoutMs: 30_000,
  firstByteTimeoutMs: 5_000,
  headTimeoutMs: 10_000,
  // The board's TCP window is under 6 KiB, so one read is smaller than this.
  maxHeldBytes: 16 * 1024,
  discardLimit: 16 * 1024,
};

export type HttpHandler = (request: HttpRequest, response: HttpResponse) => void;

// How long a refused socket waits for its request, and how many may wait at once.
const REFUSED_LINGER_MS = 500;
const MAX_LINGERING = 2;

export class HttpServer {
  private listener: TcpListener | undefined;
  private readonly connections = new Set<Connection>();
  readonly options: HttpServerOptions;
  private readonly perAddress: number;
  private lingering = 0;

  constructor(
    private readonly tcp: Tcp,
    readonly clock: Clock,
    readonly log: Log,
    options: Partial<HttpServerOptions>,
    readonly handler: HttpHandler,
  ) {
    this.options = { ...defaultHttpServerOptions, ...options };
    this.perAddress = Math.max(1, this.options.maxConnectionsPerAddress ?? Math.ceil(this.options.maxConnections / 2));
  }

  get port(): number {
    return this.listener ? this.listener.port : this.options.port;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async start(): Promise<number> {
    this.listener = await this.tcp.listen({ port: this.options.port, host: this.options.host }, (socket) => this.accept(socket));
    return this.listener.port;
  }

  stop(): void {
    this.listener?.close();
    this.listener = undefined;
    for (const connection of [...this.connections]) connection.close();
  }

  // A newcomer at a limit takes the slot of a connection doing nothing useful
  // rather than being refused: a slowloris or a silent connection holds its
  // slot only until someone else wants it.
  private accept(socket: TcpConnection): void {
    const address = socket.remoteAddress;
    if (!isLoopback(address) && this.countFrom(address) >= this.perAddress) {
      // Over its share, an address can only displace its own connections.
      if (!this.makeRoom(address)) return this.refuse(socket, "too many connections from your address");
    }
    if (this.connections.size >= this.options.maxConnections && !this.makeRoom(undefined)) {
      return this.refuse(socket, "too many connections");
    }
    this.connections.add(new Connection(this, socket));
  }

  private countFrom(address: string): number {
    let n = 0;
    for (const connection of this.connections) if (connection.remoteAddress === address) n++;
    return n;
  }

  // Closes the connection that is least use to anyone: the longest idle
  // between requests (a keep-alive connection, or one that has sent nothing);
  // failing that, the head that has been arriving the longest (a real client
  // sends its head in a round trip); last, a connection too new to have sent
  // anything yet. A connection reading a body, waiting for its handler or
  // discarding is real work and is never chosen.
  private makeRoom(address: string | undefined): boolean {
    const now = this.clock.monotonic();
    let idle: Connection | undefined;
    let slow: Connection | undefined;
    let fresh: Connection | undefined;
    for (const c of this.connections) {
      if (address !== undefined && c.remoteAddress !== address) continue;
      if (c.betweenRequests) {
        // A burst of newcomers must not push out a client whose request is
        // still on its way in behind them.
        if (c.isFresh(now)) {
          if (!fresh || c.idleSince < fresh.idleSince) fresh = c;
        } else if (!idle || c.idleSince < idle.idleSince) {
          idle = c;
        }
      } else if (c.readingHead) {
        if (!slow || c.headStartedAt < slow.headStartedAt) slow = c;
      }
    }
    const victim = idle ?? slow ?? fresh;
    if (!victim) return false;
    victim.evict();
    return true;
  }

  // Closes every keep-alive connection waiting for its next request (not one
  // just accepted, whose request may be on its way): on the board each holds
  // a head buffer and a few hundred slots, the first memory to give back
  // when the heap is short. Returns how many were closed.
  closeIdle(): number {
    const now = this.clock.monotonic();
    let closed = 0;
    for (const c of [...this.connections]) {
      if (!c.betweenRequests || c.isFresh(now)) continue;
      c.evict();
      closed++;
    }
    return closed;
  }

  // Say why before closing, so a client can tell overload from a crash.
  private refuse(socket: TcpConnection, why: string): void {
    socket.write(encodeResponse(503, "Service Unavailable", "text/plain", utf8Encode(why + "\n"), [["Retry-After", "1"]], false));
    if (this.lingering >= MAX_LINGERING) {
      socket.setEvents({ data() {}, drain() {}, close() {} });
      return socket.end();
    }
    this.lingering++;
    const refused = new Refused(this, socket);
    socket.setEvents(refused);
    refused.start(REFUSED_LINGER_MS);
  }

  lingerEnded(): void {
    this.lingering--;
  }

  forget(connection: Connection): void {
    this.connections.delete(connection);
  }
}

// A refused socket waiting for its request to arrive (read and dropped)
// before it is closed: closed with the request unread, or before it came,
// the socket answers it with a reset, and the client may lose the 503 it
// was sent. A few at once, briefly; beyond that they close at once.
class Refused {
  private timer: TimerId | undefined;

  constructor(private readonly server: HttpServer, private readonly socket: TcpConnection) {}

  // Dropped: all that matters is that it was read. The client closing (it
  // read the 503) or the timer ends the wait.
  data(): void {}

  drain(): void {}

  close(): void {
    if (this.timer === undefined) return;
    this.server.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.server.lingerEnded();
    this.socket.end();
  }

  start(lingerMs: number): void {
    this.timer = this.server.clock.setTimer(() => this.close(), lingerMs);
  }
}

function isLoopback(address: string): boolean {
  return address.startsWith("127.") || address === "::1" || address.startsWith("::ffff:127.");
}
