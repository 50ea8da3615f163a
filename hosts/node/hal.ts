import { randomFillSync } from "node:crypto";
import * as dns from "node:dns";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import type { Clock } from "../../modules/hal/clock.js";
import type { Hal } from "../../modules/hal/hal.js";
import type { Log, LogLevel } from "../../modules/hal/log.js";
import type { Random } from "../../modules/hal/random.js";
import type { Storage } from "../../modules/hal/storage.js";
import type { Resolver } from "../../modules/hal/resolver.js";
import type { PrintEngine } from "../../modules/hal/engine.js";
import type { Panel } from "../../modules/hal/panel.js";
import { NullEngine } from "../../modules/print/null-engine.js";
import { OFFICE_CAPABILITIES } from "../../modules/print/office-capabilities.js";
import { nodeTcp } from "./tcp.js";
import { nodeTls } from "./tls.js";
import { nodeDatagrams, nodeUdp } from "./udp.js";

// The TCP side lives in tcp.ts so tls.ts can wrap its connections without
// importing this file (which builds the HAL from both).
export { NodeTcpConnection, nodeTcp } from "./tcp.js";

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
