import * as net from "node:net";

export interface RawResponse { status: number; reason: string; headers: Record<string, string>; body: string }

// A minimal HTTP/1.1 exchange over a raw socket, so tests see exactly what the
// device put on the wire (reason phrases included).
// The bound is generous: on a loaded CI machine, with other test files
// running beside this one, an answer can take seconds (one at 5 s timed out
// there); a test that wants "no answer" passes its own.
export function rawRequest(port: number, request: string | Uint8Array, timeoutMs = 30_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => { socket.destroy(); reject(new Error("timed out")); }, timeoutMs);
    socket.on("data", (c) => {
      chunks.push(c);
      const parsed = tryParse(Buffer.concat(chunks));
      if (parsed) { clearTimeout(timer); socket.destroy(); resolve(parsed); }
    });
    socket.on("error", (e) => { clearTimeout(timer); reject(e); });
    socket.on("close", () => {
      clearTimeout(timer);
      const parsed = tryParse(Buffer.concat(chunks));
      if (parsed) resolve(parsed);
      else reject(new Error(`closed without a full response: ${Buffer.concat(chunks).toString("latin1")}`));
    });
    socket.write(request);
  });
}

function tryParse(data: Buffer): RawResponse | undefined {
  const end = data.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const lines = data.subarray(0, end).toString("latin1").split("\r\n");
  const match = /^HTTP\/1\.1 (\d{3}) (.*)$/.exec(lines[0]);
  if (!match) throw new Error(`bad status line ${lines[0]}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers["content-length"] ?? 0);
  if (data.length < end + 4 + length) return undefined;
  return { status: Number(match[1]), reason: match[2], headers, body: data.subarray(end + 4, end + 4 + length).toString("utf8") };
}

export function get(port: number, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  let text = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`;
  for (const [name, value] of Object.entries(headers)) text += `${name}: ${value}\r\n`;
  return rawRequest(port, text + "\r\n");
}

// Sends request (or nothing) on a new connection and gives all that came back
// once it closes: by the printer, or by this end after ms (a client that
// leaves mid-request or without a word).
export function closeAfter(port: number, request: string, ms = 0): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let text = "";
    socket.on("data", (c) => (text += c.toString("latin1")));
    socket.on("error", () => resolve(text));
    socket.on("close", () => resolve(text));
    if (request) socket.write(request);
    if (ms) setTimeout(() => socket.destroy(), ms);
  });
}
