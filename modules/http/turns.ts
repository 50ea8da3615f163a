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
  roomFor(share: number): boolean;
  retry(check: () => void): void;
}

export class Turns {
  private used = 0;
  private readonly waiting: Array<Waiter<unknown>> = [];
  private retrying = false;

  constructor(readonly capacity = 1, private readonly memory?: TurnsMemory) {}

  // Some work holds a share.
  get busy(): boolean {
    return this.used > 0;
  }

  // The shares held by work under way.
  get held(): number {
    return this.used;
  }

  run<T>(work: () => T | Promise<T>, cost = this.capacity): Promise<T> {
    const share = Math.min(Math.max(cost, 0), this.capacity);
    return new Promise<T>((resolve, reject) => {
      const waiter = new Waiter(share, work, resolve, reject);
      if (this.waiting.length === 0 && this.fits(share)) return this.go(waiter);
      this.waiting.push(waiter as Waiter<unknown>);
      this.lookAgain();
    });
  }

  private go<T>(waiter: Waiter<T>): void {
    const share = waiter.cost;
    this.used += share;
    let result: T | Promise<T>;
    try {
      result = waiter.work();
    } catch (error) {
      this.giveBack(share);
      waiter.reject(error);
      return;
    }
    if (!isThenable(result)) {
      this.giveBack(share);
      waiter.resolve(result);
      return;
    }
    // Thin arrows, made only while the work is under way; the waiter itself
    // is an object, not a closure whose byte code XS would copy per call.
    result.then((value) => this.settled(waiter, value), (error: unknown) => this.failed(waiter, error));
  }

  private settled<T>(waiter: Waiter<T>, value: T): void {
    this.giveBack(waiter.cost);
    waiter.resolve(value);
  }

  private failed<T>(waiter: Waiter<T>, error: unknown): void {
    this.giveBack(waiter.cost);
    waiter.reject(error);
  }

  private fits(share: number): boolean {
    // The room asked of the heap covers the work under way too: it was let in
    // with room for its share, which it may not have used yet.
    return (this.used === 0 || this.used + share <= this.capacity) && (!this.memory || this.memory.roomFor(this.used + share));
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

  private giveBack(share: number): void {
    this.used -= share;
    this.letIn();
  }

  private letIn(): void {
    for (let i = 0; i < this.waiting.length;) {
      const next = this.waiting[i];
      if (!this.fits(next.cost)) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      this.go(next);
      // go() may have run and given back at once (and let others in): start over.
      i = 0;
    }
    this.lookAgain();
  }
}

// Work waiting for its share, or under way: what run() was given.
class Waiter<T> {
  constructor(
    readonly cost: number,
    readonly work: () => T | Promise<T>,
    readonly resolve: (value: T) => void,
    readonly reject: (error: unknown) => void,
  ) {}
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
