import type { ExpandRuns } from "../../modules/pwg/decoder.js";

// runs.c: the same lines and runs as the TypeScript expandRuns, in C.
export declare const expandRuns: ExpandRuns;
