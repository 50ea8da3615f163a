import { EscPosDevice, VirtualSerial } from "../../hosts/node/escpos-device.js";
import { nodeClock, nodeRandom } from "../../hosts/node/hal.js";
import { ThermalEngine, type ThermalConfig } from "../../modules/escpos/thermal-engine.js";
import { printPath } from "../../modules/print/path.js";
import { SegmentSource } from "../../modules/print/segment-source.js";

// What the Node host's thermal engine prints from the same documents, one job
// after another on one roll, as the MCU bench prints them: the receipt the
// emulated firmware's paper is compared with, dot for dot.

export interface Paper {
  width: number;
  height: number;
  // One byte per dot, 0 black, 255 white.
  pixels: Uint8Array;
}

export async function referenceReceipt(documents: Uint8Array[], config: Partial<ThermalConfig>, segment = 1460): Promise<Paper> {
  const device = new EscPosDevice(config.headDots ?? 384);
  // Fast: the roll is the point here, not the wire's timing.
  const serial = new VirtualSerial(device, nodeClock, { baud: 10_000_000, bufferBytes: 4096 });
  const engine = new ThermalEngine(serial, nodeClock, () => {}, { ...config, statusPollMs: 60_000 });
  const path = printPath({ engine, clock: nodeClock, random: nodeRandom, log: () => {} });
  try {
    for (const bytes of documents) {
      await new Promise<void>((resolve, reject) => {
        const stop = path.lifecycle.listen((event) => {
          if (event.to === "done") { stop(); resolve(); }
          if (event.to === "aborted") { stop(); reject(new Error(`reference job aborted: ${event.job.description ?? ""}`)); }
        });
        path.spooler.start(path.lifecycle.createQueued(), new SegmentSource(bytes, segment, nodeClock), (result) => {
          if (!result.ok) reject(new Error(result.description));
        });
      });
    }
  } finally {
    engine.close();
  }
  return device.gray();
}

// Where two rolls differ: undefined when they are the same dot for dot.
export function paperDifference(a: Paper, b: Paper): string | undefined {
  if (a.width !== b.width || a.height !== b.height) return `${a.width} x ${a.height} dots against ${b.width} x ${b.height}`;
  let differing = 0, first = -1;
  for (let i = 0; i < a.pixels.length; i++) {
    if (a.pixels[i] !== b.pixels[i]) {
      if (first < 0) first = i;
      differing++;
    }
  }
  if (differing === 0) return undefined;
  return `${differing} dots differ, the first at row ${Math.floor(first / a.width)}, column ${first % a.width}`;
}

// The bench's documents and thermal settings, as manifest_bench.json links
// and configures them for the Pico.
export function benchSetup(root: string, read: (file: string) => Uint8Array): { documents: Uint8Array[]; thermal: Partial<ThermalConfig> } {
  const manifest = JSON.parse(new TextDecoder().decode(read(`${root}/manifest_bench.json`)));
  const files: string[] = manifest.data["*"];
  const thermal = manifest.platforms.pico.config.privet.thermal;
  return { documents: files.map((f) => read(`${root}/${f.replace(/^\.\//, "")}`)), thermal };
}
