// One large exchange at a time. On the board each of these holds several KB
// at once (a cloud call: a TLS session, then its whole answer as bytes, text
// and parsed JSON; an IPP Get-Printer-Attributes: a 5 KB answer), and in a
// 96 KB heap two of them together are what ran it out in mcsim. XS cannot
// catch "memory full", so the later one waits for the earlier one's end.
// Work that finds no turn under way runs at once, in the caller's own turn
// of the event loop, and work that returns no promise ends its turn at
// once: a free printer answers as fast as before. The waiters are bounded by
// their callers (the server's few connections, the cloud's calls in order).
export class Turns {
  private busy = false;
  private readonly waiting: Array<() => void> = [];

  run<T>(work: () => T | Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const go = () => {
        this.busy = true;
        let result: T | Promise<T>;
        try {
          result = work();
        } catch (error) {
          this.next();
          reject(error);
          return;
        }
        if (!isThenable(result)) {
          this.next();
          resolve(result);
          return;
        }
        result.then((value) => { this.next(); resolve(value); }, (error: unknown) => { this.next(); reject(error); });
      };
      if (this.busy) this.waiting.push(go);
      else go();
    });
  }

  private next(): void {
    const go = this.waiting.shift();
    if (go) go();
    else this.busy = false;
  }
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
