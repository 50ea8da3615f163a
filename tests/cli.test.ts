import test from "ava";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { get, rawRequest } from "./helpers/client.js";

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "tools", "launcher", "start.js");

function run(args: string[]) {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => (stdout += c));
  child.stderr.on("data", (c) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const listening = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line: ${stdout} ${stderr}`)), 10_000);
    child.stdout.on("data", () => {
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(stdout);
      if (match) { clearTimeout(timer); resolve(Number(match[1])); }
    });
    child.on("exit", () => { clearTimeout(timer); reject(new Error(`exited: ${stderr}`)); });
  });
  // Tests of failing starts never await it.
  listening.catch(() => {});
  return { child, listening, exited, output: () => ({ stdout, stderr }) };
}

test("the simulator starts on loopback, says where, answers /privet/info and stops on SIGTERM", async (t) => {
  const state = mkdtempSync(path.join(tmpdir(), "privet-cli-"));
  // mDNS stays off: tests/mdns-interop.test.ts owns loopback discovery.
  const proc = run(["--port", "0", "--name", "Lobby", "--state-dir", state, "--no-mdns", "--cloud-port", "0"]);
  try {
    const port = await proc.listening;
    t.regex(proc.output().stdout, /mDNS: off/);
    t.regex(proc.output().stdout, /curl -H 'X-Privet-Token: ""' http:\/\/127\.0\.0\.1:\d+\/privet\/info/);
    const info = JSON.parse((await get(port, "/privet/info", { "X-Privet-Token": "\"\"" })).body);
    t.is(info.name, "Lobby");
    // Out of the box it brings its own Cloud Print service and says how to register with it.
    const cloud = /embedded Cloud Print emulator at (http:\/\/127\.0\.0\.1:\d+)/.exec(proc.output().stdout);
    t.truthy(cloud, proc.output().stdout);
    t.is(info.url, `${cloud![1]}/cloudprint`);
    t.deepEqual(info.api, ["/privet/register"]);
    t.regex(proc.output().stdout, /npm run privet -- register --user you@example.com --auto-claim/);
    const page = await fetch(`${cloud![1]}/signin`);
    t.is(page.status, 200, "the emulator's pages are up");
  } finally {
    proc.child.kill("SIGTERM");
  }
  t.is(await proc.exited, 0);
});

test("--no-cloud is local-only: printing out of the box, no emulator", async (t) => {
  const state = mkdtempSync(path.join(tmpdir(), "privet-cli-"));
  const proc = run(["--port", "0", "--state-dir", state, "--no-mdns", "--no-cloud"]);
  try {
    const port = await proc.listening;
    t.notRegex(proc.output().stdout, /emulator/);
    const info = JSON.parse((await get(port, "/privet/info", { "X-Privet-Token": "\"\"" })).body);
    t.is(info.connection_state, "not-configured");
    t.true(info.api.includes("/privet/printer/submitdoc"));
  } finally {
    proc.child.kill("SIGTERM");
  }
  t.is(await proc.exited, 0);
});

test("bad flags fail with a one-line reason and the usage", async (t) => {
  const proc = run(["--port", "seventy"]);
  t.is(await proc.exited, 2);
  t.regex(proc.output().stderr, /--port must be a number/);
  t.regex(proc.output().stderr, /Usage: npm start/);
  const unknown = run(["--colour"]);
  t.is(await unknown.exited, 2);
  t.regex(unknown.output().stderr, /Unknown option '--colour'/);
});

test("--allow-host adds names the printer and its front panel answer to; others stay refused; a malformed one fails the start", async (t) => {
  const state = mkdtempSync(path.join(tmpdir(), "privet-cli-"));
  const proc = run(["--port", "0", "--state-dir", state, "--no-mdns", "--no-cloud", "--panel-port", "0", "--allow-host", "printer.lan", "--allow-host", "Office-Printer.corp.example:8631"]);
  try {
    const port = await proc.listening;
    t.regex(proc.output().stdout, /answers to Host: .*printer\.lan, Office-Printer\.corp\.example:8631/);
    const panelPort = Number(/front panel .*: http:\/\/127\.0\.0\.1:(\d+)\//.exec(proc.output().stdout)![1]);
    const token = { "X-Privet-Token": "\"\"" };
    for (const [host, status] of [["printer.lan", 200], ["office-printer.corp.example", 200], ["evil.example", 403], ["printer.lan.evil.example", 403]] as const) {
      const head = (target: string, p: number) => `GET ${target} HTTP/1.1\r\nHost: ${host}:${p}\r\nX-Privet-Token: ""\r\nConnection: close\r\n\r\n`;
      t.is((await rawRequest(port, head("/privet/info", port))).status, status, `printer, ${host}`);
      t.is((await rawRequest(panelPort, head("/", panelPort))).status, status, `front panel, ${host}`);
    }
    t.is((await get(port, "/privet/info", token)).status, 200);
  } finally {
    proc.child.kill("SIGTERM");
  }
  t.is(await proc.exited, 0);
  const bad = run(["--allow-host", "http://printer.lan/"]);
  t.is(await bad.exited, 2);
  t.regex(bad.output().stderr, /--allow-host takes a host name/);
});
