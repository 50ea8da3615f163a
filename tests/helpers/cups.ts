import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

// CUPS itself, as a user's computer runs it, in a sandbox a test owns: its own
// configuration, spool and logs in a temporary folder, listening on one
// 127.0.0.1 port, no browsing, no printers but the ones the test adds. cupsd
// is started and stopped by PID; the system's CUPS (if any) is not touched.

export function cupsUnavailable(): string {
  if (process.getuid?.() !== 0) return "cupsd's filters run as lp, which needs root to start cupsd";
  for (const tool of ["cupsd", "lpadmin", "lp", "lpstat"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `${tool} is not installed (apt-get install cups cups-client)`;
  }
  if (!fs.existsSync("/usr/lib/cups/filter/gstoraster") && !fs.existsSync("/usr/lib/cups/filter/pdftoraster")) return "cups-filters is not installed";
  return "";
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface JobState {
  id: number;
  state: string;
  reasons: string;
}

export class CupsSandbox {
  private child: ChildProcess | undefined;
  private constructor(readonly dir: string, readonly port: number) {}

  static async start(): Promise<CupsSandbox> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "privet-cups-"));
    // The filters run as lp: they must reach the sandbox and write its TempDir.
    fs.chmodSync(dir, 0o755);
    for (const sub of ["spool", "cache", "state", "log", "ppd"]) fs.mkdirSync(path.join(dir, sub));
    fs.mkdirSync(path.join(dir, "tmp"), { mode: 0o1777 });
    fs.chmodSync(path.join(dir, "tmp"), 0o1777);
    const port = await freePort();
    fs.writeFileSync(path.join(dir, "cupsd.conf"), [
      `Listen 127.0.0.1:${port}`,
      "Browsing Off", "BrowseLocalProtocols none", "DefaultAuthType None", "LogLevel debug", "WebInterface No",
      // A stopped queue would hold every later job: a failed job is aborted instead.
      "ErrorPolicy abort-job",
      "<Location />", "  Order allow,deny", "  Allow from 127.0.0.1", "</Location>",
      "<Location /admin>", "  Order allow,deny", "  Allow from 127.0.0.1", "</Location>",
      "<Policy default>", "  <Limit All>", "    Order deny,allow", "  </Limit>", "</Policy>", "",
    ].join("\n"));
    fs.writeFileSync(path.join(dir, "cups-files.conf"), [
      `ServerRoot ${dir}`, `RequestRoot ${dir}/spool`, `CacheDir ${dir}/cache`, `StateDir ${dir}/state`,
      `TempDir ${dir}/tmp`, `ErrorLog ${dir}/log/error_log`, `AccessLog ${dir}/log/access_log`, `PageLog ${dir}/log/page_log`,
      "ServerBin /usr/lib/cups", "DataDir /usr/share/cups", "FileDevice No", "User lp", "Group lp", "SystemGroup root", "",
    ].join("\n"));
    const sandbox = new CupsSandbox(dir, port);
    sandbox.child = spawn("cupsd", ["-f", "-c", path.join(dir, "cupsd.conf"), "-s", path.join(dir, "cups-files.conf")], { stdio: "ignore" });
    for (let i = 0; i < 100; i++) {
      if (sandbox.run(["lpstat", "-r"]).stdout.includes("is running")) return sandbox;
      if (sandbox.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const log = sandbox.log();
    await sandbox.stop();
    throw new Error(`cupsd did not start: ${log.slice(-2000)}`);
  }

  // A CUPS client command pointed at this scheduler.
  run(args: string[], timeoutMs = 60_000): { status: number | null; stdout: string; stderr: string } {
    const [command, ...rest] = args;
    const result = spawnSync(command, ["-h", `127.0.0.1:${this.port}`, ...rest], { encoding: "utf8", timeout: timeoutMs, env: { ...process.env, CUPS_SERVER: `127.0.0.1:${this.port}` } });
    return { status: result.status, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
  }

  // The scheduler's log, for a failure message.
  log(): string {
    try { return fs.readFileSync(path.join(this.dir, "log", "error_log"), "latin1"); } catch { return ""; }
  }

  // The job's state as CUPS sees it, from its own IPP interface.
  jobState(id: number): JobState | undefined {
    const result = spawnSync("ipptool", ["-t", "-d", `job=${id}`, `ipp://127.0.0.1:${this.port}/jobs/${id}`, this.jobQuery()], { encoding: "utf8", timeout: 30_000 });
    const state = /job-state \(enum\) = (\S+)/.exec(result.stdout)?.[1];
    if (!state) return undefined;
    return { id, state, reasons: /job-state-reasons \([^)]*\) = (.+)/.exec(result.stdout)?.[1] ?? "" };
  }

  private jobQuery(): string {
    const file = path.join(this.dir, "get-job.test");
    if (!fs.existsSync(file)) {
      fs.writeFileSync(file, `{ NAME "job state" OPERATION Get-Job-Attributes GROUP operation-attributes-tag
ATTR charset attributes-charset utf-8 ATTR naturalLanguage attributes-natural-language en
ATTR uri job-uri $uri ATTR name requesting-user-name root
ATTR keyword requested-attributes job-state,job-state-reasons
STATUS successful-ok DISPLAY job-state DISPLAY job-state-reasons }\n`);
    }
    return file;
  }

  // Waits until the job has ended (completed, aborted or canceled).
  async waitForJob(id: number, timeoutMs: number): Promise<JobState> {
    const deadline = Date.now() + timeoutMs;
    let last: JobState | undefined;
    while (Date.now() < deadline) {
      last = this.jobState(id);
      if (last && ["completed", "aborted", "canceled"].includes(last.state)) return last;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`CUPS job ${id} did not end in ${timeoutMs} ms (last: ${JSON.stringify(last)}); log tail:\n${this.log().split("\n").filter((l) => l.includes(`[Job ${id}]`) && !l.startsWith("D")).slice(-20).join("\n")}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
