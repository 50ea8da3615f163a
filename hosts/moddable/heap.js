// The memory gate's gauge bound to heap.c: a host function, so this file is
// JavaScript (the "@" binding is XS syntax); its types are in heap.d.ts.
export function heapHas(slots, chunks) @ "xs_privet_heap_has";
