import type { Resolver } from "../../modules/hal/resolver.js";
import type { Tcp, TcpConnectOptions, TcpConnection, TcpConnectionEvents, TcpListener, TcpListenOptions } from "../../modules/hal/tcp.js";

// An in-memory socket pair end: the test plays the client, the server under
// test sees a TcpConnection. A paused connection queues what the "client"
// sends, as a kernel receive buffer would.
export class FakeConnection implements TcpConnection {
  readonly remotePort = 40000;
  private events: TcpConnectionEvents | undefined;
  private queued: Uint8Array[] = [];
  private written: Uint8Array[] = [];
  paused = false;
  pauseCount = 0;
  ended = false;
  destroyed = false;
  closedByPeer = false;

  constructor(readonly remoteAddress = "192.0.2.7") {}

  setEvents(events: TcpConnectionEvents): void {
    this.events = events;
  }

  // A client that has stopped reading: the socket takes writes but says it is full.
  full = false;

  write(bytes: Uint8Array): boolean {
    if (this.ended || this.destroyed) throw new Error("write after close");
    this.written.push(Uint8Array.from(bytes));
    return !this.full;
  }

  pause(): void {
    if (!this.paused) this.pauseCount++;
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    while (!this.paused && this.queued.length > 0 && !this.isClosed) this.events!.data(this.queued.shift()!);
  }

  end(): void {
    this.ended = true;
  }

  destroy(): void {
    this.destroyed = true;
  }

  get isClosed(): boolean {
    return this.ended || this.destroyed;
  }

  // Client side.
  send(data: Uint8Array | string): void {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    if (this.isClosed) return;
    if (this.paused) this.queued.push(bytes);
    else this.events!.data(bytes);
  }

  get queuedBytes(): number {
    return this.queued.reduce((n, b) => n + b.length, 0);
  }

  closeFromPeer(): void {
    this.closedByPeer = true;
    this.events!.close(false);
  }

  output(): string {
    return Buffer.concat(this.written).toString("latin1");
  }

  takeOutput(): string {
    const text = this.output();
    this.written = [];
    return text;
  }
}

export class FakeTcp implements Tcp {
  private onConnection: ((c: TcpConnection) => void) | undefined;

  listen(options: TcpListenOptions, onConnection: (c: TcpConnection) => void): Promise<TcpListener> {
    this.onConnection = onConnection;
    return Promise.resolve({ port: options.port || 8631, close: () => { this.onConnection = undefined; } });
  }

  // A client arriving at the listener: the test holds the client's end.
  accept(remoteAddress?: string): FakeConnection {
    const connection = new FakeConnection(remoteAddress);
    this.onConnection!(connection);
    return connection;
  }

  // Outbound connections reach the fake peers a test has registered.
  readonly peers = new Map<string, (connection: FakeConnection) => void>();

  connect(options: TcpConnectOptions): Promise<TcpConnection> {
    const peer = this.peers.get(`${options.address}:${options.port}`);
    if (!peer) return Promise.reject(new Error(`cannot connect to ${options.address}:${options.port}: ECONNREFUSED`));
    const connection = new FakeConnection();
    peer(connection);
    return Promise.resolve(connection);
  }
}

// Splits "HTTP/1.1 200 OK\r\n...\r\n\r\nbody" answers out of a byte stream.
export interface ParsedResponse { status: number; reason: string; headers: Record<string, string>; body: string }

export function parseResponses(text: string): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let rest = text;
  for (let guard = 0; guard < 1000 && rest.length > 0; guard++) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) throw new Error(`incomplete response: ${JSON.stringify(rest.slice(0, 200))}`);
    const lines = rest.slice(0, end).split("\r\n");
    const match = /^HTTP\/1\.1 (\d{3}) (.*)$/.exec(lines[0]);
    if (!match) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers["content-length"] ?? 0);
    out.push({ status: Number(match[1]), reason: match[2], headers, body: Buffer.from(rest.slice(end + 4, end + 4 + length), "latin1").toString("utf8") });
    rest = rest.slice(end + 4 + length);
  }
  return out;
}

// Literal addresses resolve to themselves, names from the test's table.
export function fakeResolver(names: Record<string, string[]> = {}): Resolver {
  return {
    resolve: (name) => /^\d+\.\d+\.\d+\.\d+$/.test(name) ? Promise.resolve([name])
      : names[name] ? Promise.resolve(names[name]) : Promise.reject(new Error(`cannot resolve ${name}: ENOTFOUND`)),
  };
}
