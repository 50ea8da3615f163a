import type { Clock, TimerId } from "../hal/clock.js";
import type { Log } from "../hal/log.js";
import type { Random } from "../hal/random.js";
import { MDNS_GROUP, type MdnsSocket, type UdpEndpoint } from "../hal/udp.js";
import {
  FLAG_AUTHORITATIVE, FLAG_RESPONSE, FLAG_TRUNCATED, TYPE_A, TYPE_AAAA, TYPE_ANY, TYPE_NSEC, TYPE_PTR, TYPE_SRV, TYPE_TXT,
  canonicalRData, compareBytes, decodeMessage, encodeMessage, nameKey, sameName, txtStrings,
  type Message, type Name, type Question, type ResourceRecord,
} from "./message.js";
import { fitUtf8, utf8Encode } from "../text/utf8.js";

// An mDNS responder (RFC 6762) for a list of DNS-SD services (RFC 6763) on
// one host: Privet's _privet._tcp with its _printer subtype (Privet 2-3), and
// beside it whatever other front ends publish (IPP Everywhere's _ipp._tcp with
// _print). The host name and its address records are shared; each service
// instance name is claimed, defended and renamed on its own.

export type TxtPairs = Array<[string, string]>;

export interface ServiceSpec {
  // The name people see; a conflict makes "Office" "Office (2)" for this service only.
  instance: string;
  // "_ipp._tcp": service label and protocol label (RFC 6763 7).
  type: string;
  // Labels such as "_print", published as _print._sub._ipp._tcp.local (RFC 6763 7.1).
  subtypes?: string[];
  port: number;
  // A function is read again on txtChanged(), so the TXT can follow a record
  // that changes under it (Privet's device record).
  txt: TxtPairs | (() => TxtPairs);
}

export type ServiceState = "idle" | "probing" | "announcing" | "ready" | "failed" | "removed";
export type ResponderState = "stopped" | "probing" | "announcing" | "ready";

// What add() hands back: the service as published now, and the two ways a
// front end changes it.
export interface MdnsService {
  readonly instanceName: string;
  readonly type: string;
  readonly state: ServiceState;
  readonly port: number;
  // A new instance name or type is a new unique name: goodbye to the old one,
  // then probing. Port and subtypes are re-announced; a TXT that changed is
  // re-announced alone (RFC 6762 8.4).
  update(changes: Partial<ServiceSpec>): void;
  // A goodbye for this service's records only.
  remove(): void;
}

const LOCAL = "local";
const SUB = "_sub";
const SERVICES_META: Name = ["_services", "_dns-sd", "_udp", LOCAL];

// RFC 6762 10: 120 s for records naming a host, 75 minutes for the rest.
const TTL_HOST = 120;
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
// Fixed memory: a printer publishes a handful of services, not a directory.
export const MAX_SERVICES = 8;
export const MAX_SUBTYPES = 8;
// An Ethernet frame's UDP payload, less room for IPv6's longer header, so a
// response is never fragmented (RFC 6762 17).
const MAX_PACKET_BYTES = 1440;
const NEVER = Number.POSITIVE_INFINITY;

interface OwnRecord {
  record: ResourceRecord;
  canonical: Uint8Array;
  unique: boolean;
}

// "waiting": its probes are done but the host name is not yet ours, and an
// SRV must not point at a name nobody holds.
type Phase = "idle" | "probing" | "waiting" | "announcing" | "ready" | "failed" | "removed";

// One unique name the responder claims: the host, or a service instance.
class Claim {
  phase: Phase = "idle";
  step = 0;
  due = NEVER;
  renames = 0;
  records: OwnRecord[] = [];
  // After an update: what to re-announce, how many times more, and when.
  refresh: "txt" | "all" = "txt";
  refreshLeft = 0;
  refreshDue = NEVER;

  constructor(public label: string, public suffix: Name) {}

  name(): Name {
    return [this.label, ...this.suffix];
  }

  get announced(): boolean {
    return this.phase === "announcing" || this.phase === "ready";
  }

  get claiming(): boolean {
    return this.phase === "probing" || this.phase === "waiting";
  }

  get live(): boolean {
    return this.claiming || this.announced;
  }

  uniqueRecords(): OwnRecord[] {
    return this.records.filter((r) => r.unique);
  }

  // What a probe proposes and a tie-break compares: NSEC only describes the rest.
  probeRecords(): OwnRecord[] {
    return this.records.filter((r) => r.unique && r.record.type !== TYPE_NSEC);
  }
}

class ServiceClaim extends Claim implements MdnsService {
  wanted: string;
  subtypes: string[];
  port: number;
  txt: ServiceSpec["txt"];

  constructor(spec: ServiceSpec, type: Name, private readonly owner: ServiceOwner) {
    super(fitLabel(spec.instance), type);
    this.wanted = this.label;
    this.subtypes = [...(spec.subtypes ?? [])];
    this.port = spec.port;
    this.txt = spec.txt;
  }

  get instanceName(): string {
    return this.label;
  }

  get typeName(): Name {
    return this.suffix;
  }

  get type(): string {
    return this.typeName.slice(0, 2).join(".");
  }

  get state(): ServiceState {
    return this.phase === "waiting" ? "probing" : this.phase;
  }

  txtPairs(): TxtPairs {
    return typeof this.txt === "function" ? this.txt() : this.txt;
  }

  update(changes: Partial<ServiceSpec>): void {
    this.owner.update(this, changes);
  }

  remove(): void {
    this.owner.remove(this);
  }
}

interface ServiceOwner {
  update(service: ServiceClaim, changes: Partial<ServiceSpec>): void;
  remove(service: ServiceClaim): void;
}

export class MdnsResponder {
  private socket: MdnsSocket | undefined;
  private readonly host: Claim;
  private readonly list: ServiceClaim[] = [];
  // One PTR from _services._dns-sd._udp per type that some announced service has.
  private readonly meta = new Map<string, OwnRecord>();
  private readonly owner: ServiceOwner;
  private timer: TimerId | undefined;
  private timerAt = NEVER;
  private conflictTimes: number[] = [];
  private readonly lastMulticast = new Map<string, number>();
  private readonly pending = new Map<string, ResourceRecord>();
  private pendingTimer: TimerId | undefined;
  private pendingAt = 0;
  packetsSent = 0;

  constructor(
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly log: Log,
    host: string,
  ) {
    this.host = new Claim(fitLabel(host), [LOCAL]);
    this.owner = {
      update: (service, changes) => this.updateService(service, changes),
      remove: (service) => this.removeService(service),
    };
  }

  // The host's own progress: services cannot be further along than it is.
  get state(): ResponderState {
    const phase = this.host.phase;
    return phase === "probing" || phase === "announcing" || phase === "ready" ? phase : "stopped";
  }

  get hostName(): string {
    return this.host.label;
  }

  get services(): readonly MdnsService[] {
    return this.list;
  }

  // Publishes a service now (probing first) or, before start(), with the rest.
  // A malformed type or too many services is a programming error and throws.
  add(spec: ServiceSpec): MdnsService {
    if (this.list.length >= MAX_SERVICES) throw new RangeError(`mdns: at most ${MAX_SERVICES} services`);
    const service = new ServiceClaim(spec, serviceType(spec.type), this.owner);
    checkService(service.subtypes, service.port);
    service.label = this.freeLabel(service, service.label);
    this.list.push(service);
    this.buildServiceRecords(service);
    if (this.running) {
      this.startProbing([service]);
      this.reschedule();
    }
    return service;
  }

  start(socket: MdnsSocket): void {
    this.socket = socket;
    this.buildHostRecords();
    for (const service of this.list) {
      service.renames = 0;
      this.buildServiceRecords(service);
    }
    this.startProbing([this.host, ...this.list]);
    this.reschedule();
  }

  // Sends a goodbye (TTL 0) for every record, then falls silent (Privet 3.2).
  // The services stay listed, so start() can publish them again.
  stop(): void {
    if (this.host.phase === "idle") return;
    // (A failed host announced nothing, so its goodbye list is empty.)
    const goodbye: ResourceRecord[] = [];
    for (const service of this.list) if (service.announced) goodbye.push(...this.serviceRecords(service).map((r) => r.record));
    if (this.host.announced) goodbye.push(...this.host.records.map((r) => r.record));
    this.cancelTimers();
    for (const claim of [this.host, ...this.list]) {
      claim.phase = "idle";
      claim.due = claim.refreshDue = NEVER;
      claim.refreshLeft = 0;
    }
    this.meta.clear();
    if (goodbye.length > 0) this.multicast(goodbye.map(expired), [], true);
  }

  // Re-reads every service's TXT (cs, id, note changed) and re-announces the
  // ones that differ (Privet 3.3, RFC 6762 8.4).
  txtChanged(): void {
    for (const service of this.list) this.refreshTxt(service);
    this.reschedule();
  }

  private get running(): boolean {
    return this.host.phase !== "idle" && this.host.phase !== "failed";
  }

  // ---- services ----

  private updateService(service: ServiceClaim, changes: Partial<ServiceSpec>): void {
    if (service.phase === "removed") return;
    // Everything is checked before anything changes, so a bad update throws
    // and leaves the service as it was.
    const type = changes.type !== undefined ? serviceType(changes.type) : service.typeName;
    const subtypes = changes.subtypes !== undefined ? [...changes.subtypes] : service.subtypes;
    const port = changes.port ?? service.port;
    checkService(subtypes, port);
    const renamed = changes.instance !== undefined && fitLabel(changes.instance) !== service.wanted;
    const retyped = nameKey(type) !== nameKey(service.typeName);
    const wasAnnounced = service.announced;
    const before = wasAnnounced ? this.serviceRecords(service) : [];
    const oldType = service.typeName;
    service.subtypes = subtypes;
    service.port = port;
    if (changes.txt !== undefined) service.txt = changes.txt;

    if (renamed || retyped) {
      // A new unique name: the old one is let go and the new one claimed anew.
      if (changes.instance !== undefined) service.wanted = fitLabel(changes.instance);
      service.suffix = type;
      service.label = this.freeLabel(service, service.wanted);
      service.renames = 0;
      service.phase = "idle";
      // Renamed within its type, the type itself stays listed in _services.
      if (wasAnnounced) this.goodbye(oldType, retyped ? before : before.filter((r) => !sameName(r.record.name, SERVICES_META)));
      this.buildServiceRecords(service);
      if (this.running) this.startProbing([service]);
      this.reschedule();
      return;
    }

    const txtBefore = service.records.find((r) => r.record.type === TYPE_TXT);
    const srvBefore = service.records.find((r) => r.record.type === TYPE_SRV);
    this.buildServiceRecords(service);
    if (!wasAnnounced) return;
    // Shared records that went away (a dropped subtype's PTR) get their
    // goodbye; a unique record's new data replaces the old in caches by its
    // cache-flush bit when announced again (RFC 6762 8.4, 10.2).
    const after = this.serviceRecords(service);
    const gone = before.filter((old) => !old.unique && !after.some((r) => sameRecord(r, old)));
    if (gone.length > 0) this.multicast(gone.map((r) => expired(r.record)), [], true);
    const srvAfter = service.records.find((r) => r.record.type === TYPE_SRV);
    if (gone.length > 0 || after.length !== before.length || !sameRecord(srvBefore, srvAfter)) this.scheduleRefresh(service, "all");
    else if (!sameRecord(txtBefore, service.records.find((r) => r.record.type === TYPE_TXT))) this.scheduleRefresh(service, "txt");
    this.reschedule();
  }

  private removeService(service: ServiceClaim): void {
    if (service.phase === "removed") return;
    const index = this.list.indexOf(service);
    if (index >= 0) this.list.splice(index, 1);
    const wasAnnounced = service.announced;
    const records = wasAnnounced ? this.serviceRecords(service) : [];
    service.phase = "removed";
    service.due = service.refreshDue = NEVER;
    service.refreshLeft = 0;
    if (wasAnnounced) this.goodbye(service.typeName, records);
    this.log("info", `mdns: "${service.label}.${service.type}.local" withdrawn`);
    this.reschedule();
  }

  // TTL 0 for the records of a service that is no longer announced; the
  // _services PTR for its type only if no announced service still has it.
  private goodbye(type: Name, records: OwnRecord[]): void {
    const typeKey = nameKey(type);
    const stillListed = this.list.some((s) => s.announced && nameKey(s.typeName) === typeKey);
    const leaving = records.filter((r) => !(stillListed && sameName(r.record.name, SERVICES_META)));
    this.refreshMeta();
    if (leaving.length > 0) this.multicast(leaving.map((r) => expired(r.record)), [], true);
  }

  private refreshTxt(service: ServiceClaim): void {
    const old = service.records.find((r) => r.record.type === TYPE_TXT);
    const fresh = ownRecord(this.txtRecord(service), true);
    if (sameRecord(old, fresh)) return;
    service.records = service.records.map((r) => (r === old ? fresh : r));
    if (service.announced) this.scheduleRefresh(service, "txt");
  }

  private scheduleRefresh(service: ServiceClaim, kind: "txt" | "all"): void {
    service.refresh = service.refreshLeft > 0 && service.refresh === "all" ? "all" : kind;
    service.refreshLeft = ANNOUNCE_COUNT;
    service.refreshDue = this.clock.monotonic();
  }

  // The instance label nobody else among our services of that type uses.
  private freeLabel(service: ServiceClaim, label: string): string {
    let candidate = label;
    for (let i = 0; i <= MAX_SERVICES; i++) {
      const taken = this.list.some((s) => s !== service && nameKey(s.typeName) === nameKey(service.typeName) && s.label.toLowerCase() === candidate.toLowerCase());
      if (!taken) return candidate;
      candidate = nextInstanceName(candidate);
    }
    return candidate;
  }

  // ---- records ----

  private buildHostRecords(): void {
    const host = this.host.name();
    const addresses = this.socket ? this.socket.addresses : [];
    const records: OwnRecord[] = [];
    const types: number[] = [];
    for (const address of addresses) {
      const type = address.length === 4 ? TYPE_A : TYPE_AAAA;
      if (!types.includes(type)) types.push(type);
      records.push(ownRecord({ name: host, type, cacheFlush: true, ttl: TTL_HOST, data: address.length === 4 ? { kind: "a", address } : { kind: "aaaa", address } }, true));
    }
    // NSEC says which types exist, so a resolver asking for AAAA on an
    // IPv4-only printer gets a definite "no" instead of waiting (RFC 6762 6.1).
    records.push(ownRecord({ name: host, type: TYPE_NSEC, cacheFlush: true, ttl: TTL_HOST, data: { kind: "nsec", next: host, types: types.sort((a, b) => a - b) } }, true));
    this.host.records = records;
  }

  private buildServiceRecords(service: ServiceClaim): void {
    const instance = service.name();
    const target = (name: Name): ResourceRecord => ({ name, type: TYPE_PTR, cacheFlush: false, ttl: TTL_OTHER, data: { kind: "ptr", target: instance } });
    const records = [ownRecord(target(service.typeName), false)];
    for (const subtype of service.subtypes) records.push(ownRecord(target([subtype, SUB, ...service.typeName]), false));
    records.push(
      ownRecord({ name: instance, type: TYPE_SRV, cacheFlush: true, ttl: TTL_HOST, data: { kind: "srv", priority: 0, weight: 0, port: service.port, target: this.host.name() } }, true),
      ownRecord(this.txtRecord(service), true),
      ownRecord({ name: instance, type: TYPE_NSEC, cacheFlush: true, ttl: TTL_HOST, data: { kind: "nsec", next: instance, types: [TYPE_TXT, TYPE_SRV] } }, true),
    );
    service.records = records;
  }

  private txtRecord(service: ServiceClaim): ResourceRecord {
    return { name: service.name(), type: TYPE_TXT, cacheFlush: true, ttl: TTL_OTHER, data: { kind: "txt", strings: txtStrings(service.txtPairs()) } };
  }

  // A service's records with the _services PTR for its type.
  private serviceRecords(service: ServiceClaim): OwnRecord[] {
    const meta = this.meta.get(nameKey(service.typeName)) ?? ownRecord(metaRecord(service.typeName), false);
    return [...service.records, meta];
  }

  // Keeps one _services PTR object per announced type, so a pending answer
  // that holds it still recognises it as ours.
  private refreshMeta(): void {
    const types = new Map<string, Name>();
    for (const s of this.list) if (s.announced) types.set(nameKey(s.typeName), s.typeName);
    for (const key of [...this.meta.keys()]) if (!types.has(key)) this.meta.delete(key);
    for (const [key, type] of types) if (!this.meta.has(key)) this.meta.set(key, ownRecord(metaRecord(type), false));
  }

  // Everything that answers questions now: announced names only.
  private answerable(): OwnRecord[] {
    if (!this.host.announced) return [];
    const all = [...this.host.records];
    for (const service of this.list) if (service.announced) all.push(...service.records);
    for (const meta of this.meta.values()) all.push(meta);
    return all;
  }

  // Our records that answer a question: same name, same type or ANY.
  private answering(question: Question, from: OwnRecord[]): OwnRecord[] {
    return from.filter(({ record }) => sameName(record.name, question.name) &&
      (question.type === TYPE_ANY || question.type === record.type));
  }

  // The claim, announced or still being probed, that holds this unique name.
  private claimFor(name: Name): Claim | undefined {
    if (this.host.live && sameName(name, this.host.name())) return this.host;
    return this.list.find((s) => s.live && sameName(name, s.name()));
  }

  // ---- probing and announcing (RFC 6762 8) ----

  // Claims that start together share one random wait, so their probes and
  // announcements travel in the same packets.
  private startProbing(claims: Claim[], delayMs?: number): void {
    const at = this.clock.monotonic() + (delayMs ?? this.randomBelow(250));
    for (const claim of claims) {
      claim.phase = "probing";
      claim.step = 0;
      claim.due = at;
      claim.refreshLeft = 0;
      claim.refreshDue = NEVER;
    }
    this.refreshMeta();
  }

  private beginAnnouncing(claim: Claim, now: number): void {
    claim.phase = "announcing";
    claim.step = 0;
    claim.due = now;
    if (claim === this.host) {
      this.log("info", `mdns: host name ${this.host.label}.local is ours`);
    } else {
      const service = claim as ServiceClaim;
      this.log("info", `mdns: "${service.label}.${service.type}.local" on ${this.host.label}.local:${service.port} is ours; announcing`);
    }
    this.refreshMeta();
  }

  // One timer drives every claim: whatever is due goes out in one packet.
  private tick(): void {
    this.timer = undefined;
    this.timerAt = NEVER;
    const now = this.clock.monotonic();
    const probes: Array<{ question: Question; authorities: ResourceRecord[] }> = [];
    let hostProbe: (typeof probes)[number] | undefined;
    const announce: ResourceRecord[] = [];
    let hostInPacket = false, serviceInPacket = false;
    // The host first: services that finished probing wait for its name.
    for (const claim of [this.host, ...this.list]) {
      if (claim.phase === "probing" && claim.due <= now) {
        if (claim.step < PROBE_COUNT) {
          const probe = { question: { name: claim.name(), type: TYPE_ANY, unicastResponse: claim.step === 0 }, authorities: claim.probeRecords().map((r) => r.record) };
          if (claim === this.host) hostProbe = probe;
          else probes.push(probe);
          claim.step++;
          claim.due = now + PROBE_INTERVAL_MS;
          continue;
        }
        if (claim !== this.host && !this.host.announced) {
          claim.phase = "waiting";
          claim.due = NEVER;
          continue;
        }
        this.beginAnnouncing(claim, now);
        if (claim === this.host) for (const s of this.list) if (s.phase === "waiting") this.beginAnnouncing(s, now);
      }
      if (claim.phase === "announcing" && claim.due <= now) {
        const records = claim === this.host ? claim.records : this.serviceRecords(claim as ServiceClaim);
        for (const r of records) if (!announce.includes(r.record)) announce.push(r.record);
        if (claim === this.host) hostInPacket = true;
        else serviceInPacket = true;
        if (++claim.step < ANNOUNCE_COUNT) claim.due = now + ANNOUNCE_INTERVAL_MS;
        else {
          claim.phase = "ready";
          claim.due = NEVER;
        }
      }
      if (claim.refreshLeft > 0 && claim.refreshDue <= now && claim.announced) {
        const records = claim.refresh === "txt" ? claim.records.filter((r) => r.record.type === TYPE_TXT) : this.serviceRecords(claim as ServiceClaim);
        for (const r of records) if (!announce.includes(r.record)) announce.push(r.record);
        claim.refreshDue = --claim.refreshLeft > 0 ? now + ANNOUNCE_INTERVAL_MS : NEVER;
      }
    }
    // The host's question goes last, as it always has, so a single-service
    // probe reads as before.
    if (hostProbe) probes.push(hostProbe);
    if (probes.length > 0) this.sendProbes(probes);
    // A service announced on its own brings the host's address along, so a
    // browser can resolve it from this one packet.
    const extra = serviceInPacket && !hostInPacket ? this.host.records.map((r) => r.record) : [];
    if (announce.length > 0) this.multicast(announce, extra, true);
    this.reschedule();
  }

  private sendProbes(probes: Array<{ question: Question; authorities: ResourceRecord[] }>): void {
    const probe = (parts: typeof probes): Message => ({
      id: 0, flags: 0, questions: parts.map((p) => p.question), answers: [], authorities: parts.flatMap((p) => p.authorities), additionals: [],
    });
    const whole = probe(probes);
    if (probes.length === 1 || this.encodedSize(whole) <= MAX_PACKET_BYTES) return this.send(whole, MDNS_GROUP);
    // Too big for one packet: one per name, so each tie-break sees all of a name's records.
    for (const part of probes) this.send(probe([part]), MDNS_GROUP);
  }

  private reschedule(): void {
    let at = NEVER;
    for (const claim of [this.host, ...this.list]) at = Math.min(at, claim.due, claim.refreshLeft > 0 ? claim.refreshDue : NEVER);
    if (at === this.timerAt && this.timer !== undefined) return;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === NEVER) return;
    this.timer = this.clock.setTimer(() => this.tick(), Math.max(0, at - this.clock.monotonic()));
  }

  // Someone else holds a name we were probing: take the next one. The host's
  // name is in every SRV, so a new host name means every service probes again.
  private conflict(claim: Claim): void {
    const now = this.clock.monotonic();
    this.conflictTimes = this.conflictTimes.filter((t) => now - t < CONFLICT_WINDOW_MS);
    this.conflictTimes.push(now);
    const delay = this.conflictTimes.length >= CONFLICT_BURST ? CONFLICT_BACKOFF_MS : undefined;
    const old = claim.label;
    if (++claim.renames > MAX_RENAMES) {
      this.log("error", `mdns: too many conflicts for "${old}"; giving it up`);
      if (claim === this.host) {
        this.cancelTimers();
        for (const c of [this.host, ...this.list]) {
          c.phase = "failed";
          c.due = NEVER;
          c.refreshLeft = 0;
        }
      } else {
        claim.phase = "failed";
        claim.due = NEVER;
        claim.refreshLeft = 0;
        this.refreshMeta();
      }
      return;
    }
    if (claim === this.host) {
      this.host.label = nextHostName(this.host.label);
      this.log("warn", `mdns: host name "${old}" is taken; trying "${this.host.label}"`);
      this.buildHostRecords();
      for (const s of this.list) this.buildServiceRecords(s);
      this.startProbing([this.host, ...this.list.filter((s) => s.live)], delay);
    } else {
      const service = claim as ServiceClaim;
      service.label = this.freeLabel(service, nextInstanceName(service.label));
      this.log("warn", `mdns: "${old}.${service.type}.local" is taken; trying "${service.label}"`);
      this.buildServiceRecords(service);
      this.startProbing([service], delay);
    }
  }

  // ---- receiving ----

  receive(bytes: Uint8Array, from: UdpEndpoint): void {
    if (!this.running) return;
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
    this.reschedule();
  }

  private receiveResponse(message: Message): void {
    const conflicting: Claim[] = [];
    for (const record of message.answers) this.noteConflict(record, conflicting);
    for (const record of message.additionals) this.noteConflict(record, conflicting);
    // Services first: a host conflict restarts them all, with their new names.
    conflicting.sort((a, b) => (a === this.host ? 1 : 0) - (b === this.host ? 1 : 0));
    for (const claim of conflicting) {
      if (claim.phase === "failed" || claim.phase === "removed") continue;
      if (claim.claiming) {
        this.conflict(claim);
        continue;
      }
      // Someone else claims a name we have announced: probe again, and the
      // other side's defence, if any, will make us rename (RFC 6762 9).
      this.log("warn", `mdns: another host answered for our name "${claim.label}"; probing again`);
      if (claim === this.host) this.startProbing([this.host, ...this.list.filter((s) => s.live)]);
      else this.startProbing([claim]);
    }
  }

  private noteConflict(record: ResourceRecord, into: Claim[]): void {
    const claim = this.conflictingClaim(record);
    if (claim && !into.includes(claim)) into.push(claim);
  }

  // A record with one of our unique names but data we did not announce.
  private conflictingClaim(record: ResourceRecord): Claim | undefined {
    if (record.ttl === 0) return undefined;
    if (record.type !== TYPE_SRV && record.type !== TYPE_TXT && record.type !== TYPE_A && record.type !== TYPE_AAAA) return undefined;
    const claim = this.claimFor(record.name);
    if (!claim) return undefined;
    const canonical = canonicalRData(record);
    if (claim.uniqueRecords().some((r) => r.record.type === record.type && compareBytes(r.canonical, canonical) === 0)) return undefined;
    // The firmware answers on one interface and lists all its addresses, so
    // another address for our host name is another host defending the name.
    return claim;
  }

  private receiveQuery(message: Message, from: UdpEndpoint): void {
    if (message.authorities.length > 0) this.receiveProbe(message);
    if (!this.host.announced) return;
    const own = this.answerable();
    if (from.port !== MDNS_GROUP.port) return this.answerLegacy(message, from, own);

    const unicast: ResourceRecord[] = [];
    const multicastAnswers: ResourceRecord[] = [];
    let shared = false;
    for (const question of message.questions) {
      for (const answer of this.answering(question, own)) {
        if (knownAnswer(message, answer)) continue;
        const list = question.unicastResponse ? unicast : multicastAnswers;
        if (list.includes(answer.record)) continue;
        list.push(answer.record);
        if (!question.unicastResponse && !answer.unique) shared = true;
      }
    }
    // Questions for our unique names whose type we lack get the NSEC (RFC 6762 6.1).
    for (const question of message.questions) {
      if (question.type === TYPE_ANY || question.type === TYPE_NSEC) continue;
      const claim = this.claimFor(question.name);
      if (!claim || !claim.announced) continue;
      const records = claim.uniqueRecords();
      if (records.some((r) => r.record.type === question.type)) continue;
      const nsec = records.find((r) => r.record.type === TYPE_NSEC);
      const list = question.unicastResponse ? unicast : multicastAnswers;
      if (nsec && !list.includes(nsec.record)) list.push(nsec.record);
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
    // Only what is still ours: a service removed or changed meanwhile drops out.
    const own = this.answerable();
    const answers = [...this.pending.values()].filter((r) => own.some((o) => o.record === r));
    this.pending.clear();
    if (answers.length === 0) return;
    this.multicast(answers, this.additionalsFor(answers), false);
  }

  // RFC 6762 8.2: two hosts probing for one name at once compare what they
  // propose; the lexicographically later set wins, the other waits and retries.
  private receiveProbe(message: Message): void {
    for (const claim of [this.host, ...this.list]) {
      if (!claim.live) continue;
      const name = claim.name();
      if (!message.questions.some((q) => sameName(q.name, name))) continue;
      const theirs = message.authorities.filter((r) => sameName(r.name, name)).map((r) => canonicalRData(r)).sort(compareBytes);
      if (theirs.length === 0) continue;
      const ours = claim.probeRecords().map((r) => r.canonical).sort(compareBytes);
      const order = compareSets(ours, theirs);
      if (order === 0) continue; // our own probe, looped back
      if (claim.claiming) {
        if (order < 0) {
          this.log("info", `mdns: lost a simultaneous probe for "${claim.label}"; retrying in 1 s`);
          this.startProbing([claim], LOST_TIEBREAK_WAIT_MS);
        }
        continue;
      }
      // Already ours: defend at once (RFC 6762 8.1, 9).
      this.multicast(claim.uniqueRecords().map((r) => r.record), [], false, MIN_PROBE_DEFENCE_INTERVAL_MS);
    }
  }

  // Legacy unicast (RFC 6762 6.7): a plain DNS resolver asked from a port
  // other than 5353. Answer it directly, echoing its ID and question, with
  // short TTLs and no cache-flush bits.
  private answerLegacy(message: Message, from: UdpEndpoint, own: OwnRecord[]): void {
    const answers: ResourceRecord[] = [];
    for (const question of message.questions) {
      for (const r of this.answering(question, own)) if (!answers.includes(r.record)) answers.push(r.record);
    }
    if (answers.length === 0) return;
    const legacy = (r: ResourceRecord): ResourceRecord => ({ ...r, cacheFlush: false, ttl: Math.min(r.ttl, LEGACY_TTL_MAX) });
    const reply: Message = {
      id: message.id,
      flags: FLAG_RESPONSE | FLAG_AUTHORITATIVE,
      questions: message.questions.map((q) => ({ ...q, unicastResponse: false })),
      answers: answers.map(legacy),
      authorities: [],
      additionals: this.additionalsFor(answers).map(legacy),
    };
    // A resolver reads one datagram: drop the optional part rather than split.
    if (this.encodedSize(reply) > MAX_PACKET_BYTES) reply.additionals = [];
    this.send(reply, from);
  }

  // With a PTR to one of our instances go its SRV, TXT and NSEC and the
  // host's addresses; with an SRV the addresses (RFC 6763 12).
  private additionalsFor(answers: ResourceRecord[]): ResourceRecord[] {
    const extra: ResourceRecord[] = [];
    const add = (r: ResourceRecord) => {
      if (!answers.includes(r) && !extra.includes(r)) extra.push(r);
    };
    for (const answer of answers) {
      if (answer.type === TYPE_PTR && answer.data.kind === "ptr") {
        const target = answer.data.target;
        const service = this.list.find((s) => s.announced && sameName(s.name(), target));
        if (!service) continue;
        for (const r of service.uniqueRecords()) add(r.record);
        for (const r of this.host.records) add(r.record);
      } else if (answer.type === TYPE_SRV) {
        for (const r of this.host.records) add(r.record);
      }
    }
    return extra;
  }

  // ---- sending ----

  private sendAnswers(answers: ResourceRecord[], to: UdpEndpoint): void {
    this.sendResponse(answers, this.additionalsFor(answers), to);
  }

  // Multicasts a response, leaving out any answer multicast less than a
  // second ago (RFC 6762 6) unless force is set (announcements, goodbyes).
  private multicast(answers: ResourceRecord[], additionals: ResourceRecord[], force: boolean, minInterval = MIN_MULTICAST_INTERVAL_MS): void {
    const now = this.clock.monotonic();
    // Entries older than the longest interval no longer hold anything back;
    // dropping them keeps the map as small as one second's traffic.
    for (const [key, at] of this.lastMulticast) if (now - at >= MIN_MULTICAST_INTERVAL_MS) this.lastMulticast.delete(key);
    const keep = answers.filter((r) => {
      const key = recordKey(r);
      const last = this.lastMulticast.get(key);
      if (!force && last !== undefined && now - last < minInterval) return false;
      this.lastMulticast.set(key, now);
      return true;
    });
    if (keep.length === 0) return;
    this.sendResponse(keep, additionals, MDNS_GROUP);
  }

  // A response that would not fit one packet loses its additionals first,
  // then is split; only a single record larger than a packet goes out as is.
  private sendResponse(answers: ResourceRecord[], additionals: ResourceRecord[], to: UdpEndpoint): void {
    const message: Message = { id: 0, flags: FLAG_RESPONSE | FLAG_AUTHORITATIVE, questions: [], answers, authorities: [], additionals };
    if (answers.length <= 1 || this.encodedSize(message) <= MAX_PACKET_BYTES) return this.send(message, to);
    if (additionals.length > 0) return this.sendResponse(answers, [], to);
    const half = answers.length >> 1;
    this.sendResponse(answers.slice(0, half), [], to);
    this.sendResponse(answers.slice(half), [], to);
  }

  private encodedSize(message: Message): number {
    try {
      return encodeMessage(message).length;
    } catch {
      return 0;
    }
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

  private cancelTimers(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    if (this.pendingTimer !== undefined) this.clock.clearTimer(this.pendingTimer);
    this.timer = this.pendingTimer = undefined;
    this.timerAt = NEVER;
    this.pending.clear();
  }

  private randomBelow(n: number): number {
    const b = new Uint8Array(2);
    this.random.fill(b);
    return ((b[0] << 8) | b[1]) % n;
  }
}

function ownRecord(record: ResourceRecord, unique: boolean): OwnRecord {
  return { record, unique, canonical: canonicalRData(record) };
}

function metaRecord(type: Name): ResourceRecord {
  return { name: SERVICES_META, type: TYPE_PTR, cacheFlush: false, ttl: TTL_OTHER, data: { kind: "ptr", target: type } };
}

function expired(record: ResourceRecord): ResourceRecord {
  return { ...record, ttl: 0 };
}

function sameRecord(a: OwnRecord | undefined, b: OwnRecord | undefined): boolean {
  if (!a || !b) return a === b;
  return a.record.type === b.record.type && sameName(a.record.name, b.record.name) && compareBytes(a.canonical, b.canonical) === 0;
}

// "_ipp._tcp" -> ["_ipp", "_tcp", "local"]. RFC 6335 5.1: a service name is
// 1-15 letters, digits and hyphens; DNS-SD adds the underscore (RFC 6763 7).
function serviceType(type: string): Name {
  const match = /^(_[A-Za-z0-9-]{1,15})\.(_tcp|_udp)$/.exec(type);
  if (!match) throw new RangeError(`mdns: "${type}" is not a service type like "_ipp._tcp"`);
  return [match[1], match[2], LOCAL];
}

function checkService(subtypes: string[], port: number): void {
  if (subtypes.length > MAX_SUBTYPES) throw new RangeError(`mdns: at most ${MAX_SUBTYPES} subtypes`);
  for (const subtype of subtypes) {
    const bytes = utf8Encode(subtype).length;
    if (bytes === 0 || bytes > MAX_LABEL_BYTES) throw new RangeError(`mdns: subtype "${subtype}" is not a DNS label`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`mdns: port ${port}`);
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
function fitLabel(text: string, maxBytes = MAX_LABEL_BYTES): string {
  const fitted = fitUtf8(text, maxBytes);
  return fitted.length > 0 ? fitted : "printer";
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += (b < 16 ? "0" : "") + b.toString(16);
  return s;
}
