import Listener from "embedded:io/socket/listener";
import TCP from "embedded:io/socket/tcp";
import config from "mc/config";
import Timer from "timer";
import type { Tcp, TcpConnectOptions, TcpConnection, TcpConnectionEvents, TcpListener, TcpListenOptions } from "../../modules/hal/tcp.js";

// TCP on ECMA-419 sockets. Received data stays in the socket until read(),
// and a socket whose buffer is full stops reading from the network, so
// pause() really closes the TCP window: a slow engine holds the client back
// (Privet 5.2) without the firmware buffering anything. Outbound connections
// are the same class, so a paused download closes the window the same way.

// What a layer that takes over the socket (TLS) receives instead of the
// connection: the socket's own events, with the counts ECMA-419 reports.
export interface SocketSink {
  readable(count: number): void;
  writable(count: number): void;
  error(): void;
}

// The raw socket, as handed to the layer that took it over.
export interface RawSocket {
  read(into: Uint8Array): void;
  write(bytes: Uint8Array): void;
  close(): void;
}

type Target = { from: TCP } | { address: string; port: number };

// privet.debugSockets: a trace line for every socket this host opens and
// closes, with how many it holds, to compare with the instruments' "Network
// sockets" (which also counts sockets the SDK holds that we no longer do).
const TRACE_SOCKETS = Boolean(config.privet?.debugSockets);
let socketSerial = 0;
let socketsHeld = 0;

function traceSocket(id: number, what: string, held: number): void {
  trace(`tcp: #${id} ${what} (held ${held})\n`);
}

export class ModdableTcpConnection implements TcpConnection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  private readonly socket: TCP;
  private readonly id = TRACE_SOCKETS ? ++socketSerial : 0;
  private events: TcpConnectionEvents | undefined;
  private sink: SocketSink | undefined;
  private readonly queue: Uint8Array[] = [];
  private free = 0;
  private paused = false;
  private ending = false;
  private closed = false;
  private released = false;
  // Outbound only: told once, at the first writable (connected) or error.
  private opened: ((error?: Error) => void) | undefined;

  constructor(target: Target, opened?: (error?: Error) => void) {
    this.opened = opened;
    // The callbacks are module functions that reach this connection through
    // the socket's target: closures made here would each take a copy of
    // their byte code and an environment in the heap, per socket.
    this.socket = new TCP({ ...target, format: "buffer", target: this, onReadable, onWritable, onError });
    // An outbound socket reports its peer only once connected (and lin's
    // getpeername is not reliable before), so keep what was asked for.
    if ("address" in target) {
      this.remoteAddress = target.address;
      this.remotePort = target.port;
    } else {
      this.remoteAddress = String(this.socket.remoteAddress ?? "");
      this.remotePort = Number(this.socket.remotePort ?? 0);
    }
    if (TRACE_SOCKETS) traceSocket(this.id, `open ${"address" in target ? "to" : "from"} ${this.remoteAddress}:${this.remotePort}`, ++socketsHeld);
  }

  // The socket's events (see the callbacks below the class).
  readable(count: number): void {
    if (this.sink) this.sink.readable(count);
    else this.readAll();
  }

  writable(count: number): void {
    if (this.sink) return this.sink.writable(count);
    this.free = count;
    this.open();
    this.flush();
  }

  error(): void {
    if (TRACE_SOCKETS) traceSocket(this.id, `error or peer closed${this.sink ? " (TLS)" : ""}`, socketsHeld);
    if (this.sink) return this.sink.error();
    this.open(new Error("connection failed"));
    // The peer's close comes here too (lin reports a read of 0 bytes as
    // an error): the socket is ours to close either way.
    this.release("after an error or the peer's close");
    this.finish(true);
  }

  private open(error?: Error): void {
    const opened = this.opened;
    this.opened = undefined;
    opened?.(error);
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
    while (this.free > 0 && this.queue.length > 0 && !this.closed) {
      const head = this.queue[0];
      const n = Math.min(this.free, head.length);
      this.socket.write(n === head.length ? head : head.subarray(0, n));
      this.free -= n;
      if (n === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(n);
    }
    if (this.queue.length > 0 || this.closed) return;
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
    this.release("by us");
    this.finish(false);
  }

  // Hands the socket to another layer (TLS): from now on its events go to
  // sink, and this connection is spent without a close event. Only a
  // connection with nothing left to send can be taken over.
  takeOver(sink: SocketSink): RawSocket | undefined {
    if (this.closed || this.sink || this.queue.length > 0) return undefined;
    this.sink = sink;
    this.closed = true;
    this.events = undefined;
    const writable = this.free;
    // The socket reports writable only when that changes: tell the new owner
    // what is free now, outside this call so it is not re-entered.
    Timer.set(() => sink.writable(writable), 0);
    return new TakenSocket(this.socket, this);
  }

  // The layer that took the socket over closes it through here.
  releaseTaken(): void {
    this.release("by TLS");
  }

  // The SDK holds an open socket (its buffer, its poll timer and, through the
  // callbacks, this object) until close(): only this gives them back.
  private release(why: string): void {
    if (this.released) return;
    this.released = true;
    this.socket.close();
    if (TRACE_SOCKETS) traceSocket(this.id, `closed ${why}`, --socketsHeld);
  }

  private finish(hadError: boolean): void {
    if (this.closed) return;
    this.closed = true;
    // Whatever still holds this connection must not hold its owner's buffers.
    const events = this.events;
    this.events = undefined;
    this.queue.length = 0;
    events?.close(hadError);
  }
}

// The socket's callbacks, called with the socket as this: shared by every
// socket, so they stay in flash with the module.
function ownerOf(socket: TCP): ModdableTcpConnection { return (socket as unknown as { target: ModdableTcpConnection }).target; }
function onReadable(this: TCP, count: number): void { ownerOf(this).readable(count); }
function onWritable(this: TCP, count: number): void { ownerOf(this).writable(count); }
function onError(this: TCP): void { ownerOf(this).error(); }

// The raw socket as TLS sees it: methods, not closures made per connection.
class TakenSocket implements RawSocket {
  constructor(private readonly socket: TCP, private readonly owner: ModdableTcpConnection) {}
  read(into: Uint8Array): void { this.socket.read(into); }
  write(bytes: Uint8Array): void { this.socket.write(bytes); }
  close(): void { this.owner.releaseTaken(); }
}

function onIncoming(this: Listener, count: number): void {
  const accept = (this as unknown as { target: (connection: TcpConnection) => void }).target;
  for (let i = 0; i < count; i++) {
    const from = this.read();
    if (from) accept(new ModdableTcpConnection({ from }));
  }
}

// Frozen: preloaded, it then needs no RAM.
export const moddableTcp: Tcp = Object.freeze({
  listen(options: TcpListenOptions, onConnection: (connection: TcpConnection) => void): Promise<TcpListener> {
    const listener = new Listener({ port: options.port, target: onConnection, onReadable: onIncoming });
    // close() exists on the SDK's Listener (listener.js) but not in its typings.
    const closable = listener as unknown as { close(): void };
    return Promise.resolve({ port: options.port, close: () => closable.close() });
  },
  connect(options: TcpConnectOptions): Promise<TcpConnection> {
    // ECMA-419 TCP with address and port connects in the background: the
    // first onWritable means connected, onError before it means refused or
    // unreachable. (On lin the socket is polled, and a refused connection can
    // show up as writable first and then as an error: the connection then
    // closes with hadError right after it opened.)
    return new Promise((resolve, reject) => {
      const where = `${options.address}:${options.port}`;
      let timer: Timer | undefined;
      let settled = false;
      let connection: ModdableTcpConnection | undefined;
      const opened = (error?: Error) => {
        if (settled) return;
        settled = true;
        Timer.clear(timer);
        if (error) reject(new Error(`connect to ${where}: refused or unreachable`));
        else resolve(connection!);
      };
      try {
        connection = new ModdableTcpConnection({ address: options.address, port: options.port }, opened);
      } catch (error) {
        // The SDK throws for an address that is not an IPv4 literal or a port out of range.
        reject(new Error(`connect to ${where}: ${String(error)}`));
        return;
      }
      timer = Timer.set(() => {
        if (settled) return;
        settled = true;
        connection!.destroy();
        reject(new Error(`connect to ${where}: timed out after ${options.timeoutMs} ms`));
      }, options.timeoutMs);
    });
  },
});
