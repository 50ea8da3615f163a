import test from "ava";
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { Printer } from "../modules/printer/printer.js";
import { nodeHal } from "../hosts/node/hal.js";
import { get } from "./helpers/client.js";
import { debianPythonHas, run, which } from "./helpers/peers.js";
import { discover } from "../tools/client/discover.js";
import { privetTxt } from "../modules/privet/info.js";

// Discovery on loopback against real resolvers. These run one at a time, and
// no other test file starts an mDNS printer: a unicast query to
// 127.0.0.1:5353 reaches only one of the sockets sharing that port.
const here = path.dirname(fileURLToPath(import.meta.url));
const browseScript = path.join(here, "..", "..", "tests", "peers", "zeroconf_browse.py");
const servicesScript = path.join(here, "..", "..", "tests", "peers", "zeroconf_services.py");
const hasZeroconf = debianPythonHas("zeroconf");
const dig = which("dig");

async function startPrinter(name: string) {
  const printer = new Printer(nodeHal({ mdnsInterface: "127.0.0.1", log: () => {} }), { port: 0, name, description: "interop test" });
  const startedAt = performance.now();
  const port = await printer.start();
  return { printer, port, startedAt };
}

function txtFromInfo(info: any): Record<string, string> {
  return { txtvers: "1", ty: info.name, note: info.description, url: info.url, type: info.type.join(","), id: info.id, cs: info.connection_state };
}

(hasZeroconf ? test.serial : test.skip)(`python3-zeroconf browses _privet._tcp and _printer._sub on loopback and resolves SRV, TXT and A${hasZeroconf ? "" : " (skipped: Debian's python3-zeroconf is not installed)"}`, async (t) => {
  const name = `Zeroconf Printer ${process.pid}`;
  const { printer, port, startedAt } = await startPrinter(name);
  try {
    const browse = await run("/usr/bin/python3", [browseScript, "127.0.0.1", name, "10"], 20_000);
    const resolvedAt = performance.now();
    t.is(browse.code, 0, browse.stderr);
    const result = JSON.parse(browse.stdout);
    const info = JSON.parse((await get(port, "/privet/info", { "X-Privet-Token": "\"\"" })).body);
    for (const type of ["_privet._tcp.local.", "_printer._sub._privet._tcp.local."]) {
      const found = result.types[type];
      t.truthy(found, `${type} found`);
      t.true(found.resolved, `${type} resolved`);
      t.is(found.name, `${name}._privet._tcp.local.`);
      t.is(found.server, `${printer.mdns!.hostName}.local.`);
      t.is(found.port, port);
      t.deepEqual(found.addresses, ["127.0.0.1"]);
      t.deepEqual(found.txt, txtFromInfo(info), "TXT says what /privet/info says");
      t.is(found.txt_order[0], "txtvers", "txtvers comes first");
    }
    t.log(`time from start until python3-zeroconf resolved: ${Math.round(resolvedAt - startedAt)} ms (zeroconf's own browse: ${Math.round(result.elapsed_s * 1000)} ms after its start)`);
  } finally {
    await printer.stop();
  }
});

(dig ? test.serial : test.skip)(`dig -p 5353 @127.0.0.1 gets a well-formed unicast answer${dig ? "" : " (skipped: dig (dnsutils) is not installed)"}`, async (t) => {
  const name = `Dig Printer ${process.pid}`;
  const { printer, port } = await startPrinter(name);
  try {
    // Probing and the first announcement take under a second.
    await new Promise((r) => setTimeout(r, 1200));
    const escaped = name.replace(/ /g, "\\032");
    const out = await run(dig!, ["-p", "5353", "@127.0.0.1", "_privet._tcp.local", "PTR", "+time=2", "+tries=2"], 15_000);
    t.is(out.code, 0, out.stderr);
    t.regex(out.stdout, /status: NOERROR/);
    t.regex(out.stdout, /flags: qr aa;/);
    t.notRegex(out.stdout, /ID mismatch|WARNING: Message has/);
    t.true(out.stdout.includes(`_privet._tcp.local.\t10\tIN\tPTR\t${escaped}._privet._tcp.local.`), `dig said: ${out.stdout}`);
    // dig separates columns with tabs or spaces depending on the name's length.
    t.regex(out.stdout, new RegExp(`\\sIN\\s+SRV\\s+0 0 ${port} ${printer.mdns!.hostName}\\.local\\.`));
    t.regex(out.stdout, new RegExp(`\\sIN\\s+TXT\\s+"txtvers=1" "ty=${name}" "note=interop test" "url=" "type=printer" "id=" "cs=not-configured"`));
    t.regex(out.stdout, /\sIN\s+A\s+127\.0\.0\.1/);
    const txt = await run(dig!, ["-p", "5353", "@127.0.0.1", `${name}._privet._tcp.local`, "TXT", "+time=2", "+tries=2"], 15_000);
    t.regex(txt.stdout, /ANSWER: 1,/);
  } finally {
    await printer.stop();
  }
});

test.serial("the TXT record stays under 512 bytes and discovery stays quiet in the first 5 seconds", async (t) => {
  const { printer } = await startPrinter(`Quiet Printer ${process.pid}`);
  try {
    const txtBytes = privetTxt(printer.device).reduce((n, [k, v]) => n + 1 + Buffer.byteLength(`${k}=${v}`), 0);
    t.true(txtBytes < 512, `${txtBytes} bytes`);
    await new Promise((r) => setTimeout(r, 5000));
    const sent = printer.mdns!.packetsSent;
    // 3 probes and 2 announcements, plus answers to whatever other tests asked meanwhile.
    t.true(sent >= 5 && sent <= 40, `${sent} packets`);
    t.log(`TXT record: ${txtBytes} bytes; packets sent in the first 5 s: ${sent}`);
  } finally {
    await printer.stop();
  }
});

test.serial("the reference client's discover finds the printer over mDNS with its address, port and TXT", async (t) => {
  const name = `Discoverable ${process.pid}`;
  const { printer: p, port } = await startPrinter(name);
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const found = (await discover({ timeoutMs: 1200 })).find((f) => f.instance === name);
    t.truthy(found);
    t.is(found!.port, port);
    t.is(found!.address, "127.0.0.1");
    t.like(found!.txt, { txtvers: "1", ty: name, type: "printer", id: "", cs: "not-configured" });
    const viaSubtype = (await discover({ timeoutMs: 900, subtype: true })).find((f) => f.instance === name);
    t.truthy(viaSubtype, "also under _printer._sub");
  } finally {
    await p.stop();
  }
});

// One JSON object per line from a child, each awaited with its own time limit.
function jsonLines(child: ChildProcess) {
  const queue: unknown[] = [];
  let waiting: ((value: unknown) => void) | undefined;
  let buffer = "", stderr = "";
  child.stderr?.on("data", (c) => (stderr += c));
  child.stdout?.on("data", (chunk) => {
    buffer += chunk;
    for (let newline = buffer.indexOf("\n"); newline >= 0; newline = buffer.indexOf("\n")) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line.trim() === "") continue;
      const value = JSON.parse(line);
      if (waiting) { waiting(value); waiting = undefined; } else queue.push(value);
    }
  });
  return {
    next(ms: number): Promise<any> {
      if (queue.length > 0) return Promise.resolve(queue.shift());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line from the peer in ${ms} ms: ${stderr}`)), ms);
        waiting = (value) => { clearTimeout(timer); resolve(value); };
      });
    },
  };
}

(hasZeroconf ? test.serial : test.skip)(`python3-zeroconf resolves three services on one host (_privet._tcp, the printer's _ipp._tcp and a third front end's _http._tcp, subtypes and TXT), and a withdrawn one says goodbye alone${hasZeroconf ? "" : " (skipped: Debian's python3-zeroconf is not installed)"}`, async (t) => {
  const name = `Two Services ${process.pid}`;
  const { printer, port } = await startPrinter(name);
  const types = ["_privet._tcp.local.", "_printer._sub._privet._tcp.local.", "_ipp._tcp.local.", "_print._sub._ipp._tcp.local.", "_universal._sub._ipp._tcp.local.", "_http._tcp.local.", "_printer._sub._http._tcp.local."];
  const httpTxt: Array<[string, string]> = [["txtvers", "1"], ["ty", name], ["path", "/"]];
  let peer: ChildProcess | undefined;
  try {
    // The third service arrives once Privet's is announced, as a front end
    // that starts later would add it: it is probed on its own.
    for (let i = 0; i < 50 && printer.mdns!.services[0].state !== "ready"; i++) await new Promise((r) => setTimeout(r, 100));
    t.is(printer.mdns!.services[0].state, "ready");
    const packetsBefore = printer.mdns!.packetsSent;
    const addedAt = Date.now();
    const withdraw = printer.publish({ instance: name, type: "_http._tcp", subtypes: ["_printer"], port, txt: httpTxt });
    peer = spawn("/usr/bin/python3", [servicesScript, "127.0.0.1", name, "15", ...types, "--until-removed", "_http._tcp.local."], { stdio: ["ignore", "pipe", "pipe"] });
    const lines = jsonLines(peer);
    const resolved = await lines.next(25_000);
    const packetsToResolve = printer.mdns!.packetsSent - packetsBefore;
    const info = JSON.parse((await get(port, "/privet/info", { "X-Privet-Token": "\"\"" })).body);
    for (const type of types) {
      const found = resolved.types[type];
      const main = type.includes("._sub.") ? type.split("._sub.")[1] : type;
      t.truthy(found, `${type} found`);
      t.true(found.resolved, `${type} resolved`);
      t.is(found.name, `${name}.${main}`);
      t.is(found.server, `${printer.mdns!.hostName}.local.`);
      t.is(found.port, port);
      t.deepEqual(found.addresses, ["127.0.0.1"]);
      const uuid = (info.serial_number as string).toLowerCase();
      const ippTxt = {
        txtvers: "1", qtotal: "1", rp: "ipp/print", ty: `${info.manufacturer} ${info.model}`, adminurl: `http://${printer.mdns!.hostName}.local:${port}/`,
        note: "", priority: "50", product: `(${info.model})`, pdl: "image/pwg-raster,image/jpeg,image/urf", kind: "document", UUID: uuid, Color: "T", Duplex: "F",
        usb_MFG: info.manufacturer, usb_MDL: info.model,
        URF: "V1.4,CP1,PQ3-4-5,RS150-300-600,W8,SRGB24", air: "none", PaperMax: "<legal-A4", Copies: "F", Scan: "F", Fax: "F",
      };
      t.deepEqual(found.txt, main === "_http._tcp.local." ? Object.fromEntries(httpTxt) : main === "_ipp._tcp.local." ? ippTxt : txtFromInfo(info));
    }
    t.true(["_privet._tcp.local.", "_ipp._tcp.local.", "_http._tcp.local."].every((type) => resolved.service_types.includes(type)), `_services listed ${resolved.service_types}`);

    withdraw();
    const removed = await lines.next(25_000);
    t.deepEqual(removed.types["_http._tcp.local."], [`${name}._http._tcp.local.`]);
    t.deepEqual(removed.types["_printer._sub._http._tcp.local."], [`${name}._http._tcp.local.`]);
    t.deepEqual(removed.types["_privet._tcp.local."], [], "Privet is not said goodbye to");
    t.deepEqual(removed.types["_printer._sub._privet._tcp.local."], []);
    t.deepEqual(removed.types["_ipp._tcp.local."], [], "nor IPP");
    t.is(printer.mdns!.services.length, 2);
    t.log(`third service: every type resolved by python3-zeroconf ${Math.round(resolved.resolved_wall_ms - addedAt)} ms after it was added (${Math.round(resolved.elapsed_s * 1000)} ms after the peer started); ${packetsToResolve} packets sent by the printer until the peer had also listed _services`);
  } finally {
    if (peer && peer.exitCode === null && peer.signalCode === null) peer.kill("SIGTERM");
    await printer.stop();
  }
});
