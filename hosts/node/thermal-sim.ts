import * as fs from "node:fs";
import * as path from "node:path";
import type { EngineEvents, PrintEngine } from "../../modules/hal/engine.js";
import type { Log } from "../../modules/hal/log.js";
import { ThermalEngine } from "../../modules/escpos/thermal-engine.js";
import { EscPosDevice, VirtualSerial } from "./escpos-device.js";
import { encodeGrayPng } from "./png-engine.js";
import { nodeClock } from "./hal.js";

// The board's real driver (ESC/POS over a UART) printing into a simulated
// thermal printer; each job's stretch of paper roll is saved as a PNG.
export function thermalSimulator(options: { outDir: string; baud: number; log: Log }): { engine: PrintEngine; device: EscPosDevice; thermal: ThermalEngine } {
  fs.mkdirSync(options.outDir, { recursive: true });
  const device = new EscPosDevice(384);
  const serial = new VirtualSerial(device, nodeClock, { baud: options.baud, bufferBytes: 4096 });
  const thermal = new ThermalEngine(serial, nodeClock, options.log);
  let jobId = "";
  const engine: PrintEngine = {
    capabilities: thermal.capabilities,
    get fault() { return thermal.fault; },
    get faultDescription() { return thermal.faultDescription; },
    get pagesPrinted() { return thermal.pagesPrinted; },
    setEvents(events: EngineEvents) {
      thermal.setEvents({
        ...events,
        jobFinished(pages) {
          const image = device.gray();
          if (image.height > 0) {
            const file = path.join(options.outDir, `job-${jobId}-receipt.png`);
            fs.writeFileSync(file, encodeGrayPng(image.width, image.height, image.pixels));
            options.log("info", `thermal: ${image.height} dot rows of paper saved to ${file}`);
          }
          device.rows = [];
          events.jobFinished(pages);
        },
      });
    },
    beginJob(id) { jobId = id.replace(/[^a-zA-Z0-9_-]/g, "_"); thermal.beginJob(id); },
    beginPage: (page) => thermal.beginPage(page),
    line: (data, repeat, runs) => thermal.line(data, repeat, runs),
    endPage: () => thermal.endPage(),
    endJob: (aborted) => thermal.endJob(aborted),
  };
  return { engine, device, thermal };
}
