// The thermal driver's ditherRow (modules/escpos/thermal-engine.ts) bound to
// its C twin in dither.c: a host function, so this file is JavaScript (the
// "@" binding is XS syntax); its types are in dither.d.ts.
export function ditherRow(band, at, rowBytes, data, width, offset, thresholds, phase) @ "xs_privet_dither_row";
