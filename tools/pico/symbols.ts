import { ImageError } from "./image.js";

// The function symbols of an ELF32 little-endian image (its .symtab), so a
// program counter sampled in the emulator can be named. Only what a profile
// needs: name, start and size of each function, looked up by address.

export interface FunctionSymbol {
  name: string;
  address: number;
  size: number;
}

const SHT_SYMTAB = 2;
const STT_FUNC = 2;

export class SymbolTable {
  // Sorted by address, so a lookup is a binary search.
  readonly functions: FunctionSymbol[];

  constructor(functions: FunctionSymbol[]) {
    this.functions = [...functions].sort((a, b) => a.address - b.address || b.size - a.size);
  }

  // The function whose [address, address + size) holds pc. A symbol of size
  // 0 (hand-written assembly often has no .size) owns the bytes up to the next
  // symbol, which is the best guess the table allows.
  lookup(pc: number): FunctionSymbol | undefined {
    const list = this.functions;
    let lo = 0, hi = list.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].address <= pc) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    // Aliases share an address; walk back to one that covers pc.
    for (let i = found; i >= 0 && i > found - 8; i--) {
      const f = list[i];
      if (f.size > 0 ? pc < f.address + f.size : i === found) return f;
    }
    return undefined;
  }
}

export function parseSymbols(bytes: Uint8Array): SymbolTable {
  if (bytes.length < 52 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) throw new ImageError("ELF: no ELF magic");
  if (bytes[4] !== 1 || bytes[5] !== 1) throw new ImageError("ELF: not 32-bit little-endian");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = view.getUint32(32, true), shentsize = view.getUint16(46, true), shnum = view.getUint16(48, true);
  if (shnum === 0) throw new ImageError("ELF: no section headers (a stripped image has no symbols)");
  if (shentsize < 40 || shoff + shnum * shentsize > bytes.length) throw new ImageError("ELF: section headers outside the file");
  const section = (i: number) => {
    const at = shoff + i * shentsize;
    return { type: view.getUint32(at + 4, true), offset: view.getUint32(at + 16, true), size: view.getUint32(at + 20, true), link: view.getUint32(at + 24, true), entsize: view.getUint32(at + 36, true) };
  };
  const functions: FunctionSymbol[] = [];
  let symtabs = 0;
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (s.type !== SHT_SYMTAB) continue;
    symtabs++;
    if (s.link >= shnum) throw new ImageError(`ELF: symbol table ${i} names a string table that does not exist`);
    const strings = section(s.link);
    const entsize = s.entsize || 16;
    if (s.offset + s.size > bytes.length || strings.offset + strings.size > bytes.length) throw new ImageError(`ELF: symbol table ${i} runs past the end of the file`);
    for (let at = s.offset; at + 16 <= s.offset + s.size; at += entsize) {
      if ((bytes[at + 12] & 0xf) !== STT_FUNC) continue;
      const nameAt = strings.offset + view.getUint32(at, true);
      let end = nameAt;
      while (end < strings.offset + strings.size && bytes[end] !== 0) end++;
      // Thumb functions have bit 0 set in their value; the code starts one lower.
      const address = (view.getUint32(at + 4, true) & ~1) >>> 0;
      functions.push({ name: new TextDecoder().decode(bytes.subarray(nameAt, end)), address, size: view.getUint32(at + 8, true) });
    }
  }
  if (symtabs === 0) throw new ImageError("ELF: no symbol table (a stripped image has none)");
  return new SymbolTable(functions);
}

// Where a function's cycles belong, by the naming of the Moddable SDK (xs/
// sources: fxRun* is the byte-code loop, fx_* the ECMAScript builtins, xs_*
// the native halves of modules) and the pico-sdk.
export type Category = "XS interpreter" | "XS runtime" | "XS garbage collector" | "XS builtins" | "UART path" | "host functions" | "boot ROM" | "SDK and C library";

export function categorize(name: string | undefined, pc: number): Category {
  if (pc < 0x4000) return "boot ROM";
  if (name === undefined) return "SDK and C library";
  if (/uart|serial/i.test(name)) return "UART path";
  if (name.startsWith("fxRun")) return "XS interpreter";
  if (/^fx(Collect|Mark|Sweep|Compact|Invalidate)/.test(name)) return "XS garbage collector";
  if (name.startsWith("fx_")) return "XS builtins";
  if (name.startsWith("xs_") || name.startsWith("xs")) return "host functions";
  if (name.startsWith("fx")) return "XS runtime";
  return "SDK and C library";
}

// Program counters sampled every so many cycles; only while the bench's marker is high,
// one profile per stretch, so the decode and the print are told apart.
export class PcProfile {
  readonly counts = new Map<number, number>();
  samples = 0;

  add(pc: number): void {
    this.samples++;
    this.counts.set(pc, (this.counts.get(pc) ?? 0) + 1);
  }

  summary(symbols: SymbolTable, top = 15): { categories: Array<[Category, number]>; functions: Array<[string, Category, number]> } {
    const byCategory = new Map<Category, number>();
    const byFunction = new Map<string, { category: Category; n: number }>();
    for (const [pc, n] of this.counts) {
      const f = symbols.lookup(pc);
      const category = categorize(f?.name, pc);
      const name = pc < 0x4000 ? "(boot ROM)" : f?.name ?? `0x${pc.toString(16)}`;
      byCategory.set(category, (byCategory.get(category) ?? 0) + n);
      const entry = byFunction.get(name) ?? { category, n: 0 };
      entry.n += n;
      byFunction.set(name, entry);
    }
    const share = (n: number) => (this.samples > 0 ? n / this.samples : 0);
    return {
      categories: [...byCategory].sort((a, b) => b[1] - a[1]).map(([c, n]) => [c, share(n)]),
      functions: [...byFunction].sort((a, b) => b[1].n - a[1].n).slice(0, top).map(([name, e]) => [name, e.category, share(e.n)]),
    };
  }
}

export function formatProfile(title: string, profile: PcProfile, symbols: SymbolTable, top = 15): string {
  const { categories, functions } = profile.summary(symbols, top);
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)}%`;
  const out = [`profile ${title}: ${profile.samples} samples`];
  for (const [c, x] of categories) out.push(`  ${pct(x)}  ${c}`);
  out.push("  top functions:");
  for (const [name, c, x] of functions) out.push(`  ${pct(x)}  ${name}  [${c}]`);
  return out.join("\n");
}
