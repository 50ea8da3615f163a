import * as fs from "node:fs";
import * as path from "node:path";
import { BENCH_PAGES, encodePwg } from "./pages.js";

// Writes the bench's PWG pages into a folder (default: tools/pico/pages, the
// ones manifest_bench.json links into the image).
const out = process.argv[2] ?? path.join("tools", "pico", "pages");
fs.mkdirSync(out, { recursive: true });
for (const { file, page } of BENCH_PAGES) {
  const bytes = encodePwg([page()]);
  fs.writeFileSync(path.join(out, file), bytes);
  process.stdout.write(`${path.join(out, file)}: ${bytes.length} bytes\n`);
}
