import test from "ava";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { EscPosDevice } from "../hosts/node/escpos-device.js";
import { PwgDecoder } from "../modules/pwg/decoder.js";
import { EscPosBridge } from "../tools/pico/escpos-bridge.js";
import { FlashModel, romCode, romFunctions } from "../tools/pico/flash.js";
import { FLASH_BASE, ImageError, RP2040_FAMILY, loadSegments, parseElf, parseImage, parseUf2 } from "../tools/pico/image.js";
import { BENCH_PAGES, blackPage, encodePwg } from "../tools/pico/pages.js";
import { benchSetup, paperDifference, referenceReceipt } from "../tools/pico/reference.js";
import { benchResults } from "../tools/pico/results.js";
import { PcProfile, categorize, formatProfile, parseSymbols } from "../tools/pico/symbols.js";
import { TraceStream, unescapeXml, xsbugCommand, type TraceEvent } from "../tools/pico/xsbug.js";

// The Pico runner's own logic on small synthetic inputs: no SDK, no boot ROM,
// no firmware image needed (tests/pico-emulator.test.ts boots a real one).

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

function uf2Block(address: number, payload: Uint8Array, options: { flags?: number; family?: number; magic?: number } = {}): Uint8Array {
  const block = new Uint8Array(512);
  const view = new DataView(block.buffer);
  view.setUint32(0, options.magic ?? 0x0a324655, true);
  view.setUint32(4, 0x9e5d5157, true);
  view.setUint32(8, options.flags ?? 0x2000, true);
  view.setUint32(12, address, true);
  view.setUint32(16, payload.length, true);
  view.setUint32(28, options.family ?? RP2040_FAMILY, true);
  block.set(payload, 32);
  view.setUint32(508, 0x0ab16f30, true);
  return block;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

test("UF2: RP2040 blocks land at their flash addresses; other families and the RP2350-E10 block beyond 2 MB are left out", (t) => {
  const a = Uint8Array.from({ length: 256 }, (_, i) => i);
  const b = Uint8Array.from({ length: 256 }, (_, i) => 255 - i);
  const image = concat([
    uf2Block(FLASH_BASE, a),
    uf2Block(FLASH_BASE + 256, b),
    uf2Block(FLASH_BASE + 512, a, { family: 0xe48bff59 }), // an RP2350 block
    uf2Block(0x10ffff00, a), // picotool's absolute block
  ]);
  const segments = parseUf2(image);
  t.deepEqual(segments.map((s) => s.address), [FLASH_BASE, FLASH_BASE + 256]);
  const flash = new Uint8Array(4096).fill(0xff);
  t.is(loadSegments(flash, segments), 512);
  t.deepEqual(flash.subarray(0, 256), a);
  t.deepEqual(flash.subarray(256, 512), b);
  t.is(flash[512], 0xff);
});

test("UF2: a broken image is refused whole (bad magic, torn block, oversized payload, an address outside flash)", (t) => {
  const good = uf2Block(FLASH_BASE, new Uint8Array(256));
  t.throws(() => parseUf2(uf2Block(FLASH_BASE, new Uint8Array(256), { magic: 1 })), { instanceOf: ImageError, message: /bad magic/ });
  t.throws(() => parseUf2(good.subarray(0, 500)), { instanceOf: ImageError, message: /512-byte blocks/ });
  const big = uf2Block(FLASH_BASE, new Uint8Array(256));
  new DataView(big.buffer).setUint32(16, 477, true);
  t.throws(() => parseUf2(big), { instanceOf: ImageError, message: /payload/ });
  t.throws(() => parseUf2(uf2Block(0x20000000, new Uint8Array(256))), { instanceOf: ImageError, message: /outside the flash/ });
  t.throws(() => parseUf2(uf2Block(FLASH_BASE, new Uint8Array(256), { family: 0x12345678 })), { instanceOf: ImageError, message: /no block/ });
  t.throws(() => parseImage("firmware.hex", good), { instanceOf: ImageError });
});

function elf(segments: Array<{ type: number; paddr: number; data: Uint8Array }>): Uint8Array {
  const headerBytes = 52, phBytes = 32;
  let offset = headerBytes + phBytes * segments.length;
  const out = new Uint8Array(offset + segments.reduce((n, s) => n + s.data.length, 0));
  const view = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1], 0);
  view.setUint16(16, 2, true); view.setUint16(18, 40, true);
  view.setUint32(28, headerBytes, true); view.setUint16(42, phBytes, true); view.setUint16(44, segments.length, true);
  segments.forEach((s, i) => {
    const ph = headerBytes + i * phBytes;
    view.setUint32(ph, s.type, true);
    view.setUint32(ph + 4, offset, true);
    view.setUint32(ph + 8, s.paddr, true);
    view.setUint32(ph + 12, s.paddr, true);
    view.setUint32(ph + 16, s.data.length, true);
    out.set(s.data, offset);
    offset += s.data.length;
  });
  return out;
}

test("ELF: the file bytes of PT_LOAD segments at their load addresses; others are skipped; a segment outside flash is refused", (t) => {
  const code = Uint8Array.of(1, 2, 3, 4), data = Uint8Array.of(9, 8);
  const segments = parseElf(elf([{ type: 1, paddr: FLASH_BASE + 0x100, data: code }, { type: 4, paddr: 0, data: Uint8Array.of(7) }, { type: 1, paddr: FLASH_BASE + 0x200, data }]));
  t.deepEqual(segments, [{ address: FLASH_BASE + 0x100, data: code }, { address: FLASH_BASE + 0x200, data }]);
  t.throws(() => parseElf(elf([{ type: 1, paddr: 0x20000000, data: code }])), { message: /not in flash/ });
  t.throws(() => parseElf(Uint8Array.of(0x7f, 0x45, 0x4c, 0x46)), { instanceOf: ImageError });
  const torn = elf([{ type: 1, paddr: FLASH_BASE, data: code }]);
  t.throws(() => parseElf(torn.subarray(0, torn.length - 2)), { message: /beyond the end/ });
});

// A 16 KB "ROM" with a function table at 0x100, as the RP2040's is laid out.
function fakeRom(names: string[], terminated = true): Uint8Array {
  const rom = new Uint8Array(16 * 1024);
  rom[0x14] = 0x00; rom[0x15] = 0x01;
  let at = 0x100;
  names.forEach((name, i) => {
    const code = romCode(name), entry = 0x1000 + i * 0x20 + 1; // Thumb addresses
    rom[at] = code & 0xff; rom[at + 1] = code >> 8; rom[at + 2] = entry & 0xff; rom[at + 3] = entry >> 8;
    at += 4;
  });
  if (!terminated) for (let i = at; i < rom.length; i++) rom[i] = 0x41;
  return rom;
}

const FLASH_NAMES = ["IF", "EX", "RE", "RP", "FC", "CX"];

test("flash: the ROM's erase and program are found through its function table and taken over at their entry", (t) => {
  const rom = fakeRom(["P3", ...FLASH_NAMES]);
  const table = romFunctions(rom);
  t.is(table.get(romCode("RE")), 0x1000 + 3 * 0x20 + 1);
  const flash = new Uint8Array(64 * 1024).fill(0);
  const model = new FlashModel(flash, 64 * 1024, rom);
  t.deepEqual(model.addresses.sort(), FLASH_NAMES.map((_, i) => 0x1000 + (i + 1) * 0x20).sort());
  const memory = new Map<number, number>();
  for (let i = 0; i < 256; i++) memory.set(0x20001000 + i, i ^ 0x5a);
  const read = (address: number) => memory.get(address) ?? 0;
  // Erase sector 1 (RE at entry 3), then program its first page (RP at entry 4).
  t.true(model.call(0x1000 + 3 * 0x20, { args: [4096, 4096, 1 << 16, 0xd8], read }));
  t.true(flash.subarray(4096, 8192).every((b) => b === 0xff));
  t.is(flash[4095], 0);
  t.is(flash[8192], 0);
  t.true(model.call(0x1000 + 4 * 0x20, { args: [4096, 0x20001000, 256, 0], read }));
  for (let i = 0; i < 256; i++) t.is(flash[4096 + i], i ^ 0x5a);
  t.false(model.call(0x1000 + 0 * 0x20, { args: [0, 0, 0, 0], read }), "P3 (popcount) is not a flash routine");
  t.deepEqual(model.ops, [{ kind: "erase", offset: 4096, bytes: 4096 }, { kind: "program", offset: 4096, bytes: 256 }]);
});

test("flash: programming only clears bits (NOR); misaligned or out-of-range writes are refused and change nothing", (t) => {
  const flash = new Uint8Array(16 * 1024).fill(0xff);
  const model = new FlashModel(flash, 16 * 1024, fakeRom(FLASH_NAMES));
  model.program(0, 0, 256, () => 0x0f);
  model.program(0, 0, 256, () => 0xf0);
  t.is(flash[0], 0x00);
  t.is(model.bitsRefused, 256);
  const before = flash.slice();
  model.erase(100, 4096);
  model.erase(0, 100);
  model.erase(12 * 1024, 8192);
  model.program(10, 0, 256, () => 0);
  model.program(16 * 1024, 0, 256, () => 0);
  t.deepEqual(flash, before);
  t.is(model.errors.length, 5);
  t.is(model.ops.length, 2);
});

test("flash: a ROM without the routines, or whose table never ends, is refused", (t) => {
  t.throws(() => new FlashModel(new Uint8Array(4096), 4096, fakeRom(["IF", "EX"])), { message: /no "RE" function/ });
  t.throws(() => romFunctions(fakeRom(["IF"], false)), { message: /no end|outside the ROM/ });
});

test("trace: xsbug messages split anywhere give whole events; plain lines pass; the answer is framed for the machine", (t) => {
  const events: TraceEvent[] = [];
  const stream = new TraceStream((e) => events.push(e));
  const text = "boot line\r\n<?xs-00000000?>\r\n\r\n<?xs.2002abcd?>\r\n<xsbug><login name=\"main\" value=\"XS 17\" flags=\"e\"/></xsbug>\r\n"
    + "\r\n<?xs.2002abcd?>\r\n<xsbug><log path=\"/x/main.ts\" line=\"3\">a &lt;b&gt; &amp; &#10;caf\u00c3\u00a9</log></xsbug>\r\n"
    + "\r\n<?xs.2002abcd?>\r\n<xsbug><samples>1,2,3</samples></xsbug>\r\n";
  const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
  for (let i = 0; i < bytes.length; i += 7) stream.push(bytes.subarray(i, i + 7));
  t.deepEqual(events, [
    { kind: "text", text: "boot line" },
    { kind: "login", machine: "2002abcd", name: "main", value: "XS 17" },
    { kind: "log", machine: "2002abcd", text: "a <b> & \ncafé" },
    { kind: "samples", machine: "2002abcd", values: [1, 2, 3] },
  ]);
  t.is(new TextDecoder().decode(xsbugCommand("2002abcd", "<go/>")), "\r\n<?xs.2002abcd?>\r\n<go/>\r\n");
  t.is(unescapeXml("&#x41;&#1114112;"), "A\ufffd");
});

test("trace: an unfinished message is bounded; what overflows is dropped and counted", (t) => {
  const events: TraceEvent[] = [];
  const stream = new TraceStream((e) => events.push(e));
  const junk = new Uint8Array(70 * 1024).fill(0x41);
  stream.push(Uint8Array.from("<xsbug><log>", (c) => c.charCodeAt(0)));
  stream.push(junk);
  t.true(stream.dropped > 64 * 1024);
  stream.push(Uint8Array.from("after\n", (c) => c.charCodeAt(0)));
  t.deepEqual(events, [{ kind: "text", text: "after" }]);
});

test("UART bridge: the firmware's bytes reach the ESC/POS simulator; its status answer comes back a character time later at the UART's baud", (t) => {
  const fed: number[] = [];
  const uart: { onByte?: (v: number) => void; feedByte(v: number): void } = { feedByte: (v) => fed.push(v) };
  const clock = { nanos: 0 };
  const device = new EscPosDevice(384);
  const bridge = new EscPosBridge(uart, device, clock);
  bridge.baud = 9600;
  device.paperOut = true;
  // ESC @, then GS v 0 with one row of 48 bytes, then DLE EOT 4 (paper status), byte by byte.
  const raster = [0x1d, 0x76, 0x30, 0, 48, 0, 1, 0, ...new Array(48).fill(0xff)];
  for (const b of [0x1b, 0x40, ...raster, 0x10, 0x04, 0x04]) uart.onByte!(b);
  bridge.service();
  t.is(bridge.bytesToPrinter, 2 + raster.length + 3);
  t.is(device.rasterCommands, 1);
  t.deepEqual(fed, [], "not before a character time has passed");
  clock.nanos += bridge.characterNanos() - 1;
  bridge.service();
  t.deepEqual(fed, []);
  clock.nanos += 1;
  bridge.service();
  t.deepEqual(fed, [0x12 | 0x60], "paper out: bits 5 and 6");
  t.is(bridge.bytesFromPrinter, 1);
  t.is(bridge.nextDue, undefined);
});

test("bench results: each trace report is paired with its marker stretch, in order", (t) => {
  const edges = [
    { high: false, cycles: 10, nanos: 80 },
    { high: true, cycles: 100, nanos: 800 }, { high: false, cycles: 1100, nanos: 8800 },
    { high: true, cycles: 2000, nanos: 16000 }, { high: false, cycles: 5000, nanos: 40000 },
  ];
  const lines = [
    "bench: {\"phase\":\"start\"}",
    "bench: {\"phase\":\"decode\",\"document\":\"a.pwg\",\"lines\":10}",
    "info something else",
    "bench: {\"phase\":\"print\",\"document\":\"a.pwg\",\"lines\":30}",
    "bench: {\"phase\":\"print\",\"document\":\"b.pwg\",\"lines\":5}",
  ];
  const results = benchResults(lines, edges);
  t.is(results.length, 2, "the third report has no stretch");
  t.like(results[0], { phase: "decode", document: "a.pwg", lines: 10, cycles: 1000, nanos: 8000, cyclesPerLine: 100 });
  t.like(results[1], { phase: "print", lines: 30, cycles: 3000, cyclesPerLine: 100 });
  t.is(Math.round(results[0].linesPerSecondAt133MHz), 1_330_000);
});

test("bench pages: the committed PWG files are what pages.ts makes, and decode to 600 lines of 384 dots", (t) => {
  for (const { file, page } of BENCH_PAGES) {
    const bytes = encodePwg([page()]);
    t.deepEqual(new Uint8Array(readFileSync(path.join(root, "tools", "pico", "pages", file))), bytes, `${file} is stale: node build/tools/pico/make-pages.js`);
    t.true(bytes.length < 48 * 1024, `${file} must stay small: it is linked into a 2 MB flash`);
    let lines = 0, width = 0;
    const decoder = new PwgDecoder({ beginPage: (h) => { width = h.width; }, line: (_d, repeat) => { lines += repeat; return true; }, endPage: () => {} }, { maxWidth: 4096, maxHeight: 4096 });
    t.true(decoder.write(bytes));
    decoder.end();
    t.is(lines, 600);
    t.is(width, 384);
  }
});

test("reference receipt: the Node host's thermal engine prints the black bench page dot for dot, with the configured page gap", async (t) => {
  const page = blackPage();
  const { thermal } = benchSetup(root, (file) => new Uint8Array(readFileSync(file)));
  const paper = await referenceReceipt([encodePwg([page])], thermal);
  t.is(paper.width, 384);
  t.is(paper.height, 600 + (thermal.pageGapDots ?? 0));
  let differ = 0;
  for (let y = 0; y < 600; y++) {
    for (let x = 0; x < 384; x++) {
      const black = (page.pixels[y * 48 + (x >> 3)] & (0x80 >> (x & 7))) !== 0;
      if ((paper.pixels[y * 384 + x] === 0) !== black) differ++;
    }
  }
  t.is(differ, 0);
  const other = { ...paper, pixels: paper.pixels.slice() };
  t.is(paperDifference(paper, other), undefined);
  other.pixels[384 * 30 + 20] ^= 0xff;
  t.is(paperDifference(paper, other), "1 dots differ, the first at row 30, column 20");
  t.regex(paperDifference(paper, { ...other, height: 10 }) ?? "", /against/);
});

// An ELF with only what parseSymbols reads: section headers, one .symtab and its string table.
function elfWithSymbols(symbols: Array<{ name: string; value: number; size: number; type: number }>): Uint8Array {
  const names = [0];
  let strtab = [0];
  for (const s of symbols) {
    names.push(strtab.length);
    strtab = strtab.concat([...new TextEncoder().encode(s.name)], [0]);
  }
  const symtabAt = 52, symtabBytes = 16 * (symbols.length + 1);
  const strtabAt = symtabAt + symtabBytes;
  const shoff = (strtabAt + strtab.length + 3) & ~3;
  const out = new Uint8Array(shoff + 3 * 40);
  const view = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1], 0);
  view.setUint16(18, 40, true);
  view.setUint32(32, shoff, true); view.setUint16(46, 40, true); view.setUint16(48, 3, true);
  symbols.forEach((s, i) => {
    const at = symtabAt + 16 * (i + 1);
    view.setUint32(at, names[i + 1], true);
    view.setUint32(at + 4, s.value, true);
    view.setUint32(at + 8, s.size, true);
    out[at + 12] = 0x10 | s.type; // global binding
  });
  out.set(strtab, strtabAt);
  const section = (i: number, type: number, offset: number, size: number, link: number, entsize: number) => {
    const at = shoff + 40 * i;
    view.setUint32(at + 4, type, true); view.setUint32(at + 16, offset, true); view.setUint32(at + 20, size, true);
    view.setUint32(at + 24, link, true); view.setUint32(at + 36, entsize, true);
  };
  section(1, 2, symtabAt, symtabBytes, 2, 16);
  section(2, 3, strtabAt, strtab.length, 0, 0);
  return out;
}

test("symbols: program counters map to the ELF's functions (Thumb bit cleared, sized and unsized), and a profile sums them by kind", (t) => {
  const FUNC = 2, OBJECT = 1;
  const symbols = parseSymbols(elfWithSymbols([
    { name: "fxRunID", value: FLASH_BASE + 0x101, size: 0x20, type: FUNC },
    { name: "fx_TypedArray_prototype_fill", value: FLASH_BASE + 0x201, size: 0x10, type: FUNC },
    { name: "gxTable", value: FLASH_BASE + 0x280, size: 0x40, type: OBJECT },
    { name: "memcpy_by_hand", value: FLASH_BASE + 0x301, size: 0, type: FUNC },
    { name: "xs_serial_write", value: FLASH_BASE + 0x401, size: 8, type: FUNC },
    { name: "xs_digital_write", value: 0x20000001, size: 8, type: FUNC },
  ]));
  t.is(symbols.lookup(FLASH_BASE + 0x100)?.name, "fxRunID");
  t.is(symbols.lookup(FLASH_BASE + 0x11e)?.name, "fxRunID");
  t.is(symbols.lookup(FLASH_BASE + 0x120), undefined, "past the end of a sized function is no function");
  t.is(symbols.lookup(FLASH_BASE + 0x290), undefined, "data symbols are not functions");
  t.is(symbols.lookup(FLASH_BASE + 0x3f0)?.name, "memcpy_by_hand", "an unsized symbol runs to the next one");
  t.is(symbols.lookup(FLASH_BASE + 0x404)?.name, "xs_serial_write");
  t.is(symbols.lookup(0x20000006)?.name, "xs_digital_write", "code copied to RAM is named too");
  t.is(symbols.lookup(FLASH_BASE), undefined);

  t.is(categorize("fxRunID", FLASH_BASE), "XS interpreter");
  t.is(categorize("fx_TypedArray_prototype_fill", FLASH_BASE), "XS builtins");
  t.is(categorize("fxCollectGarbage", FLASH_BASE), "XS garbage collector");
  t.is(categorize("xs_serial_write", FLASH_BASE), "UART path");
  t.is(categorize("uart_write_blocking", FLASH_BASE), "UART path");
  t.is(categorize("xs_digital_write", 0x20000000), "host functions");
  t.is(categorize(undefined, 0x1234), "boot ROM");

  const profile = new PcProfile();
  for (let i = 0; i < 6; i++) profile.add(FLASH_BASE + 0x104 + 2 * i);
  profile.add(FLASH_BASE + 0x202);
  profile.add(FLASH_BASE + 0x204);
  profile.add(0x2000);
  profile.add(FLASH_BASE + 0x120);
  const { categories, functions } = profile.summary(symbols, 2);
  t.deepEqual(categories[0], ["XS interpreter", 0.6]);
  t.deepEqual(functions, [["fxRunID", "XS interpreter", 0.6], ["fx_TypedArray_prototype_fill", "XS builtins", 0.2]]);
  t.true(categories.some(([c, x]) => c === "boot ROM" && x === 0.1));
  t.regex(formatProfile("print x", profile, symbols), /60\.0%  fxRunID  \[XS interpreter\]/);

  t.throws(() => parseSymbols(elf([{ type: 1, paddr: FLASH_BASE, data: Uint8Array.of(1) }])), { instanceOf: ImageError, message: /section headers|symbol table/ });
});
