import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { encodeGrayPng } from "../../hosts/node/png-engine.js";
import { PicoEmulator } from "./emulator.js";
import { parseImage } from "./image.js";
import { benchSetup, paperDifference, referenceReceipt } from "./reference.js";
import { benchResults, hostileCheck, hostileVerdict, type BenchResult } from "./results.js";
import { formatProfile, parseSymbols } from "./symbols.js";

// Boots a Moddable firmware image for the Pico (W) in rp2040js:
//   node build/tools/pico/run.js --image xs_pico.uf2 --bootrom bootrom.bin
// Trace output (USB serial) goes to stdout; what the thermal printer printed
// is saved as a PNG with --receipt; a bench image's figures are summed up at
// the end (--json writes them). The boot ROM is Raspberry Pi's, brought by the
// user (see README): it is not part of this project.

const usage = `usage: node build/tools/pico/run.js --image FILE(.uf2|.elf|.bin) --bootrom FILE [options]
  --seconds N      emulated seconds to run at most (default 60)
  --until TEXT     stop once a trace line contains TEXT
  --receipt FILE   save the thermal printer's paper as a PNG
  --json FILE      write the bench's results (with cycle counts) as JSON
  --compare        compare the paper with the Node host's thermal engine
                   printing the bench's pages (a bench image); exit 1 if they differ
                   (or if the bench's C run loop differed from the TypeScript)
  --profile N      sample the program counter every N cycles in each marked
                   stretch and print where the cycles went, by function
  --elf FILE       the image's ELF, for its symbols (default: the image's
                   name with .elf, as mcconfig leaves it beside the .uf2)
  --top N          functions listed per profile (default 15)
  --quiet          print only the summary
`;

const { values } = parseArgs({
  options: {
    image: { type: "string" },
    bootrom: { type: "string" },
    seconds: { type: "string", default: "60" },
    until: { type: "string" },
    receipt: { type: "string" },
    json: { type: "string" },
    quiet: { type: "boolean", default: false },
    profile: { type: "string" },
    elf: { type: "string" },
    top: { type: "string", default: "15" },
    compare: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});

function fail(message: string): never {
  process.stderr.write(`${message}\n${usage}`);
  process.exit(2);
}

if (values.help) { process.stdout.write(usage); process.exit(0); }
if (!values.image || !values.bootrom) fail("--image and --bootrom are required");
const seconds = Number(values.seconds);
if (!(seconds > 0)) fail("--seconds must be a positive number");

const sampleCycles = values.profile === undefined ? 0 : Number(values.profile);
if (!(sampleCycles >= 0) || !Number.isInteger(sampleCycles)) fail("--profile takes a whole number of cycles");
// Read before the run: a missing ELF should not cost a minutes-long run first.
const symbols = sampleCycles > 0 ? parseSymbols(new Uint8Array(fs.readFileSync(values.elf ?? values.image.replace(/\.(uf2|bin)$/i, ".elf")))) : undefined;

const image = new Uint8Array(fs.readFileSync(values.image));
const bootrom = new Uint8Array(fs.readFileSync(values.bootrom));
const lines: string[] = [];
let finished = false;
const emulator = new PicoEmulator({
  bootrom,
  segments: parseImage(values.image, image),
  sampleCycles,
  onEvent(event) {
    if (event.kind === "samples" && !values.quiet) process.stdout.write(`instruments: ${event.values.join(",")}\n`);
    const text = event.kind === "log" ? event.text.replace(/\n$/, "") : event.kind === "text" ? event.text : event.kind === "break" ? `break: ${event.message}` : undefined;
    if (text === undefined) return;
    for (const line of text.split("\n")) {
      lines.push(line);
      if (!values.quiet) process.stdout.write(`${line}\n`);
      if (values.until && line.includes(values.until)) finished = true;
      if (line.startsWith("bench: ") && line.includes("\"phase\":\"end\"")) finished = true;
    }
  },
  onUartText: (line) => { if (!values.quiet) process.stdout.write(`uart0: ${line}\n`); },
});

const started = Date.now();
const outcome = await emulator.run(() => finished, seconds * 1e9);
const wall = (Date.now() - started) / 1000;
const paper = emulator.printer.gray();

process.stdout.write(`--- ${outcome === "done" ? "finished" : `stopped after ${seconds} emulated s`}: ${(emulator.nanos / 1e9).toFixed(3)} s emulated, ${emulator.cycles} cycles, ${wall.toFixed(1)} s wall\n`);
process.stdout.write(`    clk_sys ${(emulator.mcu.clkSys / 1e6).toFixed(0)} MHz; printer: ${emulator.bridge.bytesToPrinter} bytes in, ${emulator.bridge.bytesFromPrinter} status bytes out, ${paper.height} dot rows of paper\n`);
process.stdout.write(`    flash: ${emulator.flash.ops.filter((o) => o.kind === "erase").length} erases, ${emulator.flash.ops.filter((o) => o.kind === "program").length} programs${emulator.flash.errors.length ? `, refused: ${emulator.flash.errors.join("; ")}` : ""}\n`);
if (emulator.printer.errors.length) process.stdout.write(`    printer errors: ${emulator.printer.errors.slice(0, 5).join("; ")}\n`);

const results: BenchResult[] = benchResults(lines, emulator.edges);
for (const r of results) {
  process.stdout.write(`    ${r.phase} ${r.document}: ${r.lines} lines, ${r.cycles} cycles, ${r.cyclesPerLine.toFixed(0)} cycles/line, ${r.linesPerSecondAt133MHz.toFixed(0)} lines/s at 133 MHz\n`);
}
if (symbols) {
  emulator.profiles.forEach((profile, i) => {
    const r = results[i];
    process.stdout.write(`${formatProfile(r ? `${r.phase} ${r.document}` : `stretch ${i + 1}`, profile, symbols, Number(values.top))}\n`);
  });
}
if (values.receipt) {
  fs.mkdirSync(path.dirname(path.resolve(values.receipt)), { recursive: true });
  fs.writeFileSync(values.receipt, encodeGrayPng(paper.width, Math.max(1, paper.height), paper.height > 0 ? paper.pixels : new Uint8Array(paper.width).fill(255)));
  process.stdout.write(`    receipt: ${values.receipt}\n`);
}
// The decoder's C run loop against the TypeScript one on hostile lines.
const hostile = hostileVerdict(hostileCheck(lines));
if (results.length) process.stdout.write(`    C run loop against the TypeScript on hostile input: ${hostile.text}\n`);
let same = hostile.ok;
if (values.compare) {
  const root = path.join(path.dirname(new URL(import.meta.url).pathname), "..", "..", "..");
  const { documents, thermal } = benchSetup(root, (file) => new Uint8Array(fs.readFileSync(file)));
  const reference = await referenceReceipt(documents, thermal);
  const difference = paperDifference(paper, reference);
  same &&= difference === undefined;
  process.stdout.write(`    receipt against the Node host's thermal engine: ${same ? `identical, ${reference.height} rows of ${reference.width} dots` : difference}\n`);
}
if (values.json) fs.writeFileSync(values.json, JSON.stringify({ results, cycles: emulator.cycles, nanos: emulator.nanos, clkSys: emulator.mcu.clkSys, rows: paper.height }, null, 2));
process.exit((outcome === "done" || !values.until) && same ? 0 : 1);
