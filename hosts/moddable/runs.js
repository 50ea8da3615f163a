// The PWG decoder's expandRuns (modules/pwg/decoder.ts) bound to its C twin
// in runs.c: a host function, so this file is JavaScript (the "@" binding is
// XS syntax); its types are in runs.d.ts.
export function expandRuns(chunk, line, runs, at) @ "xs_privet_expand_runs";
