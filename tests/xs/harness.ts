// A minimal ava-like harness for the tests that run inside XS (no Node, no
// ava there). Results leave through xsnap's issueCommand as JSON.

declare function issueCommand(message: ArrayBuffer): unknown;

interface Assertions {
  is(actual: unknown, expected: unknown, message?: string): void;
  not(actual: unknown, expected: unknown, message?: string): void;
  true(value: unknown, message?: string): void;
  false(value: unknown, message?: string): void;
  deepEqual(actual: unknown, expected: unknown, message?: string): void;
  throws(fn: () => unknown, message?: string): void;
}

const tests: Array<{ name: string; fn: (t: Assertions) => void }> = [];

export default function test(name: string, fn: (t: Assertions) => void): void {
  tests.push({ name, fn });
}

function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = a as unknown as ArrayLike<number>, y = b as unknown as ArrayLike<number>;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  const ka = Object.keys(a as object), kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

class Failure extends Error {}

function assertions(): Assertions {
  const check = (ok: boolean, message: string) => { if (!ok) throw new Failure(message); };
  const show = (v: unknown) => { try { return JSON.stringify(v); } catch { return String(v); } };
  return {
    is: (a, e, m) => check(Object.is(a, e), m ?? `${show(a)} is not ${show(e)}`),
    not: (a, e, m) => check(!Object.is(a, e), m ?? `${show(a)} should not be ${show(e)}`),
    true: (v, m) => check(v === true, m ?? `${show(v)} is not true`),
    false: (v, m) => check(v === false, m ?? `${show(v)} is not false`),
    deepEqual: (a, e, m) => check(same(a, e), m ?? `${show(a)} does not deep-equal ${show(e)}`),
    throws: (fn, m) => {
      let threw = false;
      try { fn(); } catch { threw = true; }
      check(threw, m ?? "did not throw");
    },
  };
}

// Runs every registered test and reports one JSON message per test.
export function runAll(): void {
  for (const { name, fn } of tests) {
    let error = "";
    try { fn(assertions()); } catch (e) { error = e instanceof Error ? `${e.name}: ${e.message}` : String(e); }
    const text = JSON.stringify({ name, error });
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
    issueCommand(bytes.buffer);
  }
}
