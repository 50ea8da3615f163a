// The engine's heap, where it is fixed (the board): XS aborts with "memory
// full" when it runs out, and that cannot be caught. Absent where the heap
// grows (Node), so nothing is ever refused for memory there.
export interface HeapGauge {
  // At least this many slots and chunk bytes are free (live, not counting garbage).
  has(slots: number, chunks: number): boolean;
}
