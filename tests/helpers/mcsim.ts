import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as dgram from "node:dgram";
import * as net from "node:net";
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { get, rawRequest } from "./client.js";
import { call, startTestCloud, userToken, type TestCloud } from "./cloud.js";
import { run, which } from "./peers.js";

// What the mcsim tests share: the firmware built for lin with a test config
// (its own port, DNS, time server, Preference store and cloud), booted under
// xvfb in a process group of its own, its instruments lines read back, and
// registration played as a person would. The SDK is not on npm: without
// MODDABLE the tests are visible skips that say why.

// build/tests/helpers/ -> the repository.
export const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const sdk = process.env.MODDABLE;
export const sdkTools = sdk ? path.join(sdk, "build", "bin", "lin", "release") : "";
export const has = (command: string) => which(command) !== undefined;
export const mcsimMissing = !sdk ? "MODDABLE is not set (no Moddable SDK here)"
  : !existsSync(path.join(sdkTools, "mcconfig")) ? `no mcconfig in ${sdkTools}`
  : !has("xvfb-run") ? "xvfb-run is not installed"
  : !has("openssl") ? "openssl is not installed" : "";
// The name the test's DNS server gives 127.0.0.1: what the device's
// certificates must name (the SDK checks subjectAltName DNS names only).
export const SERVER_NAME = "printer-check.test";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(read: () => string, text: string | RegExp, ms: number): Promise<boolean> {
  const found = () => (typeof text === "string" ? read().includes(text) : text.test(read()));
  for (let i = 0; i < ms / 100 && !found(); i++) await sleep(100);
  return found();
}

function openssl(dir: string, args: string[]): void {
  const run = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${run.stderr}`);
}

// A CA made with openssl req -x509, and a server certificate for SERVER_NAME
// signed by it; servers send both (the SDK needs the chain, see tls.ts).
export function makeChain(dir: string, prefix: string): void {
  mkdirSync(dir, { recursive: true });
  openssl(dir, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", `${prefix}-ca.key`, "-out", `${prefix}-ca.pem`, "-days", "2", "-subj", `/CN=${prefix} test CA`]);
  openssl(dir, ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${prefix}.key`, "-out", `${prefix}.csr`, "-subj", `/CN=${SERVER_NAME}`]);
  writeFileSync(path.join(dir, `${prefix}.ext`), `subjectAltName=DNS:${SERVER_NAME}\nauthorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n`);
  openssl(dir, ["x509", "-req", "-in", `${prefix}.csr`, "-CA", `${prefix}-ca.pem`, "-CAkey", `${prefix}-ca.key`, "-CAcreateserial", "-days", "2", "-extfile", `${prefix}.ext`, "-out", `${prefix}.pem`]);
}

// Answers every A query with 127.0.0.1, like a LAN's DNS server for a test name.
export function dnsServer(): Promise<{ port: number; queries: string[]; close(): void }> {
  const socket = dgram.createSocket("udp4");
  const queries: string[] = [];
  socket.on("message", (query, from) => {
    let end = 12;
    const labels: string[] = [];
    for (let i = 0; i < 64 && end < query.length && query[end] !== 0; i++) {
      labels.push(query.subarray(end + 1, end + 1 + query[end]).toString());
      end += query[end] + 1;
    }
    queries.push(labels.join("."));
    const question = query.subarray(12, end + 5);
    const header = Buffer.from([query[0], query[1], 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
    const answer = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]);
    socket.send(Buffer.concat([header, question, answer]), from.port, from.address);
  });
  return new Promise((resolve) => socket.bind(0, "127.0.0.1", () => resolve({
    port: socket.address().port, queries, close: () => socket.close(),
  })));
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

// PRIVET_SIM_PORT when set, otherwise a port that is free when the test
// starts, so the test does not depend on 8631 (npm start's) being free. It
// has to be in the manifest: mcconfig's name=value arguments set only
// top-level config keys, not privet.port.
export function simPort(): Promise<number> {
  const text = process.env.PRIVET_SIM_PORT;
  if (text === undefined || text === "") return freePort();
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`PRIVET_SIM_PORT="${text}" is not a TCP port`);
  return Promise.resolve(port);
}

// PRIVET_XS_HEAP="chunkBytes,slots[,stackSlots]": a part left out or empty
// keeps the manifest's value for it (so "98304,4096" keeps its stack).
export function heapCreation(text: string): Record<string, unknown> {
  const [chunk, slots, stack] = text.split(",").map((part) => (part.trim() === "" ? undefined : Number(part)));
  for (const value of [chunk, slots, stack]) {
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) throw new Error(`PRIVET_XS_HEAP="${text}": expected chunkBytes,slots[,stackSlots] as positive integers`);
  }
  const creation: Record<string, unknown> = { static: 0 };
  if (chunk !== undefined) creation.chunk = { initial: chunk, incremental: 0 };
  if (slots !== undefined) creation.heap = { initial: slots, incremental: 0 };
  if (stack !== undefined) creation.stack = stack;
  return creation;
}

// The emulator as a deployment reaches it: its API, claim links and
// downloads over HTTPS and the channel over direct-TLS XMPP, with a chain
// for SERVER_NAME; the test itself (playing the person) uses the plain
// listener. The device trusts only the chain's CA.
export async function startTlsCloud(dir: string): Promise<{ cloud: TestCloud; privetCloud: Record<string, unknown> }> {
  makeChain(dir, "cloud");
  const read = (file: string) => readFileSync(path.join(dir, file), "utf8");
  const certificate = { cert: read("cloud.pem") + read("cloud-ca.pem"), key: read("cloud.key") };
  const cloud = await startTestCloud({ xmpp: { port: 0, tls: certificate }, https: { ...certificate, hostName: SERVER_NAME } });
  const anchors = [read("cloud-ca.pem")];
  return {
    cloud,
    privetCloud: {
      url: cloud.service.httpsBaseUrl!,
      http: { trustAnchors: anchors },
      xmpp: { host: SERVER_NAME, port: cloud.service.xmpp!.directTlsPort, transport: "direct-tls", trustAnchors: anchors },
    },
  };
}

export interface Firmware { so: string; out: string; env: NodeJS.ProcessEnv; buildLog: string; status: number | null }

// Builds main.ts for lin from a test manifest that includes ours and adds
// `privet` (merged after ours, so it wins), with a Preference store of the
// run's own: on lin the SDK keeps every preference in one JSON file under
// config.file.root, which the file module sets to /tmp/ for every app.
export function buildFirmware(dir: string, privet: Record<string, unknown>): Firmware {
  const out = path.join(dir, "build");
  const project = path.join(dir, "check");
  mkdirSync(out, { recursive: true });
  mkdirSync(project, { recursive: true });
  const preferences = path.join(dir, "preferences");
  rmSync(preferences, { recursive: true, force: true });
  mkdirSync(preferences);
  const lin: Record<string, unknown> = {};
  const heap = process.env.PRIVET_XS_HEAP;
  if (heap) lin.creation = heapCreation(heap);
  // PRIVET_XS_CENSUS=1: the heap census probe (tools/xs-census) runs beside
  // the app and writes "census:" lines; a measurement, which moves the
  // collections, so never for a verdict on the heap.
  const census = process.env.PRIVET_XS_CENSUS ? {
    creation: { main: "probe" },
    modules: { census: path.join(root, "tools", "xs-census", "census"), probe: path.join(root, "tools", "xs-census", "probe") },
    preload: ["census"],
  } : {};
  writeFileSync(path.join(project, "manifest.json"), JSON.stringify({
    include: [path.join(root, "manifest.json")],
    config: { file: { root: preferences + path.sep }, privet },
    platforms: { lin },
    ...census,
  }, null, 1));
  const env = { ...process.env, PATH: `${path.join(root, "node_modules", ".bin")}:${process.env.PATH}:${sdkTools}` };
  const build = spawnSync("mcconfig", ["-d", "-m", "-p", "lin", "-t", "build", "-o", out, path.join(project, "manifest.json")], { cwd: root, env, encoding: "utf8" });
  // mcconfig names the build after the folder the top manifest is in.
  const so = path.join(out, "bin", "lin", "mc", "debug", path.basename(project), "mc.so");
  return { so, out, env, buildLog: build.stdout.slice(-2000) + build.stderr.slice(-2000), status: build.status };
}

// Byte code as it would sit in flash: the .xsb of each module of a folder.
export function byteCode(out: string, folder: string): number {
  let total = 0;
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const full = path.join(d, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (full.includes(`${path.sep}modules${path.sep}${folder}${path.sep}`) && full.endsWith(".xsb")) total += statSync(full).size;
    }
  };
  walk(path.join(out, "tmp"));
  return total;
}

export interface Board { sim: ChildProcess; output: () => string; stop(signal?: NodeJS.Signals): void }

// mcsim in its own process group, so exactly what was started is stopped.
export function boot(firmware: Firmware): Board {
  const sim = spawn("xvfb-run", ["-a", "stdbuf", "-oL", path.join(sdkTools, "mcsim"), firmware.so], { env: firmware.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  // Also as it comes, for a person watching a long run (tail -f).
  const live = createWriteStream(path.join(path.dirname(firmware.out), "mcsim-live.log"));
  const take = (c: Buffer) => { output += c; live.write(c); };
  sim.stdout!.on("data", take);
  sim.stderr!.on("data", take);
  sim.on("close", () => live.end());
  return { sim, output: () => output, stop: (signal = "SIGTERM") => { try { process.kill(-sim.pid!, signal); } catch {} } };
}

// The instruments line XS writes once a second, by name.
export class Instruments {
  constructor(private readonly output: () => string) {}
  private get keys(): string[] { return /instruments key: (.*)/.exec(this.output())?.[1].split(",") ?? []; }
  samples(from = 0): number[][] {
    return [...this.output().slice(from).matchAll(/instruments: ([\d,]+)/g)].map((m) => m[1].split(",").map(Number));
  }
  column(rows: number[][], name: string): number[] {
    const index = this.keys.indexOf(name);
    return rows.map((r) => r[index]);
  }
  // "used" counts garbage until XS collects, so the peak sits near the
  // limit; the lowest sample is an upper bound on what is live.
  figures(rows: number[][]): string {
    const chunks = this.column(rows, "Chunk used"), slots = this.column(rows, "Slot used");
    return `chunks peak ${Math.max(...chunks)} low ${Math.min(...chunks)}, slots peak ${Math.max(...slots)} low ${Math.min(...slots)} B, ${this.column(rows, "Garbage collections").reduce((a, b) => a + b, 0)} GCs`;
  }
}

// CUPS's ipptool against the board, its output and error in one text.
export async function ipptool(args: string[]): Promise<{ code: number | null; out: string }> {
  const result = await run("ipptool", ["-T", "120", ...args], 180_000);
  return { code: result.code, out: result.stdout + result.stderr };
}

// Registration on XS as a person does it: start, the (auto) panel's OK,
// getClaimToken until ready, the claim at the service, complete.
export async function registerBoard(port: number, cloud: TestCloud, user: string): Promise<{ deviceId: string; userToken: string; token: string }> {
  const fresh = JSON.parse((await get(port, "/privet/info", { "X-Privet-Token": "\"\"" })).body);
  const register = async (action: string) => JSON.parse((await rawRequest(port,
    `POST /privet/register?action=${action}&user=${encodeURIComponent(user)} HTTP/1.1\r\nX-Privet-Token: ${fresh["x-privet-token"]}\r\nContent-Length: 0\r\n\r\n`, 30_000)).body);
  const started = await register("start");
  if (started.action !== "start") throw new Error(`start: ${JSON.stringify(started)}`);
  let claim: any;
  for (let i = 0; i < 60; i++) {
    claim = await register("getClaimToken");
    if (claim.error !== "pending_user_action") break;
    await sleep(500);
  }
  if (!claim?.automated_claim_url) throw new Error(`getClaimToken: ${JSON.stringify(claim)}`);
  const token = await userToken(cloud.service, user);
  const claimed = await call(cloud.service, claim.automated_claim_url, {}, { encoding: "get", token });
  if (!claimed.json?.success) throw new Error(`claim: ${claimed.text}`);
  const complete = await register("complete");
  if (!complete.device_id) throw new Error(`complete: ${JSON.stringify(complete)}`);
  return { deviceId: complete.device_id, userToken: token, token: fresh["x-privet-token"] };
}
