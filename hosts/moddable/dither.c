/*
 * ditherRow of modules/escpos/thermal-engine.ts in C, for the board: the
 * thermal driver's one native function. On XS a gray line dithered in
 * TypeScript cost three times what the head takes (issue 22), as every pixel
 * or run is a dozen interpreted operations; here a pixel is a few
 * instructions. It must print exactly the dots the TypeScript does: the
 * Pico runner's --compare checks the board's paper against the Node host's.
 *
 * ditherRow(band, at, rowBytes, data, width, offset, thresholds, phase)
 */

#include "xsmc.h"
#include <string.h>

void xs_privet_dither_row(xsMachine *the)
{
	void *bandBuffer, *dataBuffer, *thresholdBuffer;
	xsUnsignedValue bandLength, dataLength, thresholdLength;
	xsIntegerValue at, rowBytes, width, offset, phase, x;
	uint8_t *row, *data;
	const uint8_t *thresholds;

	if (xsmcArgc < 8)
		xsRangeError("ditherRow takes 8 arguments");
	at = xsmcToInteger(xsArg(1));
	rowBytes = xsmcToInteger(xsArg(2));
	width = xsmcToInteger(xsArg(4));
	offset = xsmcToInteger(xsArg(5));
	phase = xsmcToInteger(xsArg(7)) & 7;
	xsmcGetBufferWritable(xsArg(0), &bandBuffer, &bandLength);
	xsmcGetBufferReadable(xsArg(3), &dataBuffer, &dataLength);
	xsmcGetBufferReadable(xsArg(6), &thresholdBuffer, &thresholdLength);
	if ((at < 0) || (rowBytes < 0) || ((xsUnsignedValue)at + (xsUnsignedValue)rowBytes > bandLength))
		xsRangeError("ditherRow: the row is outside the band");
	if ((width < 0) || ((xsUnsignedValue)width > dataLength) || (offset < 0))
		xsRangeError("ditherRow: the width is outside the line");
	if ((width > 0) && (((width - 1 + offset) >> 3) >= rowBytes))
		xsRangeError("ditherRow: the line is wider than the row");
	if (thresholdLength < 64)
		xsRangeError("ditherRow: 64 thresholds needed");

	row = (uint8_t *)bandBuffer + at;
	data = (uint8_t *)dataBuffer;
	thresholds = (const uint8_t *)thresholdBuffer + (phase << 3);
	memset(row, 0, rowBytes);
	for (x = 0; x < width; x++) {
		xsIntegerValue d = x + offset;
		if (data[x] < thresholds[d & 7])
			row[d >> 3] |= 0x80 >> (d & 7);
	}
}
