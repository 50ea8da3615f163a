import type { Clock } from "../hal/clock.js";
import type { Log } from "../hal/log.js";
import type { Random } from "../hal/random.js";
import type { MdnsSocket, UdpEndpoint } from "../hal/udp.js";
import { Answers } from "./answers.js";
import { ClaimSet, NEVER, ServiceClaim, type Claim, type ServiceOwner } from "./claims.js";
import {
  FLAG_RESPONSE, TYPE_A, TYPE_AAAA, TYPE_SRV, TYPE_TXT, canonicalRData, compareBytes, decodeMessage, nameKey, sameName,
  type Message, type Name, type ResourceRecord,
} from "./message.js";
import {
  SERVICES_META, expired, hostRecords, instanceRecords, ownRecord, sameRecord, txtRecord, type OwnRecord,
} from "./records.js";
import { ClaimSchedule } from "./schedule.js";
import { MdnsSender } from "./sender.js";
import {
  MAX_SERVICES, checkService, fitLabel, nextHostName, nextInstanceName, serviceType, type MdnsService, type ServiceSpec,
} from "./services.js";

// An mDNS responder (RFC 6762) for a list of DNS-SD services (RFC 6763) on
// one host: Privet's _privet._tcp with its _printer subtype (Privet 2-3), and
// beside it whatever other front ends publish (IPP Everywhere's _ipp._tcp with
// _print). The host name and its address records are shared; each service
// instance name is claimed, defended and renamed on its own.
//
// This file is the behaviour: the public responder, service updates, and
// what a conflict or a competing probe does to a claim. The names it claims
// are claims.ts, their records records.ts, probing and announcing on the
// clock schedule.ts, answers to queries answers.ts, packets out sender.ts.
export { MAX_SERVICES, MAX_SUBTYPES, nextHostName, nextInstanceName } from "./services.js";
export type { MdnsService, ServiceSpec, ServiceState, TxtPairs } from "./services.js";
export { TTL_OTHER } from "./records.js";

export type ResponderState = "stopped" | "probing" | "announcing" | "ready";

const LOST_TIEBREAK_WAIT_MS = 1000;
// RFC 6762 8.1: after 15 conflicts in 10 s, slow down to one probe set per 5 s.
const CONFLICT_BURST = 15;
const CONFLICT_WINDOW_MS = 10_000;
const CONFLICT_BACKOFF_MS = 5000;
const MAX_RENAMES = 100;
const MIN_PROBE_DEFENCE_INTERVAL_MS = 250;

export class MdnsResponder {
  private readonly claims: ClaimSet;
  // The claim set's own host and list, under short names.
  private readonly host: Claim;
  private readonly list: ServiceClaim[];
  private readonly owner: ServiceOwner;
  private readonly sender: MdnsSender;
  private readonly answers: Answers;
  private readonly schedule: ClaimSchedule;
  private conflictTimes: number[] = [];

  constructor(
    private readonly clock: Clock,
    random: Random,
    private readonly log: Log,
    host: string,
  ) {
    this.claims = new ClaimSet(host);
    this.host = this.claims.host;
    this.list = this.claims.services;
    this.sender = new MdnsSender(clock, log);
    this.answers = new Answers(this.claims, this.sender, clock, random);
    this.schedule = new ClaimSchedule(this.claims, this.sender, clock, random, log);
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

  get packetsSent(): number {
    return this.sender.packetsSent;
  }

  // Publishes a service now (probing first) or, before start(), with the rest.
  // A malformed type or too many services is a programming error and throws.
  add(spec: ServiceSpec): MdnsService {
    if (this.list.length >= MAX_SERVICES) throw new RangeError(`mdns: at most ${MAX_SERVICES} services`);
    const service = new ServiceClaim(spec, serviceType(spec.type), this.owner);
    checkService(service.subtypes, service.port);
    service.label = this.claims.freeLabel(service, service.label);
    this.list.push(service);
    this.buildServiceRecords(service);
    if (this.running) {
      this.schedule.startProbing([service]);
      this.schedule.reschedule();
    }
    return service;
  }

  start(socket: MdnsSocket): void {
    this.sender.socket = socket;
    this.buildHostRecords();
    for (const service of this.list) {
      service.renames = 0;
      this.buildServiceRecords(service);
    }
    this.schedule.startProbing([this.host, ...this.list]);
    this.schedule.reschedule();
  }

  // Sends a goodbye (TTL 0) for every record, then falls silent (Privet 3.2).
  // The services stay listed, so start() can publish them again.
  stop(): void {
    if (this.host.phase === "idle") return;
    // (A failed host announced nothing, so its goodbye list is empty.)
    const goodbye: ResourceRecord[] = [];
    for (const service of this.list) if (service.announced) goodbye.push(...this.claims.serviceRecords(service).map((r) => r.record));
    if (this.host.announced) goodbye.push(...this.host.records.map((r) => r.record));
    this.cancelTimers();
    for (const claim of [this.host, ...this.list]) {
      claim.phase = "idle";
      claim.due = claim.refreshDue = NEVER;
      claim.refreshLeft = 0;
    }
    this.claims.meta.clear();
    if (goodbye.length > 0) this.sender.multicast(goodbye.map(expired), [], true);
  }

  // Re-reads every service's TXT (cs, id, note changed) and re-announces the
  // ones that differ (Privet 3.3, RFC 6762 8.4).
  txtChanged(): void {
    for (const service of this.list) this.refreshTxt(service);
    this.schedule.reschedule();
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
    const before = wasAnnounced ? this.claims.serviceRecords(service) : [];
    const oldType = service.typeName;
    service.subtypes = subtypes;
    service.port = port;
    if (changes.txt !== undefined) service.txt = changes.txt;

    if (renamed || retyped) {
      // A new unique name: the old one is let go and the new one claimed anew.
      if (changes.instance !== undefined) service.wanted = fitLabel(changes.instance);
      service.suffix = type;
      service.label = this.claims.freeLabel(service, service.wanted);
      service.renames = 0;
      service.phase = "idle";
      // Renamed within its type, the type itself stays listed in _services.
      if (wasAnnounced) this.goodbye(oldType, retyped ? before : before.filter((r) => !sameName(r.record.name, SERVICES_META)));
      this.buildServiceRecords(service);
      if (this.running) this.schedule.startProbing([service]);
      this.schedule.reschedule();
      return;
    }

    const txtBefore = service.records.find((r) => r.record.type === TYPE_TXT);
    const srvBefore = service.records.find((r) => r.record.type === TYPE_SRV);
    this.buildServiceRecords(service);
    if (!wasAnnounced) return;
    // Shared records that went away (a dropped subtype's PTR) get their
    // goodbye; a unique record's new data replaces the old in caches by its
    // cache-flush bit when announced again (RFC 6762 8.4, 10.2).
    const after = this.claims.serviceRecords(service);
    const gone = before.filter((old) => !old.unique && !after.some((r) => sameRecord(r, old)));
    if (gone.length > 0) this.sender.multicast(gone.map((r) => expired(r.record)), [], true);
    const srvAfter = service.records.find((r) => r.record.type === TYPE_SRV);
    if (gone.length > 0 || after.length !== before.length || !sameRecord(srvBefore, srvAfter)) this.schedule.scheduleRefresh(service, "all");
    else if (!sameRecord(txtBefore, service.records.find((r) => r.record.type === TYPE_TXT))) this.schedule.scheduleRefresh(service, "txt");
    this.schedule.reschedule();
  }

  private removeService(service: ServiceClaim): void {
    if (service.phase === "removed") return;
    const index = this.list.indexOf(service);
    if (index >= 0) this.list.splice(index, 1);
    const wasAnnounced = service.announced;
    const records = wasAnnounced ? this.claims.serviceRecords(service) : [];
    service.phase = "removed";
    service.due = service.refreshDue = NEVER;
    service.refreshLeft = 0;
    if (wasAnnounced) this.goodbye(service.typeName, records);
    this.log("info", `mdns: "${service.label}.${service.type}.local" withdrawn`);
    this.schedule.reschedule();
  }

  // TTL 0 for the records of a service that is no longer announced; the
  // _services PTR for its type only if no announced service still has it.
  private goodbye(type: Name, records: OwnRecord[]): void {
    const typeKey = nameKey(type);
    const stillListed = this.list.some((s) => s.announced && nameKey(s.typeName) === typeKey);
    const leaving = records.filter((r) => !(stillListed && sameName(r.record.name, SERVICES_META)));
    this.claims.refreshMeta();
    if (leaving.length > 0) this.sender.multicast(leaving.map((r) => expired(r.record)), [], true);
  }

  private refreshTxt(service: ServiceClaim): void {
    const old = service.records.find((r) => r.record.type === TYPE_TXT);
    const fresh = ownRecord(txtRecord(service), true);
    if (sameRecord(old, fresh)) return;
    service.records = service.records.map((r) => (r === old ? fresh : r));
    if (service.announced) this.schedule.scheduleRefresh(service, "txt");
  }

  // ---- records ----

  private buildHostRecords(): void {
    this.host.records = hostRecords(this.host.name(), this.sender.socket ? this.sender.socket.addresses : []);
  }

  private buildServiceRecords(service: ServiceClaim): void {
    service.records = instanceRecords(service, this.host.name());
  }

  // ---- conflicts (RFC 6762 8.1, 9) ----

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
        this.claims.refreshMeta();
      }
      return;
    }
    if (claim === this.host) {
      this.host.label = nextHostName(this.host.label);
      this.log("warn", `mdns: host name "${old}" is taken; trying "${this.host.label}"`);
      this.buildHostRecords();
      for (const s of this.list) this.buildServiceRecords(s);
      this.schedule.startProbing([this.host, ...this.list.filter((s) => s.live)], delay);
    } else {
      const service = claim as ServiceClaim;
      service.label = this.claims.freeLabel(service, nextInstanceName(service.label));
      this.log("warn", `mdns: "${old}.${service.type}.local" is taken; trying "${service.label}"`);
      this.buildServiceRecords(service);
      this.schedule.startProbing([service], delay);
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
    if (message.flags & FLAG_RESPONSE) {
      this.receiveResponse(message);
    } else {
      if (message.authorities.length > 0) this.receiveProbe(message);
      this.answers.receiveQuery(message, from);
    }
    this.schedule.reschedule();
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
      if (claim === this.host) this.schedule.startProbing([this.host, ...this.list.filter((s) => s.live)]);
      else this.schedule.startProbing([claim]);
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
    const claim = this.claims.claimFor(record.name);
    if (!claim) return undefined;
    const canonical = canonicalRData(record);
    if (claim.uniqueRecords().some((r) => r.record.type === record.type && compareBytes(r.canonical, canonical) === 0)) return undefined;
    // The firmware answers on one interface and lists all its addresses, so
    // another address for our host name is another host defending the name.
    return claim;
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
          this.schedule.startProbing([claim], LOST_TIEBREAK_WAIT_MS);
        }
        continue;
      }
      // Already ours: defend at once (RFC 6762 8.1, 9).
      this.sender.multicast(claim.uniqueRecords().map((r) => r.record), [], false, MIN_PROBE_DEFENCE_INTERVAL_MS);
    }
  }

  // ---- timers ----

  private cancelTimers(): void {
    this.schedule.cancel();
    this.answers.cancel();
  }
}

function compareSets(a: Uint8Array[], b: Uint8Array[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareBytes(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}
