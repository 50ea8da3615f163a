/* A census of the XS heap, for measurement only (never in a product build):
   after a full collection it counts the live slots by kind and the chunk
   bytes each owns, groups objects by prototype (named by its constructor),
   and names every function whose byte code was copied into the heap (a
   closure made at run time) by its file and line, read from the debug
   build's line opcodes. It reads the machine's own structures (xsAll.h), so
   it follows the SDK's layout of the day; lin debug builds only.

   census(label, top): prints "census: <label> live slots N chunks N ...;
   peak since last: slots N chunks N" (the peak counts garbage too, and is
   reset at each call), and with top > 0 the slot kinds, the buffers of 512
   bytes or more, the top groups by slots and by chunks, every plain object
   of 5 properties or more (its first keys), and every closure by file:line.
   Returns live slots * 2^20 + live chunk bytes. */
#include "xsAll.h"
#include "xs.h"
#include <stdio.h>

#define GROUPS 600
typedef struct { txString fname; int line; txID file; void* key; txSlot* named; int isFunction; int codeInHeap; int count; int slots; int chunks; } Group;
static Group groups[GROUPS];
static int groupCount;
static int kindSlots[64];
static int kindChunks[64];
static int bigSizes[64];
static int bigCount;

static int inHeapChunks(txMachine* the, void* p) {
	txBlock* block = the->firstBlock;
	while (block) {
		if ((txByte*)p > (txByte*)block && (txByte*)p < block->current) return 1;
		block = block->nextBlock;
	}
	return 0;
}
static int chunkSize(txMachine* the, void* p) {
	if (!p || !inHeapChunks(the, p)) return 0;
	txChunk* chunk = (txChunk*)(((txByte*)p) - sizeof(txChunk));
	return (int)((chunk->size & 0x7FFFFFFF) + sizeof(txChunk));
}
static int ownedChunk(txMachine* the, txSlot* slot) {
	switch (slot->kind) {
	case XS_STRING_KIND: return chunkSize(the, slot->value.string);
	case XS_BIGINT_KIND: return chunkSize(the, slot->value.bigint.data);
	case XS_ARGUMENTS_SLOPPY_KIND: case XS_ARGUMENTS_STRICT_KIND: case XS_ARRAY_KIND: case XS_STACK_KIND:
		return chunkSize(the, slot->value.array.address);
	case XS_ARRAY_BUFFER_KIND: return chunkSize(the, slot->value.arrayBuffer.address);
	case XS_CODE_KIND: return chunkSize(the, slot->value.code.address);
	case XS_GLOBAL_KIND: case XS_MAP_KIND: case XS_SET_KIND: return chunkSize(the, slot->value.table.address);
	case XS_HOST_KIND: return (slot->flag & XS_HOST_CHUNK_FLAG) ? chunkSize(the, slot->value.host.data) : 0;
	case XS_IDS_KIND: return chunkSize(the, slot->value.IDs);
	case XS_REGEXP_KIND: return chunkSize(the, slot->value.regexp.code) + chunkSize(the, slot->value.regexp.data);
	case XS_KEY_KIND: return chunkSize(the, slot->value.key.string);
	default: return 0;
	}
}
static txString ownName(txMachine* the, txSlot* instance) {
	txSlot* code = instance ? instance->next : NULL;
	if (code && (code->kind == XS_CODE_KIND || code->kind == XS_CODE_X_KIND || code->kind == XS_CALLBACK_KIND || code->kind == XS_CALLBACK_X_KIND) && code->ID != XS_NO_ID && code->ID > 0) {
		char* key = fxGetKeyName(the, code->ID);
		if (key) return key;
	}
	txSlot* p = instance ? instance->next : NULL;
	while (p) {
		if (p->ID == mxID(_name) && (p->kind == XS_STRING_KIND || p->kind == XS_STRING_X_KIND)) return p->value.string;
		p = p->next;
	}
	return NULL;
}
static txString protoName(txMachine* the, txSlot* proto) {
	txSlot* p = proto ? proto->next : NULL;
	while (p) {
		if (p->ID == mxID(_constructor) && p->kind == XS_REFERENCE_KIND) return ownName(the, p->value.reference);
		p = p->next;
	}
	return NULL;
}
static void where(txMachine* the, txByte* p, txSize size, txID* file, int* line) {
	txByte* q = p + size;
	*file = XS_NO_ID; *line = 0;
	while (p < q) {
		txU1 code = *((txU1*)p);
		txSize offset = (txSize)gxCodeSizes[code];
		if (code == XS_CODE_LINE) { txS2 v; txByte* lp = p + 1; mxDecode2(lp, v); if (v) { *line = v; if (*file != XS_NO_ID) return; } }
		if (0 < offset) p += offset;
		else {
			p++;
			if (0 == offset) { txID id; mxDecodeID(p, id); if (code == XS_CODE_FILE) *file = id; }
			else if (-1 == offset) { txU1 v = *((txU1*)p++); p += v; }
			else if (-2 == offset) { txU2 v; mxDecode2(p, v); p += v; }
			else if (-4 == offset) { txU4 v; mxDecode4(p, v); p += v; }
		}
		if (*line && *file != XS_NO_ID) return;
	}
}
static Group* group(void* key, int isFunction) {
	for (int i = 0; i < groupCount; i++) if (groups[i].key == key && groups[i].isFunction == isFunction) return &groups[i];
	if (groupCount == GROUPS) return &groups[GROUPS - 1];
	Group* g = &groups[groupCount++];
	c_memset(g, 0, sizeof(Group));
	g->key = key; g->isFunction = isFunction;
	return g;
}
static void sortBy(int byChunks) {
	for (int i = 1; i < groupCount; i++) {
		Group g = groups[i]; int j = i;
		while (j > 0 && (byChunks ? groups[j-1].chunks < g.chunks : groups[j-1].slots < g.slots)) { groups[j] = groups[j-1]; j--; }
		groups[j] = g;
	}
}
static void printGroup(txMachine* the, const char* label, Group* g) {
	txString name = NULL;
	if (g->isFunction && g->codeInHeap) {
		fprintf(stdout, "census: %s function %s at %s:%d x%d slots %d chunks %d\n", label, g->fname ? g->fname : "?", g->file != XS_NO_ID ? fxGetKeyName(the, g->file) : "?", g->line, g->count, g->slots, g->chunks);
		return;
	}
	if (g->isFunction) name = (txString)g->key;
	else name = protoName(the, (txSlot*)g->key);
	fprintf(stdout, "census: %s %s%s%s x%d slots %d chunks %d\n", label, g->isFunction ? "function " : "", name ? name : "?", g->isFunction && g->codeInHeap ? " (code in heap)" : "", g->count, g->slots, g->chunks);
}

void xs_census(xsMachine* the)
{
	txSlot *heap, *slot, *limit, *p;
	int live = 0, free = 0, attributedChunks = 0, totalChunks = 0, top = 20;
	const char* label = "";
	if (xsToInteger(xsArgc) > 0) label = xsToString(xsArg(0));
	if (xsToInteger(xsArgc) > 1) top = xsToInteger(xsArg(1));
	char labelCopy[64]; c_strncpy(labelCopy, label, 63); labelCopy[63] = 0;
	int peakSlots = (int)the->peakHeapCount, peakChunks = (int)the->peakChunksSize;
	xsCollectGarbage();
	/* free slots get the mark flag for the walk, cleared after */
	for (p = the->freeHeap; p; p = p->next) { p->flag |= XS_MARK_FLAG; free++; }
	bigCount = 0;
	c_memset(kindSlots, 0, sizeof(kindSlots)); c_memset(kindChunks, 0, sizeof(kindChunks)); groupCount = 0;
	for (heap = the->firstHeap; heap; heap = heap->next) {
		slot = heap + 1; limit = heap->value.reference;
		for (; slot < limit; slot++) {
			if (slot->flag & XS_MARK_FLAG) continue;
			live++;
			int k = slot->kind + 1; if (k < 0 || k >= 64) k = 63;
			kindSlots[k]++;
			int c = ownedChunk(the, slot);
			if (slot->kind == XS_ARRAY_BUFFER_KIND && c >= 512 && bigCount < 64) bigSizes[bigCount++] = c;
			kindChunks[k] += c; attributedChunks += c;
			if (slot->kind == XS_INSTANCE_KIND) {
				txSlot* first = slot->next;
				int isFunction = first && (first->kind == XS_CODE_KIND || first->kind == XS_CODE_X_KIND || first->kind == XS_CALLBACK_KIND || first->kind == XS_CALLBACK_X_KIND);
				Group* g;
				if (isFunction && first->kind == XS_CODE_KIND && chunkSize(the, first->value.code.address)) {
					txID file; int line;
					where(the, first->value.code.address, chunkSize(the, first->value.code.address) - sizeof(txChunk), &file, &line);
					g = group((void*)(((uintptr_t)file << 20) | (uintptr_t)line | ((uintptr_t)1 << 60)), 1);
					g->codeInHeap = 1; g->file = file; g->line = line; g->fname = ownName(the, slot);
				}
				else g = isFunction ? group(ownName(the, slot), 1) : group(slot->value.instance.prototype, 0);
				g->count++; g->slots++;
				if (!isFunction && top > 0 && slot->value.instance.prototype == mxObjectPrototype.value.reference) {
					int n = 0; for (p = slot->next; p && !(p->flag & XS_MARK_FLAG); p = p->next) n++;
					if (n >= 5) {
						fprintf(stdout, "census: %s object (%d):", labelCopy, n);
						int k = 0;
						for (p = slot->next; p && k < 6; p = p->next, k++) { char* key = (p->ID != XS_NO_ID && p->ID > 0) ? fxGetKeyName(the, p->ID) : NULL; fprintf(stdout, " %s", key ? key : "#"); }
						fprintf(stdout, "\n");
					}
				}
				for (p = slot->next; p; p = p->next) {
					if (p->flag & XS_MARK_FLAG) break;
					g->slots++; g->chunks += ownedChunk(the, p);
				}
			}
		}
	}
	for (p = the->freeHeap; p; p = p->next) p->flag &= ~XS_MARK_FLAG;
	for (txBlock* block = the->firstBlock; block; block = block->nextBlock) totalChunks += (int)(block->current - ((txByte*)block + sizeof(txBlock)));
	fprintf(stdout, "census: %s live slots %d chunks %d (free slots %d, attributed chunks %d, currentChunks %d); peak since last: slots %d chunks %d\n", labelCopy, live, totalChunks, free, attributedChunks, (int)the->currentChunksSize, peakSlots, peakChunks);
	the->peakHeapCount = the->currentHeapCount;
	the->peakChunksSize = the->currentChunksSize;
	xsResult = xsNumber((double)live * 1048576.0 + (double)totalChunks);
	if (top == 0) { fflush(stdout); return; }
	fprintf(stdout, "census: %s kinds", labelCopy);
	for (int k = 0; k < 64; k++) if (kindSlots[k]) fprintf(stdout, " %d:%d/%d", k - 1, kindSlots[k], kindChunks[k]);
	fprintf(stdout, "\n");
	fprintf(stdout, "census: %s arraybuffers>=512:", labelCopy);
	for (int i = 0; i < bigCount; i++) fprintf(stdout, " %d", bigSizes[i]);
	fprintf(stdout, "\n");
	sortBy(0);
	for (int i = 0; i < groupCount && i < top; i++) printGroup(the, "by-slots", &groups[i]);
	sortBy(1);
	for (int i = 0; i < groupCount && i < top; i++) printGroup(the, "by-chunks", &groups[i]);
	for (int i = 0; i < groupCount; i++) if (groups[i].isFunction && groups[i].codeInHeap) printGroup(the, "closure", &groups[i]);
	int closures = 0, closureChunks = 0;
	for (int i = 0; i < groupCount; i++) if (groups[i].isFunction && groups[i].codeInHeap) { closures += groups[i].count; closureChunks += groups[i].chunks; }
	fprintf(stdout, "census: %s functions with code in heap x%d chunks %d\n", labelCopy, closures, closureChunks);
	fflush(stdout);
}
