import * as dgram from "node:dgram";
import { encodeReply } from "../../modules/sntp/packet.js";

// A small SNTP server on 127.0.0.1 whose answer the test chooses: the time it
// claims, nothing at all, garbage, or a kiss-o'-death.

export type SntpBehaviour = (request: Uint8Array) => Uint8Array | undefined;

export interface TestSntpServer {
  port: number;
  // Every request received, with when it came (Date.now()).
  requests: Array<{ at: number; bytes: Uint8Array }>;
  close(): Promise<void>;
}

export async function startSntpServer(behaviour: SntpBehaviour): Promise<TestSntpServer> {
  const socket = dgram.createSocket("udp4");
  const requests: TestSntpServer["requests"] = [];
  socket.on("message", (bytes, rinfo) => {
    requests.push({ at: Date.now(), bytes: Uint8Array.from(bytes) });
    const answer = behaviour(Uint8Array.from(bytes));
    if (answer) socket.send(answer, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return {
    port: socket.address().port,
    requests,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

// Answers as a stratum-2 server whose clock reads nowMs() (echoing the request's transmit timestamp).
export function answersWith(nowMs: () => number, fields: { stratum?: number; leap?: number; referenceId?: string; mode?: number } = {}): SntpBehaviour {
  return (request) => {
    if (request.length < 48) return undefined;
    const now = nowMs();
    return encodeReply({ ...fields, originate: request.subarray(40, 48), receiveMs: now, transmitMs: now });
  };
}
