import test from "ava";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { get, rawRequest } from "./helpers/client.js";
import { encodeDocument, testPage } from "./helpers/pwg.js";

// Builds main.ts with the Moddable SDK and runs it in mcsim. The SDK is not on
// npm, so this runs only where MODDABLE points at a built SDK; elsewhere it is
// a visible skip that says why.
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const sdk = process.env.MODDABLE;
const tools = sdk ? path.join(sdk, "build", "bin", "lin", "release") : "";
const hasXvfb = spawnSync("sh", ["-c", "command -v xvfb-run"]).status === 0;
const missing = !sdk ? "MODDABLE is not set (no Moddable SDK here)"
  : !existsSync(path.join(tools, "mcconfig")) ? `no mcconfig in ${tools}`
  : !hasXvfb ? "xvfb-run is not installed" : "";
const SIM_PORT = 8631;

(missing ? test.skip : test)(`the firmware builds for lin, answers /privet/info and prints a PWG job in mcsim${missing ? ` (skipped: ${missing})` : ""}`, async (t) => {
  t.timeout(300_000);
  const out = mkdtempSync(path.join(tmpdir(), "privet-mc-"));
  const env = { ...process.env, PATH: `${path.join(root, "node_modules", ".bin")}:${process.env.PATH}:${tools}` };
  const build = spawnSync("mcconfig", ["-d", "-m", "-p", "lin", "-t", "build", "-o", out], { cwd: root, env, encoding: "utf8" });
  t.is(build.status, 0, build.stdout.slice(-2000) + build.stderr.slice(-2000));
  const so = path.join(out, "bin", "lin", "mc", "debug", "main", "mc.so");
  t.true(existsSync(so));

  // Its own process group, so we can stop exactly what we started.
  const sim = spawn("xvfb-run", ["-a", "stdbuf", "-oL", path.join(tools, "mcsim"), so], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  sim.stdout.on("data", (c) => (output += c));
  sim.stderr.on("data", (c) => (output += c));
  try {
    for (let i = 0; i < 100 && !output.includes("privet: listening"); i++) await new Promise((r) => setTimeout(r, 100));
    t.true(output.includes(`privet: listening on port ${SIM_PORT}`), output.slice(-1000));
    const info = JSON.parse((await get(SIM_PORT, "/privet/info", { "X-Privet-Token": "\"\"" })).body);
    t.is(info.version, "1.0");
    t.is(info.connection_state, "not-configured");
    t.true(info.uptime < 60, "uptime counts from this boot");
    t.is((await get(SIM_PORT, "/privet/info")).status, 400);
    t.is((await get(SIM_PORT, "/privet/other", { "X-Privet-Token": info["x-privet-token"] })).status, 404);
    // A two-page job through the XS decoder into the null engine.
    const doc = Buffer.from(encodeDocument([testPage(600, 200, "srgb_8", 1), testPage(300, 100, "black_1", 2)]));
    const submitted = await rawRequest(SIM_PORT, Buffer.concat([Buffer.from(`POST /privet/printer/submitdoc?job_name=xs HTTP/1.1\r\nX-Privet-Token: ${info["x-privet-token"]}\r\nContent-Type: image/pwg-raster\r\nContent-Length: ${doc.length}\r\n\r\n`), doc]), 30_000);
    const job = JSON.parse(submitted.body);
    t.is(job.job_size, doc.length, submitted.body);
    const state = JSON.parse((await get(SIM_PORT, `/privet/printer/jobstate?job_id=${job.job_id}`, { "X-Privet-Token": info["x-privet-token"] })).body);
    t.like(state, { state: "done", semantic_state: { pages_printed: 2 } });
    // Wait for an instruments line after the requests, for the record.
    const before = output.length;
    for (let i = 0; i < 30 && !output.slice(before).includes("instruments:"); i++) await new Promise((r) => setTimeout(r, 100));
    const keys = /instruments key: (.*)/.exec(output)?.[1].split(",") ?? [];
    const last = [...output.matchAll(/instruments: ([\d,]+)/g)].pop()?.[1].split(",").map(Number) ?? [];
    const figure = (name: string) => last[keys.indexOf(name)];
    t.log(`XS heap in mcsim after serving: chunk used ${figure("Chunk used")} B, slot used ${figure("Slot used")} B`);
    t.true(figure("Slot used") > 0);
  } finally {
    try { process.kill(-sim.pid!, "SIGTERM"); } catch {}
  }
});
