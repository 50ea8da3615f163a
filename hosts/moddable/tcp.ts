import { Listener, Socket } from "socket";
import type { Tcp, TcpConnection, TcpConnectionEvents, TcpListener, TcpListenOptions } from "../../modules/hal/tcp.js";

const MESSAGE_ERROR = -2, MESSAGE_DISCONNECTED = -1, MESSAGE_DATA = 2, MESSAGE_SENT = 3;
// What one write() may hand the socket while the rest waits for MESSAGE_SENT.
const WRITE_PIECE = 1024;

// The SDK socket only lets us read inside its callback and refuses a write
// that does not fit, so reads are handed over whole and writes are queued.
class ModdableTcpConnection implements TcpConnection {
  readonly remoteAddress = "";
  readonly remotePort = 0;
  private events: TcpConnectionEvents | undefined;
  private readonly queue: Uint8Array[] = [];
  private unacknowledged = false;
  private ending = false;
  private closed = false;

  constructor(private readonly socket: Socket) {
    const self = this;
    socket.callback = function (message, value) {
      self.onMessage(message, value ?? 0);
    };
  }

  private onMessage(message: number, value: number): void {
    if (this.closed) return;
    if (message === MESSAGE_DATA) {
      const buffer = this.socket.read(ArrayBuffer, value);
      this.events?.data(new Uint8Array(buffer));
    } else if (message === MESSAGE_SENT) {
      this.unacknowledged = false;
      this.flush();
    } else if (message === MESSAGE_DISCONNECTED || message === MESSAGE_ERROR) {
      this.finish(message === MESSAGE_ERROR);
    }
  }

  private flush(): void {
    while (this.queue.length > 0) {
      const space = this.socket.write();
      if (space <= 0) return;
      const head = this.queue[0];
      const n = Math.min(space, head.length, WRITE_PIECE);
      // The socket takes whole ArrayBuffers, not views.
      const piece = new Uint8Array(n);
      piece.set(head.subarray(0, n));
      this.socket.write(piece.buffer);
      this.unacknowledged = true;
      if (n === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(n);
    }
    if (this.queue.length === 0) {
      if (this.ending && !this.unacknowledged) this.destroy();
      else if (!this.ending) this.events?.drain();
    }
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

  // The SDK socket has no flow control of its own; the server holds what
  // arrives while paused (bounded by its own limit).
  pause(): void {}
  resume(): void {}

  end(): void {
    this.ending = true;
    if (this.queue.length === 0 && !this.unacknowledged) this.destroy();
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
    const listener = new Listener({ port: options.port });
    listener.callback = function () {
      onConnection(new ModdableTcpConnection(new Socket({ listener: this, noDelay: true })));
    };
    // Listener.close() exists in the SDK's socket.js but not in its typings.
    const closable = listener as unknown as { close(): void };
    return Promise.resolve({ port: options.port, close: () => closable.close() });
  },
};
