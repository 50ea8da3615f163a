import test from "ava";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { run, which } from "./helpers/peers.js";

// avahi resolves the printer across a veth link between two network
// namespaces this test makes: the printer in one, avahi-daemon (on a private
// D-Bus) and avahi-browse in the other. Nothing touches a real interface.
const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "hosts", "node", "cli.js");
const tag = String(process.pid % 100000);
const DEV = `pvd${tag}`, PEER = `pvp${tag}`;
const DEV_IF = `pvd${tag}i`, PEER_IF = `pvp${tag}i`;
const DEV_ADDR = "169.254.77.1", PEER_ADDR = "169.254.77.2";

function sh(args: string[]): boolean {
  return spawnSync(args[0], args.slice(1), { stdio: "ignore" }).status === 0;
}

function whyNot(): string {
  if (process.getuid?.() !== 0) return "network namespaces need root";
  for (const tool of ["ip", "avahi-daemon", "avahi-browse", "dbus-daemon", "unshare"]) if (!which(tool)) return `${tool} is not installed`;
  const probe = `pvx${tag}`;
  if (!sh(["ip", "netns", "add", probe])) return "this machine does not allow creating network namespaces";
  sh(["ip", "netns", "del", probe]);
  return "";
}
const missing = whyNot();

function waitFor(child: ChildProcess, pattern: RegExp, ms: number): Promise<string> {
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

function browseLines(stdout: string, name: string): string[][] {
  return stdout.split("\n").filter((l) => l.startsWith("=;")).map((l) => l.split(";")).filter((f) => f[3] === name.replace(/ /g, "\\032"));
}

(missing ? test.skip : test)(`avahi-browse resolves the printer inside a network namespace${missing ? ` (skipped: ${missing})` : ""}`, async (t) => {
  t.timeout(90_000);
  const dir = mkdtempSync(path.join(tmpdir(), "privet-avahi-"));
  const bus = path.join(dir, "bus");
  writeFileSync(path.join(dir, "bus.conf"), `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=${bus}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/></policy></busconfig>\n`);
  writeFileSync(path.join(dir, "avahi.conf"), `[server]\nuse-ipv4=yes\nuse-ipv6=no\nallow-interfaces=${PEER_IF}\nenable-dbus=yes\n[wide-area]\nenable-wide-area=no\n[publish]\npublish-hinfo=no\npublish-workstation=no\n`);
  const children: ChildProcess[] = [];
  let dbusPid = 0;
  const env = { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${bus}` };
  try {
    for (const command of [
      ["ip", "netns", "add", DEV], ["ip", "netns", "add", PEER],
      ["ip", "link", "add", DEV_IF, "type", "veth", "peer", "name", PEER_IF],
      ["ip", "link", "set", DEV_IF, "netns", DEV], ["ip", "link", "set", PEER_IF, "netns", PEER],
      ["ip", "-n", DEV, "addr", "add", `${DEV_ADDR}/16`, "dev", DEV_IF], ["ip", "-n", PEER, "addr", "add", `${PEER_ADDR}/16`, "dev", PEER_IF],
      ["ip", "-n", DEV, "link", "set", DEV_IF, "up"], ["ip", "-n", PEER, "link", "set", PEER_IF, "up"],
      ["ip", "-n", DEV, "link", "set", "lo", "up"], ["ip", "-n", PEER, "link", "set", "lo", "up"],
    ]) t.true(sh(command), command.join(" "));

    const dbus = spawnSync("ip", ["netns", "exec", PEER, "dbus-daemon", `--config-file=${path.join(dir, "bus.conf")}`, "--fork", "--print-pid"], { encoding: "utf8" });
    dbusPid = Number(dbus.stdout.trim());
    t.true(dbusPid > 0, dbus.stderr);
    // A private /run/avahi-daemon, so a system avahi (if any) and this one do not share a pid file.
    const avahi = spawn("ip", ["netns", "exec", PEER, "unshare", "-m", "--propagation", "private", "sh", "-c",
      `mount -t tmpfs none /run/avahi-daemon 2>/dev/null || { mkdir -p /run/avahi-daemon && mount -t tmpfs none /run/avahi-daemon; }; exec avahi-daemon --no-drop-root --no-chroot --no-rlimits -f ${path.join(dir, "avahi.conf")}`],
      { env, stdio: ["ignore", "pipe", "pipe"] });
    children.push(avahi);
    await waitFor(avahi, /Server startup complete/, 15_000);

    const name = `Avahi Printer ${tag}`;
    const printer = spawn("ip", ["netns", "exec", DEV, process.execPath, cli, "--port", "8631", "--host", DEV_ADDR, "--mdns-interface", DEV_ADDR,
      "--name", name, "--state-dir", path.join(dir, "state")], { stdio: ["ignore", "pipe", "pipe"] });
    children.push(printer);
    await waitFor(printer, /is ours; announcing/, 15_000);

    for (const type of ["_privet._tcp", "_printer._sub._privet._tcp"]) {
      const browse = await run("ip", ["netns", "exec", PEER, "avahi-browse", "-rtp", type], 20_000, env);
      const lines = browseLines(browse.stdout, name);
      t.true(lines.length >= 1, `${type}: ${browse.stdout} ${browse.stderr}`);
      const [, iface, proto, , serviceType, domain, host, address, port, txt] = lines[0];
      t.is(iface, PEER_IF);
      t.is(proto, "IPv4");
      t.is(serviceType, "_privet._tcp");
      t.is(domain, "local");
      t.regex(host, /^privet-printer-[0-9a-f]{8}\.local$/);
      t.is(address, DEV_ADDR);
      t.is(port, "8631");
      // avahi prints TXT strings last-first; compare as a set.
      t.deepEqual(txt.match(/"[^"]*"/g)!.sort(), [`"cs=not-configured"`, `"id="`, `"txtvers=1"`, `"type=printer"`, `"ty=${name}"`, `"url="`].sort());
    }

    // A clean shutdown says goodbye, and avahi forgets the printer.
    printer.kill("SIGTERM");
    await new Promise((r) => printer.on("exit", r));
    // A cache drops a record one second after its goodbye (RFC 6762 10.1).
    await new Promise((r) => setTimeout(r, 1500));
    const after = await run("ip", ["netns", "exec", PEER, "avahi-browse", "-rtp", "_privet._tcp"], 20_000, env);
    t.is(browseLines(after.stdout, name).length, 0, after.stdout);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
    if (dbusPid > 0) try { process.kill(dbusPid, "SIGTERM"); } catch {}
    await new Promise((r) => setTimeout(r, 300));
    sh(["ip", "netns", "del", DEV]);
    sh(["ip", "netns", "del", PEER]);
  }
});
