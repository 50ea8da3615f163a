import Listener from "embedded:io/socket/listener";
import TCP from "embedded:io/socket/tcp";
import type { Tcp, TcpConnectOptions, TcpConnection, TcpConnectionEvents, TcpListener, TcpListenOptions } from "../../modules/hal/tcp.js";

// TCP on ECMA-419 sockets. Received data stays in the socket until read(),
// and a socket whose buffer is full stops reading from the network, so
// pause() really closes the TCP window: a slow engine holds the client back
// (Privet 5.2) without the firmware buffering anything.

class ModdableTcpConnection implements TcpConnection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  private readonly socket: TCP;
  private events: TcpConnectionEvents | undefined;
  private readonly queue: Uint8Array[] = [];
  private writable = 0;
  private paused = false;
  private ending = false;
  private closed = false;

  constructor(from: TCP) {
    const self = this;
    this.socket = new TCP({
      from,
      format: "buffer",
      onReadable() { self.readAll(); },
      onWritable(count: number) { self.writable = count; self.flush(); },
      onError() { self.finish(true); },
    });
    this.remoteAddress = String(this.socket.remoteAddress ?? "");
    this.remotePort = Number(this.socket.remotePort ?? 0);
  }

  private readAll(): void {
    // One buffer at a time, and none while paused: what is not read waits in the socket.
    while (!this.paused && !this.closed) {
      const buffer = this.socket.read();
      if (!(buffer instanceof ArrayBuffer) || buffer.byteLength === 0) return;
      this.events?.data(new Uint8Array(buffer));
    }
  }

  private flush(): void {
    while (this.writable > 0 && this.queue.length > 0 && !this.closed) {
      const head = this.queue[0];
      const n = Math.min(this.writable, head.length);
      this.socket.write(n === head.length ? head : head.subarray(0, n));
      this.writable -= n;
      if (n === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(n);
    }
    if (this.queue.length > 0) return;
    if (this.ending) this.destroy();
    else this.events?.drain();
  }

  setEvents(events: TcpConnectionEvents): void {
    this.events = events;
  }

  write(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    this.queue.push(bytes);
    this.flush();
    return this.queue.length === 0;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.readAll();
  }

  end(): void {
    this.ending = true;
    if (this.queue.length === 0) this.destroy();
  }

  destroy(): void {
    if (this.closed) return;
    this.socket.close();
    this.finish(false);
  }

  private finish(hadError: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.events?.close(hadError);
  }
}

export const moddableTcp: Tcp = {
  listen(options: TcpListenOptions, onConnection: (connection: TcpConnection) => void): Promise<TcpListener> {
    const listener = new Listener({
      port: options.port,
      onReadable(count: number) {
        for (let i = 0; i < count; i++) {
          const from = this.read();
          if (from) onConnection(new ModdableTcpConnection(from));
        }
      },
    });
    // close() exists on the SDK's Listener (listener.js) but not in its typings.
    const closable = listener as unknown as { close(): void };
    return Promise.resolve({ port: options.port, close: () => closable.close() });
  },
  connect(options: TcpConnectOptions): Promise<TcpConnection> {
    // Outbound sockets on the board are the next step (issue 9); say so plainly.
    return Promise.reject(new Error(`outbound TCP to ${options.address}:${options.port} is not available on this host yet`));
  },
};
