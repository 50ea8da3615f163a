import type { Clock, TimerId } from "../hal/clock.js";
import type { Log } from "../hal/log.js";
import type { Random } from "../hal/random.js";
import type { Resolver } from "../hal/resolver.js";
import type { Datagrams, DatagramSocket, UdpEndpoint } from "../hal/udp.js";
import { decodeReply, encodeRequest, NTP_PORT, requestNonce, type Reply } from "./packet.js";

// Wall time from the network (RFC 4330 SNTP): a board boots in 1970, and the
// cloud's tokens and certificates mean nothing until it knows the date. One
// request at a time to the configured servers in turn; a round is a bounded
// number of attempts with a doubling wait between them, and a failed round
// is tried again later, so the printer keeps trying without flooding anyone.

export interface SntpOptions {
  // "host" or "host:port", tried in turn.
  servers: string[];
  // How long one request waits for its answer.
  attemptTimeoutMs: number;
  // Requests in one round before it counts as failed.
  maxAttempts: number;
  // The wait after the first failed request; it doubles after each.
  backoffMs: number;
  // The wait after a failed round; it doubles after each, up to maxRetryMs.
  retryMs: number;
  maxRetryMs: number;
  // How often a set clock is set again (a board's crystal drifts seconds a day).
  resyncMs: number;
  // A time before this (the firmware's build date) is a server's lie or a
  // replayed packet, never the present: refused.
  notBeforeMs: number;
}

export const DEFAULT_SNTP_OPTIONS: Omit<SntpOptions, "servers" | "notBeforeMs"> = {
  attemptTimeoutMs: 3000,
  maxAttempts: 4,
  backoffMs: 1000,
  retryMs: 30_000,
  maxRetryMs: 15 * 60_000,
  resyncMs: 6 * 3600_000,
};

export interface SntpDeps {
  clock: Clock;
  datagrams: Datagrams;
  resolver: Resolver;
  random: Random;
  log: Log;
}

export type SntpState = "setting" | "set";

type Attempt = { ok: true; wallMs: number } | { ok: false; why: string; kiss?: string };

const MAX_SERVERS = 8;
const MAX_SERVER_TEXT = 253 + 6;

export function parseServer(text: string): { host: string; port: number } | undefined {
  if (text.length === 0 || text.length > MAX_SERVER_TEXT) return undefined;
  const colon = text.lastIndexOf(":");
  const host = colon < 0 ? text : text.slice(0, colon);
  const port = colon < 0 ? NTP_PORT : Number(text.slice(colon + 1));
  if (!/^[A-Za-z0-9.-]+$/.test(host) || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host, port };
}

export class SntpClient {
  readonly options: SntpOptions;
  private readonly servers: Array<{ host: string; port: number; text: string }>;
  // Servers that told us to go away (kiss-o'-death DENY or RSTR): never asked again.
  private readonly denied: string[] = [];
  private timer: TimerId | undefined;
  private socket: DatagramSocket | undefined;
  private settleAttempt: ((attempt: Attempt) => void) | undefined;
  // Bumped by stop(), so a round in flight sees it is no longer wanted.
  private generation = 0;
  private failedRounds = 0;
  private readonly listeners: Array<() => void> = [];
  state: SntpState = "setting";
  // The server that last set the clock, and when (monotonic ms).
  setBy: string | undefined;
  setAt: number | undefined;
  // Why the last request failed, in words for the pages.
  lastError: string | undefined;

  constructor(private readonly deps: SntpDeps, options: Partial<SntpOptions> & { servers: string[]; notBeforeMs: number }) {
    this.options = { ...DEFAULT_SNTP_OPTIONS, ...options };
    this.servers = [];
    for (const text of options.servers.slice(0, MAX_SERVERS)) {
      const server = parseServer(text);
      if (server) this.servers.push({ ...server, text });
      else deps.log("warn", `sntp: "${text.slice(0, 40)}" is not a server (host or host:port); skipped`);
    }
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    this.stop();
    void this.round(this.generation);
  }

  stop(): void {
    this.generation++;
    if (this.timer !== undefined) this.deps.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.finishAttempt({ ok: false, why: "stopped" });
  }

  private async round(generation: number): Promise<void> {
    const clock = this.deps.clock;
    let wait = this.options.backoffMs;
    for (let attempt = 0; attempt < this.options.maxAttempts; attempt++) {
      const candidates = this.servers.filter((s) => !this.denied.includes(s.text));
      if (candidates.length === 0) {
        this.failed("every time server refused us (kiss-o'-death); check privet.sntp.servers");
        return;
      }
      const server = candidates[attempt % candidates.length];
      const result = await this.ask(server, generation);
      if (generation !== this.generation) return;
      if (result.ok) {
        clock.set?.(result.wallMs);
        const first = this.state !== "set";
        this.state = "set";
        this.setBy = server.text;
        this.setAt = clock.monotonic();
        this.lastError = undefined;
        this.failedRounds = 0;
        this.deps.log(first ? "info" : "debug", `sntp: clock set from ${server.text}`);
        this.schedule(generation, this.options.resyncMs);
        this.changed();
        return;
      }
      this.lastError = `${server.text}: ${result.why}`;
      this.deps.log("debug", `sntp: ${this.lastError}`);
      if (result.kiss === "DENY" || result.kiss === "RSTR") this.denied.push(server.text);
      // RATE asks for less: the doubling wait below is that.
      if (attempt + 1 < this.options.maxAttempts) {
        await this.sleep(wait);
        if (generation !== this.generation) return;
        wait *= 2;
      }
    }
    this.failed(this.lastError ?? "no answer");
  }

  private failed(why: string): void {
    const delay = Math.min(this.options.maxRetryMs, this.options.retryMs * 2 ** Math.min(this.failedRounds, 16));
    this.failedRounds++;
    this.lastError = why;
    this.deps.log("info", `sntp: no time from the network yet (${why}); trying again in ${Math.round(delay / 1000)} s`);
    this.schedule(this.generation, delay);
    this.changed();
  }

  private schedule(generation: number, delayMs: number): void {
    if (this.timer !== undefined) this.deps.clock.clearTimer(this.timer);
    this.timer = this.deps.clock.setTimer(() => {
      this.timer = undefined;
      if (generation === this.generation) void this.round(generation);
    }, delayMs);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.timer = this.deps.clock.setTimer(() => {
        this.timer = undefined;
        resolve();
      }, ms);
    });
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  private finishAttempt(attempt: Attempt): void {
    const settle = this.settleAttempt;
    this.settleAttempt = undefined;
    this.socket?.close();
    this.socket = undefined;
    settle?.(attempt);
  }

  // One request to one server: resolved, sent on a fresh socket (a late
  // answer to an earlier request then has nowhere to land), answered or timed out.
  private async ask(server: { host: string; port: number }, generation: number): Promise<Attempt> {
    const { clock, resolver, datagrams, random } = this.deps;
    let address: string;
    try {
      [address] = await resolver.resolve(server.host, this.options.attemptTimeoutMs);
    } catch (error) {
      return { ok: false, why: `cannot resolve ${server.host} (${error instanceof Error ? error.message : String(error)})` };
    }
    if (generation !== this.generation) return { ok: false, why: "stopped" };
    const nonce = new Uint8Array(8);
    random.fill(nonce);
    const request = encodeRequest(nonce);
    const sent = requestNonce(request);
    const to: UdpEndpoint = { address, port: server.port };
    return new Promise<Attempt>((resolve) => {
      let sentAt = 0;
      let timeout: TimerId | undefined;
      this.settleAttempt = (attempt) => {
        if (timeout !== undefined) clock.clearTimer(timeout);
        resolve(attempt);
      };
      const receive = (bytes: Uint8Array, from: UdpEndpoint) => {
        if (from.address !== to.address || from.port !== to.port) return;
        const receivedAt = clock.monotonic();
        const reply = decodeReply(bytes, sent);
        // Not an answer to this request: keep waiting for the one that is.
        if (!reply.ok && reply.refusal === "originate") return;
        this.finishAttempt(this.judge(reply, receivedAt - sentAt));
      };
      datagrams.open({ port: 0 }, receive).then((socket) => {
        if (this.settleAttempt === undefined) return socket.close();
        this.socket = socket;
        sentAt = clock.monotonic();
        socket.send(request, to);
        timeout = clock.setTimer(() => {
          timeout = undefined;
          this.finishAttempt({ ok: false, why: `no answer within ${this.options.attemptTimeoutMs} ms` });
        }, this.options.attemptTimeoutMs);
      }, (error: unknown) => this.finishAttempt({ ok: false, why: `no UDP socket (${String(error)})` }));
    });
  }

  private judge(reply: Reply, roundTripMs: number): Attempt {
    if (!reply.ok) {
      if (reply.refusal === "kiss") return { ok: false, why: `the server sent a kiss-o'-death (${reply.kissCode})`, kiss: reply.kissCode };
      return { ok: false, why: `unusable answer (${reply.refusal})` };
    }
    // RFC 4330 5: the time now is the server's transmit time plus half the
    // round trip the network took (its own processing time taken out).
    const serverHeld = Math.min(Math.max(reply.transmitMs - reply.receiveMs, 0), roundTripMs);
    const wallMs = reply.transmitMs + Math.round((roundTripMs - serverHeld) / 2);
    if (wallMs < this.options.notBeforeMs) {
      return { ok: false, why: `the server's time (${isoDate(wallMs)}) is before this firmware was built` };
    }
    return { ok: true, wallMs };
  }
}

function isoDate(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? "an impossible date" : d.toISOString().slice(0, 10);
}
