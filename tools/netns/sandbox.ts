import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import * as path from "node:path";

// Network namespaces with a private D-Bus and avahi-daemon inside, so real
// mDNS peers (avahi-browse, CUPS's ippeveprinter) can run without touching a
// real interface or a system avahi. Root only; every process started here is
// stopped by PID.

export function sh(args: string[]): boolean {
  return spawnSync(args[0], args.slice(1), { stdio: "ignore" }).status === 0;
}

function which(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;
}

// Why namespaces with avahi cannot be had here, or "" when they can.
export function sandboxUnavailable(tag: string): string {
  if (process.getuid?.() !== 0) return "network namespaces need root";
  for (const tool of ["ip", "avahi-daemon", "dbus-daemon", "unshare"]) if (!which(tool)) return `${tool} is not installed`;
  const probe = `pvx${tag}`;
  if (!sh(["ip", "netns", "add", probe])) return "this machine does not allow creating network namespaces";
  sh(["ip", "netns", "del", probe]);
  return "";
}

export function waitForOutput(child: ChildProcess, pattern: RegExp, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}: ${seen}`)), ms);
    const look = (c: Buffer) => {
      seen += c;
      if (pattern.test(seen)) { clearTimeout(timer); resolve(seen); }
    };
    child.stdout?.on("data", look);
    child.stderr?.on("data", look);
    child.on("exit", () => { clearTimeout(timer); reject(new Error(`exited: ${seen}`)); });
  });
}

export class Sandbox {
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly pids: number[] = [];
  // The environment that points D-Bus clients at the private bus.
  env: NodeJS.ProcessEnv = process.env;

  constructor(readonly dir: string) {}

  addNamespace(name: string): boolean {
    if (!sh(["ip", "netns", "add", name])) return false;
    this.namespaces.push(name);
    return sh(["ip", "-n", name, "link", "set", "lo", "up"]);
  }

  // A veth pair between two namespaces, each end with an address.
  link(a: { ns: string; ifname: string; address: string }, b: { ns: string; ifname: string; address: string }): boolean {
    return [
      ["ip", "link", "add", a.ifname, "type", "veth", "peer", "name", b.ifname],
      ["ip", "link", "set", a.ifname, "netns", a.ns], ["ip", "link", "set", b.ifname, "netns", b.ns],
      ["ip", "-n", a.ns, "addr", "add", a.address, "dev", a.ifname], ["ip", "-n", b.ns, "addr", "add", b.address, "dev", b.ifname],
      ["ip", "-n", a.ns, "link", "set", a.ifname, "up"], ["ip", "-n", b.ns, "link", "set", b.ifname, "up"],
    ].every(sh);
  }

  // A private system bus and avahi-daemon inside ns (on allowInterface only, if given).
  async startAvahi(ns: string, allowInterface?: string): Promise<void> {
    const bus = path.join(this.dir, "bus");
    writeFileSync(path.join(this.dir, "bus.conf"), `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=${bus}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/></policy></busconfig>\n`);
    writeFileSync(path.join(this.dir, "avahi.conf"), `[server]\nuse-ipv4=yes\nuse-ipv6=no\n${allowInterface ? `allow-interfaces=${allowInterface}\n` : ""}enable-dbus=yes\n[wide-area]\nenable-wide-area=no\n[publish]\npublish-hinfo=no\npublish-workstation=no\n`);
    const dbus = spawnSync("ip", ["netns", "exec", ns, "dbus-daemon", `--config-file=${path.join(this.dir, "bus.conf")}`, "--fork", "--print-pid"], { encoding: "utf8" });
    const pid = Number(dbus.stdout.trim());
    if (!(pid > 0)) throw new Error(`dbus-daemon did not start: ${dbus.stderr}`);
    this.pids.push(pid);
    this.env = { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${bus}` };
    // A private /run/avahi-daemon, so a system avahi (if any) and this one do not share a pid file.
    const avahi = this.spawn(["ip", "netns", "exec", ns, "unshare", "-m", "--propagation", "private", "sh", "-c",
      `mkdir -p /run/avahi-daemon && mount -t tmpfs none /run/avahi-daemon && exec avahi-daemon --no-drop-root --no-chroot --no-rlimits -f ${path.join(this.dir, "avahi.conf")}`]);
    await waitForOutput(avahi, /Server startup complete/, 15_000);
  }

  // Starts a process that is stopped with the sandbox.
  spawn(args: string[]): ChildProcess {
    const child = spawn(args[0], args.slice(1), { env: this.env, stdio: ["ignore", "pipe", "pipe"] });
    this.children.push(child);
    return child;
  }

  async stop(): Promise<void> {
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    for (const pid of this.pids) try { process.kill(pid, "SIGTERM"); } catch { /* already gone */ }
    await new Promise((r) => setTimeout(r, 300));
    for (const ns of this.namespaces) sh(["ip", "netns", "del", ns]);
  }
}
