import { randomFillSync } from "node:crypto";
import * as dns from "node:dns";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import type { Clock } from "../../modules/hal/clock.js";
import type { Hal } from "../../modules/hal/hal.js";
import type { Log, LogLevel } from "../../modules/hal/log.js";
import type { Random } from "../../modules/hal/random.js";
import type { Storage } from "../../modules/hal/storage.js";
import type { Resolver } from "../../modules/hal/resolver.js";
import type { Tcp, TcpConnectOptions, TcpConnection, TcpConnectionEvents, TcpListener, TcpListenOptions } from "../../modules/hal/tcp.js";
import type { PrintEngine } from "../../modules/hal/engine.js";
import type { Panel } from "../../modules/hal/panel.js";
import { NullEngine } from "../../modules/print/null-engine.js";
import { OFFICE_CAPABILITIES } from "../../modules/print/office-capabilities.js";
import { nodeTls } from "./tls.js";
import { nodeDatagrams, nodeUdp } from "./udp.js";

export const nodeClock: Clock = {
  // performance.now() counts from process start: the simulator's "boot".
  monotonic: () => performance.now(),
  wall: () => Date.now(),
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimer: (id) => clearTimeout(id as NodeJS.Timeout),
  defer: (callback) => { setImmediate(callback); },
};

// The simulator's clock when SNTP runs on it (--sntp): the computer's own
// clock stays as its NTP keeps it, and what SNTP learns becomes an offset on
// top. wallMs starts the clock elsewhere (a test's board still in 1970).
export function settableClock(wallMs?: number): Clock {
  let offset = wallMs === undefined ? 0 : wallMs - Date.now();
  return {
    ...nodeClock,
    wall: () => Date.now() + offset,
    set: (ms) => { offset = ms - Date.now(); },
  };
}

export const nodeRandom: Random = {
  fill: (bytes) => {
    randomFillSync(bytes);
  },
};

const KEY_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

// One file per key in the state directory, replaced by rename so a crash in
// the middle of a write leaves the old value whole.
export class DirectoryStorage implements Storage {
  constructor(readonly directory: string) {
    fs.mkdirSync(directory, { recursive: true });
  }

  private file(key: string): string {
    if (!KEY_PATTERN.test(key)) throw new Error(`storage: bad key ${JSON.stringify(key)}`);
    return path.join(this.directory, key);
  }

  read(key: string): string | undefined {
    try {
      return fs.readFileSync(this.file(key), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  write(key: string, value: string): void {
    const target = this.file(key);
    const temporary = `${target}.${process.pid}.tmp`;
    const fd = fs.openSync(temporary, "w", 0o600);
    try {
      fs.writeSync(fd, value);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, target);
  }

  remove(key: string): void {
    fs.rmSync(this.file(key), { force: true });
  }
}

export class MemoryStorage implements Storage {
  readonly values = new Map<string, string>();
  read(key: string): string | undefined {
    return this.values.get(key);
  }
  write(key: string, value: string): void {
    this.values.set(key, value);
  }
  remove(key: string): void {
    this.values.delete(key);
  }
}

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

export const nodeResolver: Resolver = {
  async resolve(name: string, timeoutMs: number): Promise<string[]> {
    if (net.isIPv4(name)) return [name];
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`resolving ${name} timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const found = await Promise.race([dns.promises.lookup(name, { family: 4, all: true }), timeout]);
      return found.map((entry) => entry.address);
    } catch (error) {
      throw new Error(`cannot resolve ${name}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  },
};

const LEVELS: LogLevel[] = ["debug", "info", "warn", "error"];

export function consoleLog(minimum: LogLevel = "info"): Log {
  const floor = LEVELS.indexOf(minimum);
  return (level, message) => {
    if (LEVELS.indexOf(level) < floor) return;
    process.stderr.write(`${new Date().toISOString()} ${level.padEnd(5)} ${message}\n`);
  };
}

export interface NodeHalOptions {
  stateDir?: string;
  log?: Log;
  // The IPv4 address of the interface for mDNS; undefined turns discovery off.
  mdnsInterface?: string;
  // Defaults to an engine that prints nowhere.
  engine?: PrintEngine;
  panel?: Panel;
  // Where unicast UDP sockets bind unless told otherwise (default loopback).
  datagramAddress?: string;
}

export function nodeHal(options: NodeHalOptions = {}): Hal {
  return {
    clock: nodeClock,
    random: nodeRandom,
    storage: options.stateDir ? new DirectoryStorage(options.stateDir) : new MemoryStorage(),
    tcp: nodeTcp,
    resolver: nodeResolver,
    tls: nodeTls,
    udp: options.mdnsInterface ? nodeUdp(options.mdnsInterface) : undefined,
    datagrams: nodeDatagrams(options.datagramAddress),
    log: options.log ?? consoleLog(),
    engine: options.engine ?? new NullEngine(OFFICE_CAPABILITIES),
    panel: options.panel,
  };
}
