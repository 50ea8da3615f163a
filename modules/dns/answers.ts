import type { Clock, TimerId } from "../hal/clock.js";
import type { Random } from "../hal/random.js";
import { MDNS_GROUP, type UdpEndpoint } from "../hal/udp.js";
import type { ClaimSet } from "./claims.js";
import {
  FLAG_AUTHORITATIVE, FLAG_RESPONSE, FLAG_TRUNCATED, TYPE_ANY, TYPE_NSEC, TYPE_PTR, TYPE_SRV, canonicalRData, compareBytes, sameName,
  type Message, type Question, type ResourceRecord,
} from "./message.js";
import { recordKey, type OwnRecord } from "./records.js";
import { MAX_PACKET_BYTES, randomBelow, type MdnsSender } from "./sender.js";

// Answers to queries (RFC 6762 5-7, RFC 6763 12): unique answers at once,
// shared ones after a short random wait, what the querier already knows left
// out, the records a browser asks for next added, and plain DNS resolvers
// answered the legacy way. Only announced names answer.

const LEGACY_TTL_MAX = 10;

export class Answers {
  private readonly pending = new Map<string, ResourceRecord>();
  private pendingTimer: TimerId | undefined;
  private pendingAt = 0;

  constructor(
    private readonly claims: ClaimSet,
    private readonly sender: MdnsSender,
    private readonly clock: Clock,
    private readonly random: Random,
  ) {}

  receiveQuery(message: Message, from: UdpEndpoint): void {
    if (!this.claims.host.announced) return;
    const own = this.claims.answerable();
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
      const claim = this.claims.claimFor(question.name);
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
      this.sender.multicast(multicastAnswers, this.additionalsFor(multicastAnswers), false);
      return;
    }
    // Shared answers wait 20-120 ms (400-500 ms when more known answers
    // follow), so several responders do not all answer at once (RFC 6762 6, 7.2).
    const truncated = (message.flags & FLAG_TRUNCATED) !== 0;
    const delay = truncated ? 400 + randomBelow(this.random, 101) : 20 + randomBelow(this.random, 101);
    for (const r of multicastAnswers) this.pending.set(recordKey(r), r);
    const at = this.clock.monotonic() + delay;
    if (this.pendingTimer !== undefined && this.pendingAt <= at) return;
    if (this.pendingTimer !== undefined) this.clock.clearTimer(this.pendingTimer);
    this.pendingAt = at;
    this.pendingTimer = this.clock.setTimer(() => this.flushPending(), delay);
  }

  // Drops the shared answers still waiting (the responder stopped, or gave up its host name).
  cancel(): void {
    if (this.pendingTimer !== undefined) this.clock.clearTimer(this.pendingTimer);
    this.pendingTimer = undefined;
    this.pending.clear();
  }

  private flushPending(): void {
    this.pendingTimer = undefined;
    // Only what is still ours: a service removed or changed meanwhile drops out.
    const own = this.claims.answerable();
    const answers = [...this.pending.values()].filter((r) => own.some((o) => o.record === r));
    this.pending.clear();
    if (answers.length === 0) return;
    this.sender.multicast(answers, this.additionalsFor(answers), false);
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
    if (this.sender.encodedSize(reply) > MAX_PACKET_BYTES) reply.additionals = [];
    this.sender.send(reply, from);
  }

  private sendAnswers(answers: ResourceRecord[], to: UdpEndpoint): void {
    this.sender.sendResponse(answers, this.additionalsFor(answers), to);
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
        const service = this.claims.services.find((s) => s.announced && sameName(s.name(), target));
        if (!service) continue;
        for (const r of service.uniqueRecords()) add(r.record);
        for (const r of this.claims.host.records) add(r.record);
      } else if (answer.type === TYPE_SRV) {
        for (const r of this.claims.host.records) add(r.record);
      }
    }
    return extra;
  }

  // Our records that answer a question: same name, same type or ANY.
  private answering(question: Question, from: OwnRecord[]): OwnRecord[] {
    return from.filter(({ record }) => sameName(record.name, question.name) &&
      (question.type === TYPE_ANY || question.type === record.type));
  }
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
