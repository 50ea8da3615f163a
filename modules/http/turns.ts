// The board's free heap as a budget that large activities take from and
// give back. On the board each of these holds many KB at once (a cloud call:
// a TLS session, then its whole answer as bytes, text and parsed JSON; an
// IPP Get-Printer-Attributes: a 5 KB answer; a JPEG job: its decoder's rows
// and placement tables for the whole job), and in a 96 KB heap two of them
// together are what ran it out in mcsim. XS cannot catch "memory full", so
// an activity whose cost does not fit beside those under way waits for them.
//
// With the default capacity of one and no cost given, each run takes the
// whole budget: one large exchange at a time, in the order asked. The
// board's manifest gives the capacity and each activity's share
// (privet.budget), so small ones may overlap where they fit.
//
// Work that fits runs at once, in the caller's own turn of the event loop,
// and work that returns no promise gives its share back at once: a free
// printer answers as fast as before. A newcomer waits behind any waiter, so
// a large activity is not passed for ever by small ones; when a share comes
// back, waiters are let in in order, each that fits. A cost above the
// capacity is taken as the whole budget. The waiters are bounded by their
// callers (the server's few connections, the cloud's calls in order, the
// one print job).
//
// With a memory (the board's measured heap, device/memory.ts), work also
// waits until the heap has room for its share; as memory coming back
// raises no event, a waiter held back for it looks again a little later.
export interface TurnsMemory {
  // Room in the heap for this much more (beside what a request needs).
  roomFor(slots: number, chunks: number): boolean;
  retry(check: () => void): void;
}

// A large activity's cost: its share of the budget and, where the heap is
// measured (the board), the slots and chunk bytes it needs free to start;
// those stay counted while it runs (it may not have used them yet). A bare
// number is a share alone.
export interface Cost {
  share: number;
  slots?: number;
  chunks?: number;
}

export class Turns {
  private used = 0;
  private slots = 0;
  private chunks = 0;
  private readonly waiting: Array<Waiter<unknown>> = [];
  private retrying = false;

  constructor(readonly capacity = 1, private readonly memory?: TurnsMemory) {}

  // Some work holds a share.
  get busy(): boolean {
    return this.used > 0;
  }

  // The heap the work under way was let in with room for.
  get heldSlots(): number {
    return this.slots;
  }

  get heldChunks(): number {
    return this.chunks;
  }

  run<T>(work: () => T | Promise<T>, cost: number | Cost = this.capacity): Promise<T> {
    const asked = typeof cost === "number" ? cost : cost.share;
    const share = Math.min(Math.max(asked, 0), this.capacity);
    return new Promise<T>((resolve, reject) => {
      const waiter = typeof cost === "number"
        ? new Waiter(share, 0, 0, work, resolve, reject)
        : new Waiter(share, cost.slots ?? 0, cost.chunks ?? 0, work, resolve, reject);
      if (this.waiting.length === 0 && this.fits(waiter)) return this.go(waiter);
      this.waiting.push(waiter as Waiter<unknown>);
      this.lookAgain();
    });
  }

  // Work still waiting that is no longer wanted (its job ended first) leaves
  // the line, and what it holds with it; its promise never settles.
  // Returns whether it was waiting.
  withdraw(work: () => unknown): boolean {
    const i = this.waiting.findIndex((w) => w.work === work);
    if (i < 0) return false;
    this.waiting.splice(i, 1);
    return true;
  }

  private go<T>(waiter: Waiter<T>): void {
    this.used += waiter.cost;
    this.slots += waiter.slots;
    this.chunks += waiter.chunks;
    let result: T | Promise<T>;
    try {
      result = waiter.work();
    } catch (error) {
      this.giveBack(waiter);
      waiter.reject(error);
      return;
    }
    if (!isThenable(result)) {
      this.giveBack(waiter);
      waiter.resolve(result);
      return;
    }
    // Thin arrows, made only while the work is under way; the waiter itself
    // is an object, not a closure whose byte code XS would copy per call.
    result.then((value) => this.settled(waiter, value), (error: unknown) => this.failed(waiter, error));
  }

  private settled<T>(waiter: Waiter<T>, value: T): void {
    this.giveBack(waiter);
    waiter.resolve(value);
  }

  private failed<T>(waiter: Waiter<T>, error: unknown): void {
    this.giveBack(waiter);
    waiter.reject(error);
  }

  private fits(waiter: Need): boolean {
    return this.sharesFit(waiter) && this.roomFits(waiter);
  }

  private sharesFit(waiter: Need): boolean {
    return this.used === 0 || this.used + waiter.cost <= this.capacity;
  }

  // The room asked of the heap covers the work under way too: it was let in
  // with room for its need, which it may not have used yet.
  private roomFits(waiter: Need): boolean {
    return !this.memory || this.memory.roomFor(this.slots + waiter.slots, this.chunks + waiter.chunks);
  }

  private lookAgain(): void {
    const memory = this.memory;
    if (!memory || this.retrying || this.waiting.length === 0) return;
    this.retrying = true;
    memory.retry(() => this.lookedAgain());
  }

  private lookedAgain(): void {
    this.retrying = false;
    this.letIn();
  }

  private giveBack(waiter: Need): void {
    this.used -= waiter.cost;
    this.slots -= waiter.slots;
    this.chunks -= waiter.chunks;
    this.letIn();
  }

  private letIn(): void {
    for (let i = 0; i < this.waiting.length;) {
      const next = this.waiting[i];
      if (!this.sharesFit(next)) {
        i++;
        continue;
      }
      // Room in the heap is taken strictly in order: a later, smaller need
      // let in first would keep a large one (a JPEG's rows) out for ever,
      // the heap never having its room at once.
      if (!this.roomFits(next)) break;
      this.waiting.splice(i, 1);
      this.go(next);
      // go() may have run and given back at once (and let others in): start over.
      i = 0;
    }
    this.lookAgain();
  }
}

// What a waiter takes while it runs.
interface Need {
  readonly cost: number;
  readonly slots: number;
  readonly chunks: number;
}

// Work waiting for its share, or under way: what run() was given.
class Waiter<T> implements Need {
  constructor(
    readonly cost: number,
    readonly slots: number,
    readonly chunks: number,
    readonly work: () => T | Promise<T>,
    readonly resolve: (value: T) => void,
    readonly reject: (error: unknown) => void,
  ) {}
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
