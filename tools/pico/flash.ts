// Flash writes on the emulated RP2040. The pico-sdk erases and programs
// flash (Moddable's Preference does, for every key it sets) by calling the
// boot ROM's flash routines, which drive the QSPI flash through the SSI;
// rp2040js models neither the SSI's flash commands nor the chip. So the
// routines are caught at their entry in the ROM, found through the ROM's own
// function table, and done here with NOR flash rules: an erase sets whole
// 4 KB sectors to 0xFF, programming 256-byte pages can only clear bits.

export const SECTOR_BYTES = 4096;
export const PAGE_BYTES = 256;

// Two ASCII letters, as the ROM's table codes its functions (datasheet 2.8.3).
export function romCode(name: string): number {
  return name.charCodeAt(0) | (name.charCodeAt(1) << 8);
}

// The ROM function table: at 0x14 a 16-bit pointer to (code, address) pairs
// of 16-bit halfwords, ending with code 0. Returns code -> entry address.
export function romFunctions(bootrom: Uint8Array): Map<number, number> {
  const half = (at: number) => {
    if (at < 0 || at + 2 > bootrom.length) throw new Error(`boot ROM: table read at 0x${at.toString(16)} is outside the ROM`);
    return bootrom[at] | (bootrom[at + 1] << 8);
  };
  const functions = new Map<number, number>();
  let at = half(0x14);
  // The table is short (about 30 entries); a ROM without its end marker is refused.
  for (let i = 0; i < 256; i++, at += 4) {
    const code = half(at);
    if (code === 0) return functions;
    functions.set(code, half(at + 2));
  }
  throw new Error("boot ROM: the function table has no end");
}

export interface FlashOp {
  kind: "erase" | "program";
  offset: number;
  bytes: number;
}

// What a ROM call gets and gives: r0-r3 in, the bytes of memory it reads.
export interface FlashCall {
  args: [number, number, number, number];
  read(address: number): number;
}

export class FlashModel {
  readonly ops: FlashOp[] = [];
  readonly errors: string[] = [];
  erasedBytes = 0;
  programmedBytes = 0;
  // Programming that tried to set a bit back to 1 (it stays 0, as on NOR).
  bitsRefused = 0;
  private readonly entries: Map<number, (call: FlashCall) => void>;

  constructor(readonly flash: Uint8Array, readonly flashBytes: number, bootrom: Uint8Array) {
    const table = romFunctions(bootrom);
    const entry = (name: string) => {
      const address = table.get(romCode(name));
      if (address === undefined) throw new Error(`boot ROM: no "${name}" function`);
      return address & ~1;
    };
    const nothing = () => {};
    this.entries = new Map<number, (call: FlashCall) => void>([
      [entry("RE"), (call) => this.erase(call.args[0], call.args[1])],
      [entry("RP"), (call) => this.program(call.args[0], call.args[1], call.args[2], call.read)],
      // Setting the QSPI pins and leaving or entering XIP mode: nothing to model.
      [entry("IF"), nothing],
      [entry("EX"), nothing],
      [entry("FC"), nothing],
      [entry("CX"), nothing],
    ]);
  }

  // The ROM addresses whose execution this model takes over.
  get addresses(): number[] {
    return [...this.entries.keys()];
  }

  // Runs the routine at pc if it is one of the modelled ones; true if it was.
  call(pc: number, call: FlashCall): boolean {
    const routine = this.entries.get(pc);
    if (!routine) return false;
    routine(call);
    return true;
  }

  erase(offset: number, bytes: number): void {
    if (offset % SECTOR_BYTES !== 0 || bytes % SECTOR_BYTES !== 0) return this.refuse(`erase of ${bytes} bytes at 0x${offset.toString(16)} is not whole sectors`);
    if (offset + bytes > this.flashBytes) return this.refuse(`erase of ${bytes} bytes at 0x${offset.toString(16)} runs past the flash`);
    this.flash.fill(0xff, offset, offset + bytes);
    this.erasedBytes += bytes;
    this.ops.push({ kind: "erase", offset, bytes });
  }

  program(offset: number, source: number, bytes: number, read: (address: number) => number): void {
    if (offset % PAGE_BYTES !== 0 || bytes % PAGE_BYTES !== 0) return this.refuse(`program of ${bytes} bytes at 0x${offset.toString(16)} is not whole pages`);
    if (offset + bytes > this.flashBytes) return this.refuse(`program of ${bytes} bytes at 0x${offset.toString(16)} runs past the flash`);
    for (let i = 0; i < bytes; i++) {
      const value = read(source + i) & 0xff;
      const old = this.flash[offset + i];
      if ((value & ~old) & 0xff) this.bitsRefused++;
      this.flash[offset + i] = old & value;
    }
    this.programmedBytes += bytes;
    this.ops.push({ kind: "program", offset, bytes });
  }

  private refuse(message: string): void {
    this.errors.push(message);
  }
}
