// Stream sockets as callbacks with explicit backpressure, the shape both
// node:net and Moddable's ECMA-419 sockets can provide on one event loop.
// Inbound (listen) and outbound (connect) connections are the same object, so
// a download paused by a full engine closes the TCP window as an upload does.

export interface TcpConnectionEvents {
  // A chunk the connection owns until the callback returns; keep a view of it
  // only while the connection is paused.
  data(chunk: Uint8Array): void;
  // Everything written so far has left the host's buffer.
  drain(): void;
  // The peer closed or the connection failed; no more events follow.
  close(hadError: boolean): void;
}

export interface TcpConnection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  setEvents(events: TcpConnectionEvents): void;
  // Returns false when the host's send buffer is above its high-water mark;
  // wait for drain before writing much more.
  write(bytes: Uint8Array): boolean;
  // Stop delivering data, so the TCP receive window fills and the sender waits.
  pause(): void;
  resume(): void;
  // Close after everything written has been sent.
  end(): void;
  // Close now, dropping anything unsent.
  destroy(): void;
}

export interface TcpListener {
  readonly port: number;
  close(): void;
}

export interface TcpListenOptions {
  port: number;
  // "127.0.0.1" for loopback only, "0.0.0.0" for every interface.
  host: string;
}

export interface TcpConnectOptions {
  // An IPv4 address (resolve names first with the Resolver).
  address: string;
  port: number;
  // Give up if the connection is not established within this long.
  timeoutMs: number;
}

export interface Tcp {
  listen(options: TcpListenOptions, onConnection: (connection: TcpConnection) => void): Promise<TcpListener>;
  // Resolves once connected; rejects with an Error saying why (refused,
  // unreachable, timed out). Events may be set as soon as it resolves: no
  // data is delivered before setEvents.
  connect(options: TcpConnectOptions): Promise<TcpConnection>;
}
