// heap.c: whether the XS heap has that many free slots and chunk bytes (after a collection when it must).
export declare function heapHas(slots: number, chunks: number): boolean;
