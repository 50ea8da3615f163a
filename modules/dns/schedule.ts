import type { Clock, TimerId } from "../hal/clock.js";
import type { Log } from "../hal/log.js";
import type { Random } from "../hal/random.js";
import { MDNS_GROUP } from "../hal/udp.js";
import { NEVER, type Claim, type ClaimSet, type ServiceClaim } from "./claims.js";
import { TYPE_ANY, TYPE_TXT, type Message, type Question, type ResourceRecord } from "./message.js";
import { MAX_PACKET_BYTES, randomBelow, type MdnsSender } from "./sender.js";

// Probing and announcing on a clock (RFC 6762 8): each claim goes from
// probing through announcing to ready, and an updated service is announced
// again, all driven by one timer so what falls due together goes out in one
// packet. What starts a claim over (a conflict, an update) is the
// responder's to decide; this only keeps time.

const PROBE_COUNT = 3;
const PROBE_INTERVAL_MS = 250;
const ANNOUNCE_COUNT = 2;
const ANNOUNCE_INTERVAL_MS = 1000;

export class ClaimSchedule {
  // The claim set's own host and list, under short names.
  private readonly host: Claim;
  private readonly list: ServiceClaim[];
  private timer: TimerId | undefined;
  private timerAt = NEVER;

  constructor(
    private readonly claims: ClaimSet,
    private readonly sender: MdnsSender,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly log: Log,
  ) {
    this.host = claims.host;
    this.list = claims.services;
  }

  // Claims that start together share one random wait, so their probes and
  // announcements travel in the same packets.
  startProbing(claims: Claim[], delayMs?: number): void {
    const at = this.clock.monotonic() + (delayMs ?? randomBelow(this.random, 250));
    for (const claim of claims) {
      claim.phase = "probing";
      claim.step = 0;
      claim.due = at;
      claim.refreshLeft = 0;
      claim.refreshDue = NEVER;
    }
    this.claims.refreshMeta();
  }

  // An updated service is announced again, starting now (RFC 6762 8.4); a
  // refresh of all its records still under way is not narrowed to its TXT.
  scheduleRefresh(service: ServiceClaim, kind: "txt" | "all"): void {
    service.refresh = service.refreshLeft > 0 && service.refresh === "all" ? "all" : kind;
    service.refreshLeft = ANNOUNCE_COUNT;
    service.refreshDue = this.clock.monotonic();
  }

  // Sets the one timer for the claim due first: call it after anything that
  // moves a claim's time.
  reschedule(): void {
    let at = NEVER;
    for (const claim of [this.host, ...this.list]) at = Math.min(at, claim.due, claim.refreshLeft > 0 ? claim.refreshDue : NEVER);
    if (at === this.timerAt && this.timer !== undefined) return;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === NEVER) return;
    this.timer = this.clock.setTimer(() => this.tick(), Math.max(0, at - this.clock.monotonic()));
  }

  // Stops the clock; the claims' phases are the caller's to set.
  cancel(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = NEVER;
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
        const records = claim === this.host ? claim.records : this.claims.serviceRecords(claim as ServiceClaim);
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
        const records = claim.refresh === "txt" ? claim.records.filter((r) => r.record.type === TYPE_TXT) : this.claims.serviceRecords(claim as ServiceClaim);
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
    if (announce.length > 0) this.sender.multicast(announce, extra, true);
    this.reschedule();
  }

  private sendProbes(probes: Array<{ question: Question; authorities: ResourceRecord[] }>): void {
    const probe = (parts: typeof probes): Message => ({
      id: 0, flags: 0, questions: parts.map((p) => p.question), answers: [], authorities: parts.flatMap((p) => p.authorities), additionals: [],
    });
    const whole = probe(probes);
    if (probes.length === 1 || this.sender.encodedSize(whole) <= MAX_PACKET_BYTES) return this.sender.send(whole, MDNS_GROUP);
    // Too big for one packet: one per name, so each tie-break sees all of a name's records.
    for (const part of probes) this.sender.send(probe([part]), MDNS_GROUP);
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
    this.claims.refreshMeta();
  }
}
