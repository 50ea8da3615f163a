import type { DitherRow } from "../../modules/escpos/thermal-engine.js";

// dither.c: the same dots as the TypeScript ditherRow, in C.
export declare const ditherRow: DitherRow;
