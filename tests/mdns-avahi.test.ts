import test from "ava";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Sandbox, sandboxUnavailable, waitForOutput } from "../tools/netns/sandbox.js";
import { run, which } from "./helpers/peers.js";

// avahi resolves the printer across a veth link between two network
// namespaces this test makes: the printer in one, avahi-daemon (on a private
// D-Bus) and avahi-browse in the other. Nothing touches a real interface.
const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "hosts", "node", "cli.js");
const tag = String(process.pid % 100000);
const DEV = `pvd${tag}`, PEER = `pvp${tag}`;
const DEV_ADDR = "169.254.77.1";
const missing = which("avahi-browse") ? sandboxUnavailable(tag) : "avahi-browse (avahi-utils) is not installed";

function browseLines(stdout: string, name: string): string[][] {
  return stdout.split("\n").filter((l) => l.startsWith("=;")).map((l) => l.split(";")).filter((f) => f[3] === name.replace(/ /g, "\\032"));
}

(missing ? test.skip : test)(`avahi-browse resolves the printer inside a network namespace${missing ? ` (skipped: ${missing})` : ""}`, async (t) => {
  t.timeout(90_000);
  const sandbox = new Sandbox(mkdtempSync(path.join(tmpdir(), "privet-avahi-")));
  try {
    t.true(sandbox.addNamespace(DEV) && sandbox.addNamespace(PEER));
    t.true(sandbox.link({ ns: DEV, ifname: `${DEV}i`, address: `${DEV_ADDR}/16` }, { ns: PEER, ifname: `${PEER}i`, address: "169.254.77.2/16" }));
    await sandbox.startAvahi(PEER, `${PEER}i`);

    const name = `Avahi Printer ${tag}`;
    const printer = sandbox.spawn(["ip", "netns", "exec", DEV, process.execPath, cli, "--port", "8631", "--host", DEV_ADDR, "--mdns-interface", DEV_ADDR,
      "--name", name, "--state-dir", path.join(sandbox.dir, "state"), "--out", path.join(sandbox.dir, "out")]);
    await waitForOutput(printer, /is ours; announcing/, 15_000);

    for (const type of ["_privet._tcp", "_printer._sub._privet._tcp"]) {
      const browse = await run("ip", ["netns", "exec", PEER, "avahi-browse", "-rtp", type], 20_000, sandbox.env);
      const lines = browseLines(browse.stdout, name);
      t.true(lines.length >= 1, `${type}: ${browse.stdout} ${browse.stderr}`);
      const [, iface, proto, , serviceType, domain, host, address, port, txt] = lines[0];
      t.is(iface, `${PEER}i`);
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
    const after = await run("ip", ["netns", "exec", PEER, "avahi-browse", "-rtp", "_privet._tcp"], 20_000, sandbox.env);
    t.is(browseLines(after.stdout, name).length, 0, after.stdout);
  } finally {
    await sandbox.stop();
  }
});
