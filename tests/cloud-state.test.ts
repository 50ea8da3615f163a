import test from "ava";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Store, writeAtomic } from "../tools/cloud/store.js";
import { call, registerAndClaim, startTestCloud, userToken } from "./helpers/cloud.js";

// The state folder: everything survives a restart, and no crash leaves it half-written.

test("users, printers, settings, tokens and jobs survive close and start with the same folder", async (t) => {
  const first = await startTestCloud();
  const reg = await registerAndClaim(first, "Persistent", "gina@example.com");
  await call(first.service, "update", { printerid: reg.printerId, local_settings: JSON.stringify({ pending: { local_discovery: false } }) }, { token: reg.user });
  const job = (await call(first.service, "submit", { printerid: reg.printerId, title: "kept", contentType: "text/plain" }, {
    encoding: "multipart", token: reg.user, files: [{ name: "content", filename: "a.txt", contentType: "text/plain", data: "bytes that must survive" }],
  })).json.job;
  await first.service.close();

  const second = await startTestCloud({ stateDir: first.stateDir });
  t.teardown(() => second.service.close());
  const { service } = second;
  // The same access token still works: tokens are state too.
  const printer = (await call(service, "printer", { printerid: reg.printerId }, { token: reg.access })).json;
  t.true(printer.success);
  t.is(printer.printers[0].name, "Persistent");
  t.false(printer.printers[0].local_settings.pending.local_discovery);
  const refreshed = await call(service, service.tokenUrl, { grant_type: "refresh_token", refresh_token: reg.refresh, client_id: "test-client" }, { proxyHeader: null });
  t.is(refreshed.status, 200);
  const fetched = (await call(service, "fetch", { printerid: reg.printerId }, { token: reg.access })).json;
  t.is(fetched.jobs[0].id, job.id);
  // Accept names the stored type: the printer's CDD takes only PWG, and text/plain cannot be converted.
  const file = await fetch(fetched.jobs[0].fileUrl, { headers: { Authorization: `Bearer ${reg.access}`, "X-CloudPrint-Proxy": "t", Accept: "text/plain" } });
  t.is(await file.text(), "bytes that must survive");
  // The file URLs name the new port, not the old one.
  t.true(fetched.jobs[0].fileUrl.startsWith(service.baseUrl));
});

test("a temporary file left by a crash mid-write is ignored and removed; the state is the last complete one", async (t) => {
  const first = await startTestCloud();
  const user = await userToken(first.service, "hank@example.com");
  await first.service.close();
  const stateFile = path.join(first.stateDir, "state.json");
  const before = fs.readFileSync(stateFile, "utf8");
  // What a crash between write and rename leaves: a partial next state beside the good one.
  const debris = path.join(first.stateDir, `state.json.tmp-999-deadbeef`);
  fs.writeFileSync(debris, before.slice(0, Math.floor(before.length / 2)));
  const docDebris = path.join(first.stateDir, "documents", "0123456789abcdef01234567.tmp-1-2");
  fs.writeFileSync(docDebris, "partial");

  const second = await startTestCloud({ stateDir: first.stateDir });
  t.teardown(() => second.service.close());
  t.false(fs.existsSync(debris));
  t.false(fs.existsSync(docDebris));
  t.true((await call(second.service, "search", {}, { token: user })).json.success);
});

test("every write replaces the state file whole: a reader never sees a torn file", async (t) => {
  const dir = fs.mkdtempSync(path.join(tmpdir(), "cloud-atomic-"));
  const file = path.join(dir, "state.json");
  const big = (n: number) => Buffer.from(JSON.stringify({ n, pad: "x".repeat(200_000 + n) }));
  writeAtomic(file, big(0));
  // Interleave many writes with reads; each read must parse and be one of the written versions.
  for (let i = 1; i <= 40; i++) {
    writeAtomic(file, big(i));
    const seen = JSON.parse(fs.readFileSync(file, "utf8"));
    t.is(seen.n, i);
  }
  t.deepEqual(fs.readdirSync(dir), ["state.json"], "no temporary file is left after a complete write");
});

test("a damaged state file stops the start with a reason instead of silently starting empty", async (t) => {
  const dir = fs.mkdtempSync(path.join(tmpdir(), "cloud-damaged-"));
  fs.writeFileSync(path.join(dir, "state.json"), "{\"version\":1,\"users\":");
  const error = t.throws(() => Store.open(dir));
  t.regex(error!.message, /state\.json is not valid JSON/);
  await t.throwsAsync(startTestCloud({ stateDir: dir }), { message: /not valid JSON/ });
});

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "tools", "cloud", "cli.js");

test("npm run cloud: says where it listens and how to use it, serves, keeps its state, stops on SIGTERM", async (t) => {
  const stateDir = fs.mkdtempSync(path.join(tmpdir(), "cloud-cli-"));
  const child = spawn(process.execPath, [cli, "--port", "0", "--xmpp-port", "0", "--state-dir", stateDir, "--deletion-shape", "empty-printers", "--token-lifetime", "5", "--verbose"], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  child.stdout.on("data", (c) => (stdout += c));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line: ${stdout}`)), 10_000);
      child.stdout.on("data", () => {
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(stdout);
        if (match) { clearTimeout(timer); resolve(match[1]); }
      });
    });
    t.regex(stdout, /curl .*\/cloudprint\/register/);
    t.regex(stdout, /urn:cloudprint-emulator:user/);
    t.regex(stdout, /plain text {3}127\.0\.0\.1:\d+/);
    const token = await fetch(`${url}/o/oauth2/token`, { method: "POST", body: new URLSearchParams({ grant_type: "urn:cloudprint-emulator:user", email: "cli@example.com" }) });
    t.is(((await token.json()) as { expires_in: number }).expires_in, 5, "--token-lifetime reaches the token endpoint");
    // --verbose logs the request once answered, without its query or body.
    for (let i = 0; i < 50 && !stdout.includes("POST /o/oauth2/token 200"); i++) await new Promise((r) => setTimeout(r, 20));
    t.regex(stdout, /POST \/o\/oauth2\/token 200/);
  } finally {
    child.kill("SIGTERM");
  }
  t.is(await exited, 0);
  t.true(fs.existsSync(path.join(stateDir, "state.json")));
});

test("the CLI refuses bad flags with the usage", async (t) => {
  for (const args of [["--port", "x"], ["--deletion-shape", "maybe"], ["--token-lifetime", "0"], ["--colour"]]) {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c) => (stderr += c));
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    t.is(code, 2, args.join(" "));
    t.regex(stderr, /Usage: npm run cloud/, args.join(" "));
  }
});
