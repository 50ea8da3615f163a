import * as dgram from "node:dgram";
import { decodeMessage, encodeMessage, TYPE_A, TYPE_PTR, TYPE_SRV, TYPE_TXT, type ResourceRecord } from "../../modules/dns/message.js";

// Finds Privet printers with one legacy-unicast mDNS query (RFC 6762 6.7):
// sent to the group from an ordinary port, so every responder (ours, avahi)
// answers this socket directly with the PTR and its SRV, TXT and A.

export interface FoundPrinter {
  instance: string;
  host: string;
  address: string;
  port: number;
  txt: Record<string, string>;
}

const SERVICE = ["_privet", "_tcp", "local"];

export async function discover(options: { interfaceAddress?: string; timeoutMs?: number; subtype?: boolean; until?: (found: FoundPrinter[]) => boolean } = {}): Promise<FoundPrinter[]> {
  const interfaceAddress = options.interfaceAddress ?? "127.0.0.1";
  const records: ResourceRecord[] = [];
  const socket = dgram.createSocket({ type: "udp4" });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, "0.0.0.0", () => resolve());
  });
  socket.setMulticastInterface(interfaceAddress);
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  socket.on("message", (bytes) => {
    try {
      const message = decodeMessage(bytes);
      records.push(...message.answers, ...message.additionals);
    } catch { /* not a DNS answer we can read; ignore it */ }
    // A caller waiting for one printer can stop as soon as it shows up.
    if (options.until?.(assemble(records))) finish();
  });
  const question = options.subtype ? ["_printer", "_sub", ...SERVICE] : SERVICE;
  const query = encodeMessage({ id: 1 + Math.floor(Math.random() * 65000), flags: 0, questions: [{ name: question, type: TYPE_PTR, unicastResponse: false }], answers: [], authorities: [], additionals: [] });
  const timeout = options.timeoutMs ?? 1500;
  // Ask three times within the window (one UDP packet may be lost), or every
  // 100 ms when waiting for a printer that may still be starting.
  const times = options.until ? Array.from({ length: Math.ceil(timeout / 100) }, (_, i) => i * 100) : [0, timeout / 3, (2 * timeout) / 3];
  const timers = times.map((at) => setTimeout(() => socket.send(query, 5353, "224.0.0.251"), at));
  const limit = setTimeout(finish, timeout);
  await finished;
  clearTimeout(limit);
  for (const timer of timers) clearTimeout(timer);
  socket.close();
  return assemble(records);
}

const key = (name: string[]) => name.join(".").toLowerCase();

function assemble(records: ResourceRecord[]): FoundPrinter[] {
  const found = new Map<string, FoundPrinter>();
  for (const ptr of records) {
    if (ptr.type !== TYPE_PTR || ptr.data.kind !== "ptr" || ptr.ttl === 0) continue;
    const instanceName = ptr.data.target;
    if (key(instanceName.slice(1)) !== key(SERVICE)) continue;
    const srv = records.find((r) => r.type === TYPE_SRV && key(r.name) === key(instanceName));
    const txt = records.find((r) => r.type === TYPE_TXT && key(r.name) === key(instanceName));
    if (!srv || srv.data.kind !== "srv") continue;
    const target = srv.data.target;
    const a = records.find((r) => r.type === TYPE_A && key(r.name) === key(target));
    const pairs: Record<string, string> = {};
    if (txt && txt.data.kind === "txt") {
      for (const s of txt.data.strings) {
        const text = Buffer.from(s).toString("utf8");
        const eq = text.indexOf("=");
        pairs[(eq < 0 ? text : text.slice(0, eq)).toLowerCase()] = eq < 0 ? "" : text.slice(eq + 1);
      }
    }
    found.set(key(instanceName), {
      instance: instanceName[0],
      host: target.join("."),
      address: a && a.data.kind === "a" ? Array.from(a.data.address).join(".") : target.join("."),
      port: srv.data.port,
      txt: pairs,
    });
  }
  return [...found.values()].sort((x, y) => x.instance.localeCompare(y.instance));
}
