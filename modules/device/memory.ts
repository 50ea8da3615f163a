import type { Clock } from "../hal/clock.js";
import type { HeapGauge } from "../hal/heap.js";

// The device's free heap as the one judge of whether something may start
// now (issue 20). On the board XS's heap is fixed and "memory full" cannot
// be caught: it is a reboot in the middle of a job. The budget of shares
// (http/turns.ts) keeps large activities apart; this keeps everything off
// the last of the heap, measured rather than guessed: a request is answered
// only with room for its work left (otherwise each front end refuses in its
// own words: HTTP 503 with Retry-After, IPP server-error-busy, Privet
// printer_busy), and a large activity starts only with room for what it
// needs (otherwise it waits, and a cloud job stays QUEUED meanwhile).
//
// Where the heap grows (Node) there is no gauge and nothing is refused.

export interface MemoryReserveConfig {
  // Free slots and chunk bytes a request needs to be taken (a large
  // activity's own need, http/turns' Cost, comes on top).
  requestSlots: number;
  requestChunks: number;
  // Kept free beside a large activity's own need, for the work nobody meters
  // (an XMPP stanza, a timer's callback). Not a request's reserve: requests
  // count the activities under way themselves, so an idle printer is not
  // kept from its cloud calls by requests that are not there. Absent: 0.
  headroomSlots?: number;
  headroomChunks?: number;
  // How often a large activity that found no room looks again.
  retryMs?: number;
}

const RETRY_MS = 250;
// A "no" stands this long for as much or more: asking again at once would
// only collect again (a full collection each time, which a storm of
// refused requests would pay for every one).
const NO_STANDS_MS = 100;

export class DeviceMemory {
  private refusals = 0;
  // The last "no" the gauge gave, and for how much.
  private saidNoAt = -Infinity;
  private noSlots = 0;
  private noChunks = 0;

  constructor(private readonly gauge: HeapGauge | undefined, private readonly reserve: MemoryReserveConfig | undefined,
    private readonly clock: Clock) {}

  // How often the gauge was found short (or a recent "no" stood) since boot: a
  // measurement for tests and for a person reading the device in a debugger.
  get shortCount(): number {
    return this.refusals;
  }

  // A request, beside what the large activities under way were let in with
  // room for (http/turns: they may not have used it yet).
  roomForRequest(heldSlots = 0, heldChunks = 0): boolean {
    const gauge = this.gauge, reserve = this.reserve;
    if (!gauge || !reserve) return true;
    return this.ask(gauge, reserve.requestSlots + heldSlots, reserve.requestChunks + heldChunks);
  }

  // A large activity's need (with those under way), and the headroom.
  roomFor(slots: number, chunks: number): boolean {
    const gauge = this.gauge, reserve = this.reserve;
    if (!gauge || !reserve) return true;
    return this.ask(gauge, (reserve.headroomSlots ?? 0) + slots, (reserve.headroomChunks ?? 0) + chunks);
  }

  private ask(gauge: HeapGauge, slots: number, chunks: number): boolean {
    const now = this.clock.monotonic();
    const refusedLately = now - this.saidNoAt < NO_STANDS_MS && slots >= this.noSlots && chunks >= this.noChunks;
    if (!refusedLately) {
      if (gauge.has(slots, chunks)) return true;
      this.saidNoAt = now;
      this.noSlots = slots;
      this.noChunks = chunks;
    }
    this.refusals++;
    return false;
  }

  // Memory comes back when other work ends, which raises no event: look again later.
  retry(check: () => void): void {
    this.clock.setTimer(check, this.reserve?.retryMs ?? RETRY_MS);
  }
}
