import * as net from "node:net";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import type { Tcp, TcpConnectOptions, TcpConnection, TcpConnectionEvents, TcpListener, TcpListenOptions } from "../../modules/hal/tcp.js";

// Every chunk Node reads from a socket is a new Buffer. The firmware drops
// them at once, but V8 only frees them at a collection, and with little other
// garbage on the print path it waits until tens of MB of dead buffers pile up.
// A minor collection every few MB received keeps the simulator's memory as
// flat as the firmware's (it costs about a millisecond).
v8.setFlagsFromString("--expose-gc");
const collect = vm.runInNewContext("gc") as (options: { type: "minor" }) => void;
const COLLECT_EVERY_BYTES = 8 * 1024 * 1024;
let receivedSinceCollect = 0;

function received(bytes: number): void {
  receivedSinceCollect += bytes;
  if (receivedSinceCollect < COLLECT_EVERY_BYTES) return;
  receivedSinceCollect = 0;
  collect({ type: "minor" });
}

export class NodeTcpConnection implements TcpConnection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  private paused = false;
  private detached = false;
  // Ours only: a TLS socket has listeners of its own (it frees its native
  // state on close) that must stay.
  private listeners: { data: (chunk: Buffer) => void; drain: () => void; close: (hadError: boolean) => void } | undefined;

  // A TLS socket over a TCP one passes the peer's address down, since it
  // may not know it itself.
  constructor(private readonly socket: net.Socket, remote?: { address: string; port: number }) {
    this.remoteAddress = remote?.address ?? socket.remoteAddress ?? "";
    this.remotePort = remote?.port ?? socket.remotePort ?? 0;
    socket.setNoDelay(true);
    // An error is always followed by close, which reports it; without a
    // listener it would be thrown (say a reset before setEvents).
    socket.on("error", () => {});
  }

  // For TLS: the socket leaves this connection, which is inert from then on.
  takeSocket(): net.Socket {
    if (this.detached) throw new Error("the socket has already been taken");
    this.detached = true;
    this.removeListeners();
    return this.socket;
  }

  private removeListeners(): void {
    const listeners = this.listeners;
    if (!listeners) return;
    this.socket.off("data", listeners.data).off("drain", listeners.drain).off("close", listeners.close);
    this.listeners = undefined;
  }

  setEvents(events: TcpConnectionEvents): void {
    if (this.detached) return;
    const socket = this.socket;
    this.removeListeners();
    this.listeners = {
      data: (chunk: Buffer) => {
        events.data(chunk);
        received(chunk.length);
      },
      drain: () => events.drain(),
      close: (hadError: boolean) => events.close(hadError),
    };
    socket.on("data", this.listeners.data).on("drain", this.listeners.drain).on("close", this.listeners.close);
    // An outbound socket waits paused until its events are set.
    if (!this.paused) socket.resume();
  }

  write(bytes: Uint8Array): boolean {
    if (this.detached || this.socket.destroyed) return false;
    return this.socket.write(bytes);
  }

  pause(): void {
    if (this.detached) return;
    this.paused = true;
    this.socket.pause();
  }

  resume(): void {
    if (this.detached) return;
    this.paused = false;
    this.socket.resume();
  }

  end(): void {
    if (this.detached) return;
    this.socket.end();
  }

  destroy(): void {
    if (this.detached) return;
    this.socket.destroy();
  }
}

export const nodeTcp: Tcp = {
  listen(options: TcpListenOptions, onConnection: (connection: TcpConnection) => void): Promise<TcpListener> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((socket) => onConnection(new NodeTcpConnection(socket)));
      server.once("error", reject);
      server.listen(options.port, options.host, () => {
        server.off("error", reject);
        const address = server.address() as net.AddressInfo;
        resolve({
          port: address.port,
          close: () => server.close(),
        });
      });
    });
  },

  connect(options: TcpConnectOptions): Promise<TcpConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: options.address, port: options.port });
      // Nothing is read until the firmware has set its events.
      socket.pause();
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connecting to ${options.address}:${options.port} timed out after ${options.timeoutMs} ms`));
      }, options.timeoutMs);
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(new Error(`cannot connect to ${options.address}:${options.port}: ${(error as NodeJS.ErrnoException).code ?? error.message}`));
      });
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.removeAllListeners("error");
        resolve(new NodeTcpConnection(socket));
      });
    });
  },
};
