import test from "ava";
import { spawnSync } from "node:child_process";
import * as http from "node:http";
import type * as net from "node:net";
import { nodeClock, nodeResolver, nodeTcp } from "../hosts/node/hal.js";
import { bytesSource, type BodySink, type BodySource } from "../modules/http/body.js";
import { HttpClient } from "../modules/http/client.js";
import { requestJson } from "../modules/http/collect.js";
import { multipartForm, urlEncodeForm, type MultipartPart } from "../modules/http/form.js";
import { SeededRandom } from "./helpers/seeded-random.js";

// The form encoders checked against real decoders: URLSearchParams for the
// urlencoded form, Python's email parser for multipart, and the bytes a
// node:http server receives through the client.

test("urlencoded: the same bytes URLSearchParams writes, and it decodes them back", (t) => {
  const random = new SeededRandom(5);
  const alphabet = ["a", "Z", "0", " ", "+", "&", "=", "%", "*", "-", ".", "_", "~", "/", "?", "#", "\"", "ü", "✓", "🖨", "\n", "\u0000", "\ud800"];
  for (let round = 0; round < 200; round++) {
    const fields: Array<[string, string]> = [];
    for (let f = 0; f < 1 + random.below(4); f++) {
      let name = "", value = "";
      for (let i = 0; i < random.below(8); i++) name += alphabet[random.below(alphabet.length)];
      for (let i = 0; i < random.below(12); i++) value += alphabet[random.below(alphabet.length)];
      fields.push([name, value]);
    }
    const ours = urlEncodeForm(fields);
    const theirs = new URLSearchParams(fields).toString();
    if (ours !== theirs) return t.fail(`round ${round}: ${ours} vs ${theirs}`);
    const decoded = [...new URLSearchParams(ours)];
    const expected = fields.map(([n, v]) => [n.replace(/\ud800/g, "\ufffd"), v.replace(/\ud800/g, "\ufffd")]);
    if (JSON.stringify(decoded) !== JSON.stringify(expected)) return t.fail(`round ${round}: decoded differently`);
  }
  t.is(urlEncodeForm({ printer: "Lobby 2", proxy: "a&b=c" }), "printer=Lobby+2&proxy=a%26b%3Dc");
  t.pass();
});

// Runs the whole body through the source protocol, pulling again whenever
// the sink said "enough for now", as the client does after a drain.
function drain(source: BodySource, stopEvery = 3): { bytes: Buffer; error?: string } {
  const pieces: Buffer[] = [];
  let ended = false, error: string | undefined, writes = 0;
  const sink: BodySink = {
    write: (bytes) => { pieces.push(Buffer.from(bytes)); return ++writes % stopEvery !== 0; },
    end: () => { ended = true; },
    abort: (reason) => { error = reason; },
  };
  for (let guard = 0; guard < 10_000 && !ended && error === undefined; guard++) source.pull(sink);
  return { bytes: Buffer.concat(pieces), error };
}

// A file part's bytes arriving from a source in pieces.
function pieceSource(bytes: Uint8Array, pieceSize: number, declared = bytes.length): BodySource {
  let offset = 0;
  return {
    length: declared,
    pull(sink) {
      while (offset < bytes.length) {
        const piece = bytes.subarray(offset, offset + pieceSize);
        offset += piece.length;
        if (!sink.write(piece)) return;
      }
      sink.end();
    },
  };
}

interface PythonPart { name: string; filename: string | null; type: string; data: string }

// Python's email parser, given the body with its Content-Type in front, as
// a web framework's multipart parser would see it.
function pythonParse(contentType: string, body: Buffer): PythonPart[] {
  const script = [
    "import sys, json, base64, email.parser, email.policy",
    "raw = sys.stdin.buffer.read()",
    "message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(b'Content-Type: ' + sys.argv[1].encode() + b'\\r\\n\\r\\n' + raw)",
    "assert message.is_multipart(), 'not multipart'",
    "print(json.dumps([{'name': p.get_param('name', header='content-disposition'), 'filename': p.get_filename(), 'type': p.get_content_type(), 'data': base64.b64encode(p.get_payload(decode=True)).decode()} for p in message.iter_parts()]))",
  ].join("\n");
  const run = spawnSync("python3", ["-c", script, contentType], { input: body, encoding: "utf8", timeout: 20_000 });
  if (run.status !== 0) throw new Error(`python: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

const fileBytes = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7 + (i >> 8)) & 0xff);
const parts = (file: Uint8Array | BodySource): MultipartPart[] => [
  { name: "printerid", value: "c2a3b4d5-0000" },
  { name: "tags", value: "Grüße ✓ with \"quotes\"" },
  { name: "capabilities", filename: "cdd.json", contentType: "application/json", data: new TextEncoder().encode('{"version":"1.0"}') },
  { name: "content", filename: "page \"1\".pwg", contentType: "image/pwg-raster", data: file },
  { name: "empty", value: "" },
];

function expectParts(t: { deepEqual(a: unknown, b: unknown): void; is(a: unknown, b: unknown): void }, decoded: PythonPart[]) {
  const b64 = (bytes: Uint8Array | string) => Buffer.from(bytes).toString("base64");
  t.deepEqual(decoded, [
    { name: "printerid", filename: null, type: "text/plain", data: b64("c2a3b4d5-0000") },
    { name: "tags", filename: null, type: "text/plain", data: b64("Grüße ✓ with \"quotes\"") },
    { name: "capabilities", filename: "cdd.json", type: "application/json", data: b64('{"version":"1.0"}') },
    { name: "content", filename: "page %221%22.pwg", type: "image/pwg-raster", data: b64(fileBytes) },
    { name: "empty", filename: null, type: "text/plain", data: "" },
  ]);
}

test("multipart: Python's email parser decodes every field and file byte for byte; the length is exact", (t) => {
  for (const file of [fileBytes, pieceSource(fileBytes, 1000)]) {
    const form = multipartForm(parts(file), { random: new SeededRandom(3) });
    t.regex(form.contentType, /^multipart\/form-data; boundary=----PrivetFormBoundary[0-9A-F]{36}$/);
    const { bytes, error } = drain(form);
    t.is(error, undefined);
    t.is(bytes.length, form.length, "the length known up front is the length sent");
    expectParts(t, pythonParse(form.contentType, bytes));
  }
  const given = multipartForm([{ name: "a", value: "b" }], { boundary: "simple-boundary" });
  t.is(drain(given).bytes.toString(), "--simple-boundary\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--simple-boundary--\r\n");
});

test("multipart: bad boundaries and file sources that break their length are refused", (t) => {
  t.throws(() => multipartForm([], { boundary: "has\r\nCRLF" }), { message: /malformed boundary/ });
  t.throws(() => multipartForm([], { boundary: "x".repeat(71) }), { message: /malformed boundary/ });
  t.throws(() => multipartForm([], {}), { message: /boundary or a random/ });
  t.throws(() => multipartForm([{ name: "f", filename: "f", contentType: "a/b", data: { length: undefined, pull: () => {} } }], { boundary: "b" }), { message: /declare its length/ });
  const short = drain(multipartForm([{ name: "f", filename: "f", contentType: "a/b", data: pieceSource(fileBytes, 100, 5000) }], { boundary: "b" }));
  t.regex(short.error!, /ended after 4096 of the 5000 bytes/);
  const long = drain(multipartForm([{ name: "f", filename: "f", contentType: "a/b", data: pieceSource(fileBytes, 100, 1000) }], { boundary: "b" }));
  t.regex(long.error!, /more than the 1000 bytes/);
});

test("multipart and urlencoded bodies through the client to node:http: Content-Length as declared, decoded alike", async (t) => {
  const received: Array<{ type: string; length: string; body: Buffer }> = [];
  const server = http.createServer((request, response) => {
    const pieces: Buffer[] = [];
    request.on("data", (c: Buffer) => pieces.push(c));
    request.on("end", () => {
      received.push({ type: request.headers["content-type"]!, length: request.headers["content-length"]!, body: Buffer.concat(pieces) });
      response.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const client = new HttpClient({ tcp: nodeTcp, resolver: nodeResolver, clock: nodeClock, log: () => {} });
  const form = multipartForm(parts(pieceSource(fileBytes, 512)), { random: new SeededRandom(11) });
  await requestJson(client, { method: "POST", url: `${base}/submit`, headers: { "Content-Type": form.contentType }, body: form });
  t.is(received[0].length, String(form.length));
  t.is(received[0].body.length, form.length);
  expectParts(t, pythonParse(received[0].type, received[0].body));
  const fields = { printer: "Lobby 2", "x-token": "a+b/c=" };
  await requestJson(client, { method: "POST", url: `${base}/update`, headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: urlEncodeForm(fields) });
  t.deepEqual(Object.fromEntries(new URLSearchParams(received[1].body.toString())), fields);
  t.is(bytesSource(new Uint8Array(3)).length, 3);
});
