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
const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "tools", "launcher", "start.js");
const twoServicePrinter = path.join(path.dirname(fileURLToPath(import.meta.url)), "helpers", "two-service-printer.js");
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
    const printer = sandbox.spawn(["ip", "netns", "exec", DEV, process.execPath, cli, "--port", "8631", "--no-cloud", "--host", DEV_ADDR, "--mdns-interface", DEV_ADDR,
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

// Its own namespaces and addresses, so it cannot meet the test above.
const DEV2 = `pv2d${tag}`, PEER2 = `pv2p${tag}`;
const DEV2_ADDR = "169.254.78.1";

(missing ? test.skip : test.serial)(`avahi-browse and ippfind resolve two services of one host, _privet._tcp and _ipp._tcp with their subtypes, inside a network namespace${missing ? ` (skipped: ${missing})` : ""}`, async (t) => {
  t.timeout(90_000);
  const sandbox = new Sandbox(mkdtempSync(path.join(tmpdir(), "privet-avahi2-")));
  try {
    t.true(sandbox.addNamespace(DEV2) && sandbox.addNamespace(PEER2));
    t.true(sandbox.link({ ns: DEV2, ifname: `${DEV2}i`, address: `${DEV2_ADDR}/16` }, { ns: PEER2, ifname: `${PEER2}i`, address: "169.254.78.2/16" }));
    await sandbox.startAvahi(PEER2, `${PEER2}i`);

    const name = `Avahi Two ${tag}`;
    const startedAt = Date.now();
    const printer = sandbox.spawn(["ip", "netns", "exec", DEV2, process.execPath, twoServicePrinter, DEV2_ADDR, name, "8631", path.join(sandbox.dir, "state")]);
    await waitForOutput(printer, /_ipp\._tcp\.local" on .* is ours; announcing/, 15_000);
    const announcedAt = Date.now();
    const browseMs: number[] = [];
    const hosts = new Set<string>();
    const expected: Record<string, { type: string; txt: string[] }> = {
      "_privet._tcp": { type: "_privet._tcp", txt: [`"cs=not-configured"`, `"id="`, `"txtvers=1"`, `"type=printer"`, `"ty=${name}"`, `"url="`] },
      "_printer._sub._privet._tcp": { type: "_privet._tcp", txt: [] },
      // UUID and adminurl depend on the serial number; they are checked below.
      "_ipp._tcp": { type: "_ipp._tcp", txt: [`"txtvers=1"`, `"qtotal=1"`, `"rp=ipp/print"`, `"ty=Privet Printer Firmware ESP32 PWG Printer"`, `"adminurl=*"`, `"note="`,
        `"priority=50"`, `"product=(ESP32 PWG Printer)"`, `"pdl=image/pwg-raster,image/jpeg,image/urf"`, `"kind=document"`, `"UUID=*"`, `"Color=T"`, `"Duplex=F"`,
        `"usb_MFG=Privet Printer Firmware"`, `"usb_MDL=ESP32 PWG Printer"`,
        `"URF=V1.4,CP1,PQ3-4-5,RS150-300-600,W8,SRGB24"`, `"air=none"`, `"PaperMax=<legal-A4"`, `"Copies=F"`, `"Scan=F"`, `"Fax=F"`] },
      "_print._sub._ipp._tcp": { type: "_ipp._tcp", txt: [] },
      // AirPrint's subtype: iOS browses only this one.
      "_universal._sub._ipp._tcp": { type: "_ipp._tcp", txt: [] },
    };
    for (const [browsed, want] of Object.entries(expected)) {
      const browseStart = Date.now();
      const browse = await run("ip", ["netns", "exec", PEER2, "avahi-browse", "-rtpk", browsed], 20_000, sandbox.env);
      browseMs.push(Date.now() - browseStart);
      const lines = browseLines(browse.stdout, name);
      t.true(lines.length >= 1, `${browsed}: ${browse.stdout} ${browse.stderr}`);
      const [, , proto, , serviceType, domain, host, address, port, txt] = lines[0];
      t.is(proto, "IPv4");
      t.is(serviceType, want.type, browsed);
      t.is(domain, "local");
      t.is(address, DEV2_ADDR);
      t.is(port, "8631");
      hosts.add(host);
      const raw = txt.match(/"[^"]*"/g)!;
      const uuid = raw.find((s) => s.startsWith(`"UUID=`));
      if (uuid) t.regex(uuid, /^"UUID=[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"$/);
      const admin = raw.find((s) => s.startsWith(`"adminurl=`));
      if (admin) t.is(admin, `"adminurl=http://${host}:8631/"`);
      const strings = raw.map((s) => s.replace(/^"(UUID|adminurl)=.*"$/, `"$1=*"`)).sort();
      t.deepEqual(strings, [...(want.txt.length > 0 ? want.txt : expected[want.type].txt)].sort(), browsed);
    }
    t.is(hosts.size, 1, `one host for every service: ${[...hosts]}`);
    t.regex([...hosts][0], /^privet-printer-[0-9a-f]{8}\.local$/);
    // (-k: type names as on the wire, not avahi's descriptions.)
    // avahi-browse -a lists every type the host announced through _services._dns-sd._udp.
    const all = await run("ip", ["netns", "exec", PEER2, "avahi-browse", "-atpk"], 20_000, sandbox.env);
    const listed = new Set(all.stdout.split("\n").filter((l) => l.startsWith("+;")).map((l) => l.split(";")).filter((f) => f[3] === name.replace(/ /g, "\\032")).map((f) => f[4]));
    t.deepEqual([...listed].sort(), ["_ipp._tcp", "_privet._tcp"], all.stdout);
    // CUPS's ippfind finds the printer through avahi, as a driverless client would.
    const found = await run("ip", ["netns", "exec", PEER2, "ippfind", "-T", "5", "_ipp._tcp,_print", "--literal-name", name, "-p"], 20_000, sandbox.env);
    t.is(found.stdout.trim(), `ipp://${[...hosts][0]}:8631/ipp/print`, found.stderr);
    const airprint = await run("ip", ["netns", "exec", PEER2, "ippfind", "-T", "5", "_ipp._tcp,_universal", "--literal-name", name, "--txt-urf", "SRGB24", "-p"], 20_000, sandbox.env);
    t.is(airprint.stdout.trim(), `ipp://${[...hosts][0]}:8631/ipp/print`, airprint.stderr);
    const keys = await run("ip", ["netns", "exec", PEER2, "ippfind", "-T", "5", "_ipp._tcp", "--literal-name", name, "--txt-pdl", "pwg-raster", "--txt-rp", "^ipp/print$", "-s"], 20_000, sandbox.env);
    t.is(keys.stdout.trim(), name, keys.stderr);
    t.log(`printer process to both services announced: ${announcedAt - startedAt} ms; each avahi-browse -rt run (browse, resolve, exit): ${browseMs.join(", ")} ms`);

    printer.kill("SIGTERM");
    await new Promise((r) => printer.on("exit", r));
    await new Promise((r) => setTimeout(r, 1500));
    for (const type of ["_privet._tcp", "_ipp._tcp"]) {
      const after = await run("ip", ["netns", "exec", PEER2, "avahi-browse", "-rtpk", type], 20_000, sandbox.env);
      t.is(browseLines(after.stdout, name).length, 0, after.stdout);
    }
  } finally {
    await sandbox.stop();
  }
});
