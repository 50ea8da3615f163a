import type { Tcp, TcpConnection, TcpConnectionEvents } from "../../modules/hal/tcp.js";

// The TCP seam for tests inside XS: tests/helpers/fake-tcp.ts leans on
// Buffer, which XS does not have. A listener whose accepted connections the
// test makes, each one holding what was sent to it while paused, as the TCP
// window would, and collecting what the server wrote as byte-per-character text.

export const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
export const chars = (bytes: Uint8Array) => { let s = ""; for (const b of bytes) s += String.fromCharCode(b); return s; };

export class FakeSocket implements TcpConnection {
  remotePort = 1;
  out = "";
  paused = false;
  closed = false;
  private events!: TcpConnectionEvents;
  private queue: Uint8Array[] = [];
  constructor(readonly remoteAddress = "192.0.2.9") {}
  setEvents(events: TcpConnectionEvents): void { this.events = events; }
  write(bytes: Uint8Array): boolean { this.out += chars(bytes); return true; }
  pause(): void { this.paused = true; }
  resume(): void {
    this.paused = false;
    while (!this.paused && this.queue.length > 0) this.events.data(this.queue.shift()!);
  }
  end(): void { this.closed = true; }
  destroy(): void { this.closed = true; }
  send(data: string | Uint8Array): void {
    const bytes = typeof data === "string" ? ascii(data) : data;
    if (this.paused) this.queue.push(bytes);
    else this.events.data(bytes);
  }
  // Bytes held back while paused.
  get queued(): number { return this.queue.reduce((n, b) => n + b.length, 0); }
}

// Synchronous: the harness does not await, and listen() takes the accept
// callback before a server's start() first awaits.
export function fakeListener(port = 1): { tcp: Tcp; connect(address?: string): FakeSocket } {
  let accept: (c: TcpConnection) => void = () => {};
  const tcp: Tcp = {
    listen: (_options, onConnection) => { accept = onConnection; return Promise.resolve({ port, close() {} }); },
    connect: () => Promise.reject(new Error("no outbound connections here")),
  };
  return { tcp, connect: (address?: string) => { const s = new FakeSocket(address); accept(s); return s; } };
}
