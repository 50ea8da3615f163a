import type { Clock, TimerId } from "../hal/clock.js";
import type { Log } from "../hal/log.js";
import type { Random } from "../hal/random.js";
import { MDNS_GROUP, type MdnsSocket, type UdpEndpoint } from "../hal/udp.js";
import {
  FLAG_AUTHORITATIVE, FLAG_RESPONSE, FLAG_TRUNCATED, TYPE_A, TYPE_AAAA, TYPE_ANY, TYPE_NSEC, TYPE_PTR, TYPE_SRV, TYPE_TXT,
  canonicalRData, compareBytes, decodeMessage, encodeMessage, nameKey, sameName, txtStrings,
  type Message, type Name, type Question, type ResourceRecord,
} from "./message.js";
import { fitUtf8 } from "../text/utf8.js";

// An mDNS responder (RFC 6762) for one DNS-SD service (RFC 6763): the Privet
// printer as _privet._tcp with the _printer subtype (Privet 2-3).

export interface ServiceDescription {
  instance: string;
  host: string;
  port: number;
  txt(): Array<[string, string]>;
}

export type ResponderState = "stopped" | "probing" | "announcing" | "ready";

const LOCAL = "local";
const SERVICE: Name = ["_privet", "_tcp", LOCAL];
const SUBTYPE: Name = ["_printer", "_sub", "_privet", "_tcp", LOCAL];
const SERVICES_META: Name = ["_services", "_dns-sd", "_udp", LOCAL];

// RFC 6762 10: 120 s for records naming a host, 75 minutes for the rest.
export const TTL_HOST = 120;
export const TTL_OTHER = 4500;
const LEGACY_TTL_MAX = 10;

const PROBE_COUNT = 3;
const PROBE_INTERVAL_MS = 250;
const ANNOUNCE_COUNT = 2;
const ANNOUNCE_INTERVAL_MS = 1000;
const LOST_TIEBREAK_WAIT_MS = 1000;
// RFC 6762 8.1: after 15 conflicts in 10 s, slow down to one probe set per 5 s.
const CONFLICT_BURST = 15;
const CONFLICT_WINDOW_MS = 10_000;
const CONFLICT_BACKOFF_MS = 5000;
const MAX_RENAMES = 100;
const MIN_MULTICAST_INTERVAL_MS = 1000;
const MIN_PROBE_DEFENCE_INTERVAL_MS = 250;

interface OwnRecord {
  record: ResourceRecord;
  key: string;
  canonical: Uint8Array;
  unique: boolean;
}

export class MdnsResponder {
  private socket: MdnsSocket | undefined;
  private stateValue: ResponderState = "stopped";
  private instance: string;
  private host: string;
  private records: OwnRecord[] = [];
  private timer: TimerId | undefined;
  private step = 0;
  private renames = 0;
  private conflictTimes: number[] = [];
  private readonly lastMulticast = new Map<string, number>();
  private pending = new Map<string, ResourceRecord>();
  private pendingTimer: TimerId | undefined;
  private pendingAt = 0;
  private txtAnnouncements = 0;
  private txtTimer: TimerId | undefined;
  packetsSent = 0;
  onNameChange: ((instance: string, host: string) => void) | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly log: Log,
    private readonly service: ServiceDescription,
  ) {
    this.instance = fitLabel(service.instance);
    this.host = fitLabel(service.host);
  }

  get state(): ResponderState {
    return this.stateValue;
  }

  get instanceName(): string {
    return this.instance;
  }

  get hostName(): string {
    return this.host;
  }

  get socketAddresses(): Uint8Array[] {
    return this.socket ? this.socket.addresses : [];
  }

  start(socket: MdnsSocket): void {
    this.socket = socket;
    this.buildRecords();
    this.probe();
  }

  // Sends a goodbye (TTL 0) for every record, then falls silent (Privet 3.2).
  stop(): void {
    if (this.stateValue === "stopped") return;
    const wasAnnounced = this.stateValue === "ready" || this.stateValue === "announcing";
    this.cancelTimers();
    this.stateValue = "stopped";
    if (wasAnnounced && this.socket) {
      this.multicast(this.records.map((r) => ({ ...r.record, ttl: 0 })), [], true);
    }
  }

  // A TXT value changed (cs, id, note): re-announce the new TXT (Privet 3.3).
  txtChanged(): void {
    this.buildRecords();
    if (this.stateValue !== "ready" && this.stateValue !== "announcing") return;
    this.txtAnnouncements = 0;
    if (this.txtTimer !== undefined) this.clock.clearTimer(this.txtTimer);
    this.announceTxt();
  }

  private announceTxt(): void {
    this.txtTimer = undefined;
    if (this.stateValue === "stopped") return;
    const txt = this.records.filter((r) => r.record.type === TYPE_TXT).map((r) => r.record);
    this.multicast(txt, [], true);
    if (++this.txtAnnouncements < ANNOUNCE_COUNT) {
      this.txtTimer = this.clock.setTimer(() => this.announceTxt(), ANNOUNCE_INTERVAL_MS);
    }
  }

  // ---- records ----

  private instanceName_(): Name {
    return [this.instance, ...SERVICE];
  }

  private hostName_(): Name {
    return [this.host, LOCAL];
  }

  private buildRecords(): void {
    const instance = this.instanceName_();
    const host = this.hostName_();
    const addresses = this.socket ? this.socket.addresses : [];
    const list: Array<[ResourceRecord, boolean]> = [
      [{ name: SERVICE, type: TYPE_PTR, cacheFlush: false, ttl: TTL_OTHER, data: { kind: "ptr", target: instance } }, false],
      [{ name: SUBTYPE, type: TYPE_PTR, cacheFlush: false, ttl: TTL_OTHER, data: { kind: "ptr", target: instance } }, false],
      [{ name: SERVICES_META, type: TYPE_PTR, cacheFlush: false, ttl: TTL_OTHER, data: { kind: "ptr", target: SERVICE } }, false],
      [{ name: instance, type: TYPE_SRV, cacheFlush: true, ttl: TTL_HOST, data: { kind: "srv", priority: 0, weight: 0, port: this.service.port, target: host } }, true],
      [{ name: instance, type: TYPE_TXT, cacheFlush: true, ttl: TTL_OTHER, data: { kind: "txt", strings: txtStrings(this.service.txt()) } }, true],
    ];
    const hostTypes = new Set<number>();
    for (const address of addresses) {
      const type = address.length === 4 ? TYPE_A : TYPE_AAAA;
      hostTypes.add(type);
      list.push([{ name: host, type, cacheFlush: true, ttl: TTL_HOST, data: address.length === 4 ? { kind: "a", address } : { kind: "aaaa", address } }, true]);
    }
    // NSEC says which types exist, so a resolver asking for AAAA on an
    // IPv4-only printer gets a definite "no" instead of waiting (RFC 6762 6.1).
    list.push([{ name: instance, type: TYPE_NSEC, cacheFlush: true, ttl: TTL_HOST, data: { kind: "nsec", next: instance, types: [TYPE_TXT, TYPE_SRV] } }, true]);
    list.push([{ name: host, type: TYPE_NSEC, cacheFlush: true, ttl: TTL_HOST, data: { kind: "nsec", next: host, types: [...hostTypes].sort((a, b) => a - b) } }, true]);
    this.records = list.map(([record, unique]) => {
      const canonical = canonicalRData(record);
      return { record, unique, canonical, key: nameKey(record.name) + "/" + hex(canonical) };
    });
  }

  // Our records that answer a question: same name, same type or ANY; NSEC
  // only when asked for by type or ANY.
  private answering(question: Question): OwnRecord[] {
    return this.records.filter(({ record }) => sameName(record.name, question.name) &&
      (question.type === TYPE_ANY || question.type === record.type));
  }

  private ownFor(name: Name): OwnRecord[] {
    return this.records.filter((r) => r.unique && sameName(r.record.name, name));
  }

  // ---- probing and announcing (RFC 6762 8) ----

  private probe(delayMs?: number): void {
    this.cancelTimers();
    this.stateValue = "probing";
    this.step = 0;
    this.schedule(() => this.sendProbe(), delayMs ?? this.randomBelow(250));
  }

  private sendProbe(): void {
    if (this.step === PROBE_COUNT) return this.announce();
    const authorities = this.records.filter((r) => r.unique && r.record.type !== TYPE_NSEC).map((r) => r.record);
    const first = this.step === 0;
    this.send({
      id: 0, flags: 0,
      questions: [
        { name: this.instanceName_(), type: TYPE_ANY, unicastResponse: first },
        { name: this.hostName_(), type: TYPE_ANY, unicastResponse: first },
      ],
      answers: [], authorities, additionals: [],
    }, MDNS_GROUP);
    this.step++;
    this.schedule(() => this.sendProbe(), PROBE_INTERVAL_MS);
  }

  private announce(): void {
    this.stateValue = "announcing";
    this.step = 0;
    this.log("info", `mdns: "${this.instance}" on ${this.host}.local:${this.service.port} is ours; announcing`);
    this.onNameChange?.(this.instance, this.host);
    this.sendAnnouncement();
  }

  private sendAnnouncement(): void {
    this.multicast(this.records.map((r) => r.record), [], true);
    this.step++;
    if (this.step < ANNOUNCE_COUNT) this.schedule(() => this.sendAnnouncement(), ANNOUNCE_INTERVAL_MS);
    else this.stateValue = "ready";
  }

  private conflict(which: "instance" | "host"): void {
    if (++this.renames > MAX_RENAMES) {
      this.log("error", "mdns: too many name conflicts; giving up on discovery");
      this.cancelTimers();
      this.stateValue = "stopped";
      return;
    }
    const now = this.clock.monotonic();
    this.conflictTimes = this.conflictTimes.filter((t) => now - t < CONFLICT_WINDOW_MS);
    this.conflictTimes.push(now);
    const old = which === "instance" ? this.instance : this.host;
    if (which === "instance") this.instance = nextInstanceName(this.instance);
    else this.host = nextHostName(this.host);
    this.log("warn", `mdns: ${which} name "${old}" is taken; trying "${which === "instance" ? this.instance : this.host}"`);
    this.buildRecords();
    this.probe(this.conflictTimes.length >= CONFLICT_BURST ? CONFLICT_BACKOFF_MS : undefined);
  }

  // ---- receiving ----

  receive(bytes: Uint8Array, from: UdpEndpoint): void {
    if (this.stateValue === "stopped") return;
    let message: Message;
    try {
      message = decodeMessage(bytes);
    } catch (error) {
      this.log("debug", `mdns: dropped a malformed packet from ${from.address}: ${String((error as Error).message)}`);
      return;
    }
    // Only standard queries and responses with no error code (RFC 6762 18.3, 18.11).
    if ((message.flags & 0x7800) !== 0 || (message.flags & 0x000f) !== 0) return;
    if (message.flags & FLAG_RESPONSE) this.receiveResponse(message);
    else this.receiveQuery(message, from);
  }

  private receiveResponse(message: Message): void {
    for (const record of [...message.answers, ...message.additionals]) {
      const which = this.conflictingName(record);
      if (!which) continue;
      if (this.stateValue === "probing") return this.conflict(which);
      // Someone else claims a name we have announced: probe again, and the
      // other side's defence, if any, will make us rename (RFC 6762 9).
      this.log("warn", `mdns: another host answered for our ${which} name; probing again`);
      return this.probe();
    }
  }

  // A record with one of our unique names but data we did not announce.
  private conflictingName(record: ResourceRecord): "instance" | "host" | undefined {
    if (record.ttl === 0) return undefined;
    const isInstance = sameName(record.name, this.instanceName_());
    const isHost = sameName(record.name, this.hostName_());
    if (!isInstance && !isHost) return undefined;
    if (record.type !== TYPE_SRV && record.type !== TYPE_TXT && record.type !== TYPE_A && record.type !== TYPE_AAAA) return undefined;
    const canonical = canonicalRData(record);
    const ours = this.ownFor(record.name).some((r) => r.record.type === record.type && compareBytes(r.canonical, canonical) === 0);
    if (ours) return undefined;
    // An address we own but did not list is still us (another interface).
    if ((record.type === TYPE_A || record.type === TYPE_AAAA) && isHost) return undefined;
    return isInstance ? "instance" : "host";
  }

  private receiveQuery(message: Message, from: UdpEndpoint): void {
    if (message.authorities.length > 0) this.receiveProbe(message);
    if (this.stateValue === "probing") return;
    if (from.port !== MDNS_GROUP.port) return this.answerLegacy(message, from);

    const unicast: ResourceRecord[] = [];
    const multicastAnswers: ResourceRecord[] = [];
    let shared = false;
    for (const question of message.questions) {
      for (const own of this.answering(question)) {
        const r = own.record;
        if (knownAnswer(message, own)) continue;
        if (question.unicastResponse) unicast.push(r);
        else {
          multicastAnswers.push(r);
          if (!own.unique) shared = true;
        }
      }
    }
    // Questions for our unique names whose type we lack get the NSEC (RFC 6762 6.1).
    for (const question of message.questions) {
      if (question.type === TYPE_ANY || question.type === TYPE_NSEC) continue;
      const own = this.ownFor(question.name);
      if (own.length === 0 || own.some((r) => r.record.type === question.type)) continue;
      const nsec = own.find((r) => r.record.type === TYPE_NSEC);
      if (!nsec) continue;
      (question.unicastResponse ? unicast : multicastAnswers).push(nsec.record);
    }
    if (unicast.length > 0) this.sendAnswers(unicast, from);
    if (multicastAnswers.length === 0) return;
    if (!shared) {
      this.multicast(multicastAnswers, this.additionalsFor(multicastAnswers), false);
      return;
    }
    // Shared answers wait 20-120 ms (400-500 ms when more known answers
    // follow), so several responders do not all answer at once (RFC 6762 6, 7.2).
    const truncated = (message.flags & FLAG_TRUNCATED) !== 0;
    const delay = truncated ? 400 + this.randomBelow(101) : 20 + this.randomBelow(101);
    for (const r of multicastAnswers) this.pending.set(recordKey(r), r);
    const at = this.clock.monotonic() + delay;
    if (this.pendingTimer !== undefined && this.pendingAt <= at) return;
    if (this.pendingTimer !== undefined) this.clock.clearTimer(this.pendingTimer);
    this.pendingAt = at;
    this.pendingTimer = this.clock.setTimer(() => this.flushPending(), delay);
  }

  private flushPending(): void {
    this.pendingTimer = undefined;
    const answers = [...this.pending.values()];
    this.pending.clear();
    if (this.stateValue === "stopped" || answers.length === 0) return;
    this.multicast(answers, this.additionalsFor(answers), false);
  }

  // RFC 6762 8.2: two hosts probing for one name at once compare what they
  // propose; the lexicographically later set wins, the other waits and retries.
  private receiveProbe(message: Message): void {
    for (const which of ["instance", "host"] as const) {
      const name = which === "instance" ? this.instanceName_() : this.hostName_();
      if (!message.questions.some((q) => sameName(q.name, name))) continue;
      const theirs = message.authorities.filter((r) => sameName(r.name, name)).map((r) => canonicalRData(r)).sort(compareBytes);
      if (theirs.length === 0) continue;
      const ours = this.ownFor(name).filter((r) => r.record.type !== TYPE_NSEC).map((r) => r.canonical).sort(compareBytes);
      const order = compareSets(ours, theirs);
      if (order === 0) continue; // our own probe, looped back
      if (this.stateValue === "probing") {
        if (order < 0) {
          this.log("info", `mdns: lost a simultaneous probe for "${name[0]}"; retrying in 1 s`);
          this.probe(LOST_TIEBREAK_WAIT_MS);
          return;
        }
        continue;
      }
      // Already ours: defend at once (RFC 6762 8.1, 9).
      this.multicast(this.ownFor(name).map((r) => r.record), [], false, MIN_PROBE_DEFENCE_INTERVAL_MS);
    }
  }

  // Legacy unicast (RFC 6762 6.7): a plain DNS resolver asked from a port
  // other than 5353. Answer it directly, echoing its ID and question, with
  // short TTLs and no cache-flush bits.
  private answerLegacy(message: Message, from: UdpEndpoint): void {
    const answers = message.questions.flatMap((question) => this.answering(question).map((own) => own.record));
    if (answers.length === 0) return;
    const legacy = (r: ResourceRecord): ResourceRecord => ({ ...r, cacheFlush: false, ttl: Math.min(r.ttl, LEGACY_TTL_MAX) });
    this.send({
      id: message.id,
      flags: FLAG_RESPONSE | FLAG_AUTHORITATIVE,
      questions: message.questions.map((q) => ({ ...q, unicastResponse: false })),
      answers: answers.map(legacy),
      authorities: [],
      additionals: this.additionalsFor(answers).map(legacy),
    }, from);
  }

  // With a PTR to our instance go its SRV, TXT and addresses; with an SRV the
  // addresses (RFC 6763 12).
  private additionalsFor(answers: ResourceRecord[]): ResourceRecord[] {
    const extra: ResourceRecord[] = [];
    const add = (r: ResourceRecord) => {
      if (!answers.includes(r) && !extra.includes(r)) extra.push(r);
    };
    const hostRecords = () => this.records.filter((o) => sameName(o.record.name, this.hostName_())).forEach((o) => add(o.record));
    for (const answer of answers) {
      if (answer.type === TYPE_PTR && answer.data.kind === "ptr" && sameName(answer.data.target, this.instanceName_())) {
        this.records.filter((o) => sameName(o.record.name, this.instanceName_())).forEach((o) => add(o.record));
        hostRecords();
      } else if (answer.type === TYPE_SRV) {
        hostRecords();
      }
    }
    return extra;
  }

  // ---- sending ----

  private sendAnswers(answers: ResourceRecord[], to: UdpEndpoint): void {
    this.send({ id: 0, flags: FLAG_RESPONSE | FLAG_AUTHORITATIVE, questions: [], answers, authorities: [], additionals: this.additionalsFor(answers) }, to);
  }

  // Multicasts a response, leaving out any answer multicast less than a
  // second ago (RFC 6762 6) unless force is set (announcements, goodbyes).
  private multicast(answers: ResourceRecord[], additionals: ResourceRecord[], force: boolean, minInterval = MIN_MULTICAST_INTERVAL_MS): void {
    const now = this.clock.monotonic();
    const keep = answers.filter((r) => {
      const key = recordKey(r);
      const last = this.lastMulticast.get(key);
      if (!force && last !== undefined && now - last < minInterval) return false;
      this.lastMulticast.set(key, now);
      return true;
    });
    if (keep.length === 0) return;
    this.send({ id: 0, flags: FLAG_RESPONSE | FLAG_AUTHORITATIVE, questions: [], answers: keep, authorities: [], additionals }, MDNS_GROUP);
  }

  private send(message: Message, to: UdpEndpoint): void {
    if (!this.socket) return;
    try {
      this.socket.send(encodeMessage(message), to);
      this.packetsSent++;
    } catch (error) {
      this.log("warn", `mdns: send to ${to.address}:${to.port} failed: ${String(error)}`);
    }
  }

  // ---- timers ----

  private schedule(callback: () => void, delayMs: number): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      callback();
    }, delayMs);
  }

  private cancelTimers(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    if (this.pendingTimer !== undefined) this.clock.clearTimer(this.pendingTimer);
    if (this.txtTimer !== undefined) this.clock.clearTimer(this.txtTimer);
    this.timer = this.pendingTimer = this.txtTimer = undefined;
    this.pending.clear();
  }

  private randomBelow(n: number): number {
    const b = new Uint8Array(2);
    this.random.fill(b);
    return ((b[0] << 8) | b[1]) % n;
  }
}

function recordKey(r: ResourceRecord): string {
  return nameKey(r.name) + "/" + hex(canonicalRData(r));
}

// RFC 6762 7.1: leave out an answer the querier already holds with at least
// half our TTL left.
function knownAnswer(message: Message, own: OwnRecord): boolean {
  for (const known of message.answers) {
    if (known.type !== own.record.type || !sameName(known.name, own.record.name)) continue;
    if (known.ttl * 2 < own.record.ttl) continue;
    if (compareBytes(canonicalRData(known), own.canonical) === 0) return true;
  }
  return false;
}

function compareSets(a: Uint8Array[], b: Uint8Array[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareBytes(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

// "Printer" -> "Printer (2)" -> "Printer (3)" (RFC 6763 appendix D style).
export function nextInstanceName(name: string): string {
  const match = /^(.*) \((\d+)\)$/.exec(name);
  const base = match ? match[1] : name;
  const suffix = ` (${match ? Number(match[2]) + 1 : 2})`;
  return fitLabel(base, MAX_LABEL_BYTES - suffix.length) + suffix;
}

export function nextHostName(name: string): string {
  const match = /^(.*)-(\d+)$/.exec(name);
  const base = match ? match[1] : name;
  const suffix = `-${match ? Number(match[2]) + 1 : 2}`;
  return fitLabel(base, MAX_LABEL_BYTES - suffix.length) + suffix;
}

const MAX_LABEL_BYTES = 63;

// A DNS label holds 63 bytes of UTF-8.
export function fitLabel(text: string, maxBytes = MAX_LABEL_BYTES): string {
  const fitted = fitUtf8(text, maxBytes);
  return fitted.length > 0 ? fitted : "printer";
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += (b < 16 ? "0" : "") + b.toString(16);
  return s;
}
