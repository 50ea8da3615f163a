/*
 * expandRuns of modules/pwg/decoder.ts in C, for the board: the PWG
 * decoder's 1-byte-unit run loop. In XS each run of a gray line cost some
 * 13,700 cycles of the Pico's Cortex-M0+, most of a gray receipt's time
 * (issue 22); here a run is a few dozen. It must decode exactly what the
 * TypeScript does (the Pico runner's --compare checks the printed roll, its
 * hostile-line check the lines and runs of malformed input beside the
 * TypeScript's).
 *
 * expandRuns(chunk, line, runs, at): chunk and line are Uint8Arrays, runs a
 * Uint16Array, at a Uint32Array [i, pos, count, end, white]. Every index is
 * checked against its buffer before the loop, and the loop only takes a run
 * that lies whole in chunk and in line[0...end]: whatever the bytes, nothing
 * is read or written outside the four arrays.
 */

#include "xsmc.h"
#include "mc.xs.h"
#include <string.h>

#define RUN_MIXED 0x8000

/* A typed array of 2- or 4-byte elements: xsmcGetBuffer takes only byte
 * views, so its buffer, offset and length are read as properties. The
 * properties are read first and the buffer's address last, as reading them
 * could in principle move the buffer's memory. */
typedef struct {
	xsUnsignedValue offset;
	xsUnsignedValue length;
} WideView;

static void wideView(xsMachine *the, xsIntegerValue arg, WideView *view)
{
	xsIntegerValue offset, length;

	xsmcGet(xsVar(1), xsArg(arg), xsID_byteOffset);
	offset = xsmcToInteger(xsVar(1));
	xsmcGet(xsVar(1), xsArg(arg), xsID_length);
	length = xsmcToInteger(xsVar(1));
	if ((offset < 0) || (length < 0))
		xsRangeError("expandRuns: not a typed array");
	view->offset = (xsUnsignedValue)offset;
	view->length = (xsUnsignedValue)length;
}

static uint8_t *wideData(xsMachine *the, xsIntegerValue arg, const WideView *view, xsUnsignedValue elementBytes)
{
	void *data;
	xsUnsignedValue bytes;

	xsmcGet(xsVar(0), xsArg(arg), xsID_buffer);
	xsmcGetBufferWritable(xsVar(0), &data, &bytes);
	if ((view->offset % elementBytes) || (view->offset > bytes) || (view->length > (bytes - view->offset) / elementBytes))
		xsRangeError("expandRuns: the view is outside its buffer");
	return (uint8_t *)data + view->offset;
}

void xs_privet_expand_runs(xsMachine *the)
{
	void *chunkBuffer, *lineBuffer;
	xsUnsignedValue chunkLength, lineLength;
	WideView runsView, atView;
	uint16_t *runs;
	uint32_t state[5];
	uint8_t *atData;
	const uint8_t *chunk;
	uint8_t *line;
	uint32_t i, pos, count, end;
	uint8_t white;

	if (xsmcArgc < 4)
		xsRangeError("expandRuns takes 4 arguments");
	xsmcVars(2);
	wideView(the, 2, &runsView);
	wideView(the, 3, &atView);
	if (atView.length < 5)
		xsRangeError("expandRuns: at needs 5 entries");

	/* No allocation from here on, so the addresses stay valid. */
	atData = wideData(the, 3, &atView, 4);
	runs = (uint16_t *)wideData(the, 2, &runsView, 2);
	xsmcGetBufferReadable(xsArg(0), &chunkBuffer, &chunkLength);
	xsmcGetBufferWritable(xsArg(1), &lineBuffer, &lineLength);
	memcpy(state, atData, sizeof(state));
	i = state[0];
	pos = state[1];
	count = state[2];
	end = state[3];
	white = (uint8_t)state[4];
	if ((end > lineLength) || (pos > end) || (i > chunkLength))
		xsRangeError("expandRuns: a position is outside its buffer");
	/* Each run takes at least one byte of the line. */
	if ((count > runsView.length) || (end - pos > runsView.length - count))
		xsRangeError("expandRuns: too few runs for the line");

	chunk = (const uint8_t *)chunkBuffer;
	line = (uint8_t *)lineBuffer;
	while ((pos < end) && (i < chunkLength)) {
		uint32_t control = chunk[i];
		if (control < 128) {
			uint32_t bytes = control + 1;
			if ((bytes > end - pos) || (i + 1 == chunkLength))
				break;
			memset(line + pos, chunk[i + 1], bytes);
			pos += bytes;
			i += 2;
			runs[count++] = (uint16_t)pos;
		}
		else if (control == 128) {
			memset(line + pos, white, end - pos);
			pos = end;
			i++;
			runs[count++] = (uint16_t)end;
		}
		else {
			uint32_t bytes = 257 - control;
			if ((bytes > end - pos) || (bytes >= chunkLength - i))
				break;
			memcpy(line + pos, chunk + i + 1, bytes);
			pos += bytes;
			i += 1 + bytes;
			runs[count++] = (uint16_t)(pos | RUN_MIXED);
		}
	}
	state[0] = i;
	state[1] = pos;
	state[2] = count;
	memcpy(atData, state, 3 * sizeof(uint32_t));
}
