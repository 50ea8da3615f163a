import test from "ava";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { runPicoBench } from "../tools/pico/bench-run.js";
import { PicoEmulator } from "../tools/pico/emulator.js";
import { FLASH_BASE, PICO_FLASH_BYTES, parseImage, type Segment } from "../tools/pico/image.js";

// The firmware itself on an emulated RP2040. The pico-sdk, the ARM toolchain
// and Raspberry Pi's boot ROM cannot be installed by CI, so these run only
// where a built image and the ROM are given (README, "The Raspberry Pi Pico
// W"); elsewhere they are visible skips that say why:
//   PRIVET_PICO_BOOTROM   the RP2040 boot ROM (16 KB)
//   PRIVET_PICO_IMAGE     a bench image: mcconfig -i -m -p pico -t build ... manifest_bench.json (README)
//   PRIVET_PICO_APP_IMAGE the app built without ssid=: mcconfig -d -m -p pico/pico_w -t build ...

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const bootrom = process.env.PRIVET_PICO_BOOTROM;
const benchImage = process.env.PRIVET_PICO_IMAGE;
const appImage = process.env.PRIVET_PICO_APP_IMAGE;

function why(image: string | undefined, name: string): string | undefined {
  if (!bootrom) return "PRIVET_PICO_BOOTROM is not set (no RP2040 boot ROM here)";
  if (!fs.existsSync(bootrom)) return `PRIVET_PICO_BOOTROM ${bootrom} does not exist`;
  if (!image) return `${name} is not set (no Pico firmware image built here)`;
  if (!fs.existsSync(image)) return `${name} ${image} does not exist`;
  return undefined;
}

const benchMissing = why(benchImage, "PRIVET_PICO_IMAGE");
const benchTitle = "the bench image prints both pages through decoder, spooler, thermal driver and UART; the receipt is the Node host's dot for dot";
if (benchMissing) test.skip(`${benchTitle} (skipped: ${benchMissing})`, () => {});
else {
  test(benchTitle, async (t) => {
    t.timeout(30 * 60_000);
    const report = await runPicoBench(benchImage!, bootrom!, root);
    t.true(report.finished, report.log.slice(-5).join("\n"));
    t.deepEqual(report.results.map((r) => `${r.phase} ${r.document} ${r.lines}`), [
      "decode bench-gray.pwg 600", "print bench-gray.pwg 600", "decode bench-black.pwg 600", "print bench-black.pwg 600",
    ]);
    for (const r of report.results) t.true(r.cycles > 0 && r.cyclesPerLine > 0, `${r.phase} ${r.document}: ${r.cycles} cycles`);
    // Printing a page costs more than decoding it: the print stretch includes the decode.
    t.true(report.results[1].cycles > report.results[0].cycles);
    t.true(report.statusBytes > 0, "the printer's status answers reached the firmware");
    t.is(report.receiptDifference, undefined);
    // The decoder's C run loop (hosts/moddable/runs.c) decodes hostile lines
    // as the TypeScript does, and refuses arguments outside its buffers.
    t.like(report.hostile, { mismatches: 0, notRefused: 0 });
    t.true((report.hostile?.trials ?? 0) > 0 && (report.hostile?.documents ?? 0) > 0 && (report.hostile?.refused ?? 0) > 0);
    t.is(report.reports.filter((r) => r.phase === "print" && r.state === "done").length, 2);
    t.log(report.results.map((r) => `${r.phase} ${r.document}: ${r.cyclesPerLine.toFixed(0)} cycles/line, ${r.linesPerSecondAt133MHz.toFixed(0)} lines/s at 133 MHz`).join("\n"));
  });
}

const appMissing = why(appImage, "PRIVET_PICO_APP_IMAGE");
const appTitle = "the Pico W app boots, keeps its identity in flash through Preference across a reboot, and stops at the network it lacks";
if (appMissing) test.skip(`${appTitle} (skipped: ${appMissing})`, () => {});
else {
  test(appTitle, async (t) => {
    t.timeout(10 * 60_000);
    const rom = new Uint8Array(fs.readFileSync(bootrom!));
    let segments: Segment[] = parseImage(appImage!, new Uint8Array(fs.readFileSync(appImage!)));
    const boots: Array<{ writes: number; log: string[] }> = [];
    for (let boot = 0; boot < 2; boot++) {
      const log: string[] = [];
      const emulator = new PicoEmulator({ bootrom: rom, segments, onEvent: (e) => { if (e.kind === "log" || e.kind === "text") log.push(e.text.trim()); } });
      await emulator.run(() => log.some((l) => l.includes("failed to start") || l.includes("listening on port")), 30e9);
      t.deepEqual(emulator.flash.errors, []);
      boots.push({ writes: emulator.flash.ops.length, log });
      // The next boot starts from this flash, as a board does after a reset.
      segments = [{ address: FLASH_BASE, data: emulator.mcu.flash.slice(0, PICO_FLASH_BYTES) }];
    }
    t.true(boots[0].writes > 0, "the first boot stores the printer's identity");
    t.is(boots[1].writes, 0, "the second boot reads it back instead of making a new one");
    for (const boot of boots) t.true(boot.log.some((l) => /failed to start: .*no socket/.test(l)), boot.log.slice(-5).join("\n"));
  });
}
