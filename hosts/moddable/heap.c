/*
 * The XS heap's free room, for the firmware's memory gate
 * (modules/device/memory.ts). The board's heap is fixed: XS aborts with
 * "memory full" when a slot or chunk is wanted and a collection frees none,
 * and that cannot be caught. So before the firmware starts something large
 * (a request, a cloud call, a job's decoder) it asks here whether the room
 * is there, and refuses or waits when it is not.
 *
 * heapHas(slots, chunks): true when at least that many slots and chunk bytes
 * are free. The machine's counts include garbage until the next collection,
 * so a "no" is checked again after a full collection: only the live heap
 * decides a refusal. A "yes" costs nothing.
 */

#include "xsAll.h"
#include "xs.h"

static int enough(txMachine *the, txSize slots, txSize chunks)
{
	return (the->maximumHeapCount - the->currentHeapCount >= slots)
		&& (the->maximumChunksSize - the->currentChunksSize >= chunks);
}

void xs_privet_heap_has(xsMachine *the)
{
	txSize slots = xsToInteger(xsArg(0));
	txSize chunks = xsToInteger(xsArg(1));
	int yes = enough(the, slots, chunks);
	if (!yes) {
		xsCollectGarbage();
		yes = enough(the, slots, chunks);
	}
	xsResult = yes ? xsTrue : xsFalse;
}
