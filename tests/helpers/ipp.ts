import * as http from "node:http";
import { decodeMessage } from "../../modules/ipp-codec/decode.js";
import { encodeMessage } from "../../modules/ipp-codec/encode.js";
import {
  GroupTag, attr, charset, find, language, uri, type IppAttribute, type IppGroup, type IppMessage, type IppValue,
} from "../../modules/ipp-codec/values.js";

// IPP requests as a client sends them: the message built from attributes,
// posted with node:http (Content-Length, or chunked when asked), the
// document after it in the same body, the answer decoded.

let nextRequestId = 1;

export function ippRequest(operation: number, port: number, operationAttributes: IppAttribute[] = [], jobAttributes: IppAttribute[] = []): IppMessage {
  const groups: IppGroup[] = [{
    tag: GroupTag.operation,
    attributes: [
      attr("attributes-charset", charset("utf-8")),
      attr("attributes-natural-language", language("en")),
      attr("printer-uri", uri(`ipp://127.0.0.1:${port}/ipp/print`)),
      ...operationAttributes,
    ],
  }];
  if (jobAttributes.length > 0) groups.push({ tag: GroupTag.job, attributes: jobAttributes });
  return { major: 2, minor: 0, code: operation, requestId: nextRequestId++, groups };
}

export interface PostOptions {
  chunked?: boolean;
  // Document pieces written one after another (chunked sends each as a chunk).
  pieces?: Uint8Array[];
  timeoutMs?: number;
}

export function postIpp(port: number, body: Uint8Array, options: PostOptions = {}): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { "Content-Type": "application/ipp" };
    const total = body.length + (options.pieces ?? []).reduce((n, p) => n + p.length, 0);
    if (!options.chunked) headers["Content-Length"] = total;
    const request = http.request({ host: "127.0.0.1", port, method: "POST", path: "/ipp/print", headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (c: Buffer) => chunks.push(c));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
      response.on("error", reject);
    });
    request.setTimeout(options.timeoutMs ?? 20_000, () => request.destroy(new Error("timed out")));
    request.on("error", reject);
    request.write(body);
    for (const piece of options.pieces ?? []) request.write(piece);
    request.end();
  });
}

export async function send(port: number, message: IppMessage, document?: Uint8Array, options: PostOptions = {}): Promise<IppMessage> {
  const head = encodeMessage(message);
  const pieces = document ? [document, ...(options.pieces ?? [])] : options.pieces;
  const answer = await postIpp(port, head, { ...options, pieces });
  if (answer.status !== 200) throw new Error(`HTTP ${answer.status}: ${answer.body.toString()}`);
  return decodeMessage(new Uint8Array(answer.body)).message;
}

export function group(message: IppMessage, tag: number, index = 0): IppGroup | undefined {
  return message.groups.filter((g) => g.tag === tag)[index];
}

// The plain values of an attribute (strings, numbers, booleans), for assertions.
export function values(message: IppMessage, tag: number, attrName: string, index = 0): unknown[] {
  const attribute = find(group(message, tag, index), attrName);
  return attribute ? attribute.values.map(plain) : [];
}

function plain(value: IppValue): unknown {
  switch (value.kind) {
    case "none": return null;
    case "integer": case "boolean": case "string": case "language": return value.value;
    case "octets": return Buffer.from(value.value).toString("latin1");
    case "resolution": return `${value.x}x${value.y}`;
    case "range": return `${value.lower}-${value.upper}`;
    case "collection": return Object.fromEntries(value.members.map((m) => [m.name, m.values.map(plain)]));
  }
}

export const statusName = (message: IppMessage) => `0x${message.code.toString(16).padStart(4, "0")}`;

export { mutate } from "./ipp-mutate.js";
