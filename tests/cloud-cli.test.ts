import test from "ava";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { get } from "./helpers/client.js";
import { startTestCloud } from "./helpers/cloud.js";
import { until } from "./helpers/cloud-printer.js";
import { spawnNode } from "./helpers/spawn.js";

// What a person does: the simulator started with --cloud, the reference
// client's register and accesstoken, and the console's ok and reset.

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const simulator = path.join(root, "tools", "launcher", "start.js");
const client = path.join(root, "tools", "client", "cli.js");

function start(args: string[]) {
  return spawnNode(simulator, args, { env: { ...process.env, PRIVET_CONSOLE: "1" } });
}

// The result once it exits; progress() reads its stderr while it runs.
function runClient(args: string[], progress: { stderr: string } = { stderr: "" }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [client, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (progress.stderr += c));
    child.on("exit", (code) => resolve({ code, stdout, stderr: progress.stderr }));
  });
}

const info = async (port: number) => JSON.parse((await get(port, "/privet/info", { "X-Privet-Token": "\"\"" })).body);

test("npm start -- --cloud URL --confirm auto, then `privet register --auto-claim`, `accesstoken`, and `reset` at the console", async (t) => {
  const cloud = await startTestCloud();
  const state = mkdtempSync(path.join(tmpdir(), "privet-cloud-cli-"));
  const proc = start(["--port", "0", "--state-dir", state, "--no-mdns", "--cloud", cloud.service.url, "--confirm", "auto"]);
  t.teardown(async () => { proc.child.kill("SIGTERM"); await proc.exited; await cloud.service.close(); });
  await until("listening", () => /listening on http:\/\/127\.0\.0\.1:\d+\//.test(proc.output().stdout), 10_000);
  const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(proc.output().stdout)![1]);
  t.regex(proc.output().stdout, /not registered: until then only \/privet\/info and \/privet\/register are offered/);
  const before = await info(port);
  t.is(before.url, cloud.service.baseUrl, "a bare origin gets /cloudprint");
  t.deepEqual(before.api, ["/privet/register"]);

  const printer = `http://127.0.0.1:${port}`;
  const registered = await runClient(["register", "--printer", printer, "--user", "carol@example.com", "--auto-claim"]);
  t.is(registered.code, 0, registered.stderr);
  t.regex(registered.stdout, /registered: device id [0-9a-f-]{36} for carol@example\.com/);
  t.regex(proc.output().stdout, /\[panel\] OK pressed \(--confirm auto\)/);
  const after = await info(port);
  t.regex(after.id, /^[0-9a-f-]{36}$/);

  const token = await runClient(["accesstoken", "--printer", printer, "--user", "carol@example.com"]);
  t.is(token.code, 0, token.stderr);
  t.is(JSON.parse(token.stdout).user, "carol@example.com");
  const again = await runClient(["register", "--printer", printer, "--user", "carol@example.com"]);
  t.is(again.code, 4, "register is 404 once registered");

  proc.child.stdin.write("reset\n");
  await until("out of the box again", async () => (await info(port)).id === "");
  t.deepEqual((await info(port)).api, ["/privet/register"]);
});

test("the console's ok confirms a registration; --cloud and --no-cloud exclude each other", async (t) => {
  const cloud = await startTestCloud();
  const state = mkdtempSync(path.join(tmpdir(), "privet-cloud-cli-"));
  const proc = start(["--port", "0", "--state-dir", state, "--no-mdns", "--cloud", cloud.service.baseUrl]);
  t.teardown(async () => { proc.child.kill("SIGTERM"); await proc.exited; await cloud.service.close(); });
  await until("listening", () => /listening on http:\/\/127\.0\.0\.1:\d+\//.test(proc.output().stdout), 10_000);
  const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(proc.output().stdout)![1]);
  const live = { stderr: "" };
  const registering = runClient(["register", "--printer", `http://127.0.0.1:${port}`, "--user", "dan@example.com", "--auto-claim"], live);
  await until("the panel asks", () => /Press OK to continue/.test(proc.output().stdout), 10_000);
  t.regex(proc.output().stdout, /indicator blinking/);
  // The client counts down while the printer waits for its button.
  await until("the client's countdown", () => /waiting for OK on the printer, \d+ s left/.test(live.stderr), 10_000);
  proc.child.stdin.write("ok\n");
  const done = await registering;
  t.is(done.code, 0, done.stderr);
  t.regex(done.stderr, /waiting for OK on the printer, \d+ s left/);

  const both = start(["--cloud", "http://127.0.0.1:1", "--no-cloud"]);
  t.is(await both.exited, 2);
  t.regex(both.output().stderr, /exclude each other/);
});
