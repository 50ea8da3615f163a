import test from "ava";
import * as http from "node:http";
import * as net from "node:net";
import { tokenFromHeader } from "../tools/cloud/auth.js";
import { boundaryFrom, MultipartError, parseMultipart } from "../tools/cloud/multipart.js";
import { SeededRandom } from "./helpers/seeded-random.js";
import { call, multipartBody, registerAndClaim, registerParams, startTestCloud } from "./helpers/cloud.js";

// Hostile and broken input: the decoders are bounded, garbage is a 400 with a reason, and
// the service keeps serving.

const LIMITS = { maxParts: 8, maxPartHeaderBytes: 256, maxNameLength: 32, maxFilenameLength: 64 };
const b = (s: string) => Buffer.from(s, "latin1");

test("multipart: fields, files with binary content, preamble, epilogue, padding and a quoted boundary", (t) => {
  const binary = Buffer.from([0, 13, 10, 45, 45, 255, 13, 10]);
  const body = Buffer.concat([
    b("preamble to ignore\r\n--XyZ \t\r\nContent-Disposition: form-data; name=\"printer\"\r\n\r\nLobby\r\n"),
    b("--XyZ\r\ncontent-disposition: form-data; name=\"content\"; filename=\"a \\\"b\\\".bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"),
    binary,
    b("\r\n--XyZ\r\nContent-Disposition: form-data; name=\"empty\"\r\n\r\n\r\n--XyZ--\r\nepilogue"),
  ]);
  const parts = parseMultipart(body, boundaryFrom("multipart/form-data; boundary=\"XyZ\""), LIMITS);
  t.deepEqual(parts.map((p) => p.name), ["printer", "content", "empty"]);
  t.is(parts[0].data.toString(), "Lobby");
  t.is(parts[1].filename, "a \"b\".bin");
  t.is(parts[1].contentType, "application/octet-stream");
  t.deepEqual(parts[1].data, binary);
  t.is(parts[2].data.length, 0);
});

test("multipart: every malformation is a MultipartError, never a crash or a wrong result", (t) => {
  const bad: Array<[string, string]> = [
    ["no boundary line", "just text"],
    ["no closing boundary", "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue"],
    ["boundary line without CRLF", "--Bxx"],
    ["headers never end", "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n"],
    ["no disposition", "--B\r\nContent-Type: text/plain\r\n\r\nv\r\n--B--"],
    ["not form-data", "--B\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--B--"],
    ["no name", "--B\r\nContent-Disposition: form-data\r\n\r\nv\r\n--B--"],
    ["header without a name", "--B\r\n: x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--B--"],
    ["too long a name", `--B\r\nContent-Disposition: form-data; name="${"n".repeat(33)}"\r\n\r\nv\r\n--B--`],
    ["too long a filename", `--B\r\nContent-Disposition: form-data; name="a"; filename="${"f".repeat(65)}"\r\n\r\nv\r\n--B--`],
    ["too long headers", `--B\r\nContent-Disposition: form-data; name="a"\r\nX-Pad: ${"p".repeat(300)}\r\n\r\nv\r\n--B--`],
    ["too many parts", `${"--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n".repeat(9)}--B--`],
  ];
  for (const [name, text] of bad) t.throws(() => parseMultipart(b(text), "B", LIMITS), { instanceOf: MultipartError }, name);
  for (const type of ["multipart/form-data", "multipart/form-data; boundary=", `multipart/form-data; boundary=${"x".repeat(71)}`, "multipart/form-data; boundary=a<b"]) {
    t.throws(() => boundaryFrom(type), { instanceOf: MultipartError }, type);
  }
});

test("the four Authorization forms parse to the same token; anything else parses to nothing", (t) => {
  for (const header of ["Bearer ya29.abc", "Bearer \"ya29.abc\"", "OAuth ya29.abc", "GoogleLogin auth=ya29.abc", "googlelogin auth=\"ya29.abc\"", "  bearer   ya29.abc  "]) {
    t.is(tokenFromHeader(header), "ya29.abc", header);
  }
  for (const header of ["", "Basic ya29.abc", "Bearer", "Bearer a b", "GoogleLogin ya29.abc", "Bearer \"unterminated", `Bearer ${"x".repeat(600)}`, "Bearer <script>"]) {
    t.is(tokenFromHeader(header), undefined, header);
  }
});

function rawExchange(port: number, head: string, body: Buffer | string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let answer = "";
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`timed out; got ${answer.slice(0, 200)}`)); }, timeoutMs);
    socket.on("data", (c) => (answer += c.toString("latin1")));
    // The server may close while we are still sending: what it said before that is the answer.
    socket.on("error", () => {});
    socket.on("close", () => { clearTimeout(timer); resolve(answer); });
    socket.write(head);
    socket.write(body);
    socket.end();
  });
}

test("a body over the limit is refused with 413 before it is all read, and the service goes on", async (t) => {
  const { service } = await startTestCloud({ limits: { maxBodyBytes: 64 * 1024 } });
  t.teardown(() => service.close());
  // Declared too large: refused on the header alone.
  const declared = await rawExchange(service.port, `POST /cloudprint/register HTTP/1.1\r\nHost: x\r\nX-CloudPrint-Proxy: t\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000000\r\n\r\n`, "name=x");
  t.regex(declared, /^HTTP\/1\.1 413 /);
  t.regex(declared, /larger than 65536 bytes/);
  // Chunked, so the size shows only while reading.
  const chunk = `${(8192).toString(16)}\r\n${"a".repeat(8192)}\r\n`;
  const chunked = await rawExchange(service.port, `POST /cloudprint/register HTTP/1.1\r\nHost: x\r\nX-CloudPrint-Proxy: t\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n`, chunk.repeat(12) + "0\r\n\r\n");
  t.regex(chunked, /^HTTP\/1\.1 413 /);
  t.true((await call(service, "register", registerParams("still here"))).json.success);
});

test("broken requests get a 400 with a reason", async (t) => {
  const { service } = await startTestCloud();
  t.teardown(() => service.close());
  const post = (contentType: string, body: string | Buffer, path = "/cloudprint/register") =>
    fetch(`${service.url}${path}`, { method: "POST", headers: { "Content-Type": contentType, "X-CloudPrint-Proxy": "t" }, body });
  const cases: Array<[string, Promise<Response>, number, RegExp]> = [
    ["multipart without boundary", post("multipart/form-data", "--x\r\n"), 400, /boundary/],
    ["multipart cut short", post("multipart/form-data; boundary=B", "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv"), 400, /closing boundary/],
    ["bad percent-encoding", post("application/x-www-form-urlencoded", "name=%zz&proxy=p"), 400, /percent-encoding/],
    ["JSON body", post("application/json", "{\"name\":\"x\"}"), 415, /urlencoded or multipart/],
    ["too many fields", post("application/x-www-form-urlencoded", Array.from({ length: 300 }, (_, i) => `f${i}=1`).join("&")), 400, /more than 256 parameters/],
  ];
  for (const [name, pending, status, reason] of cases) {
    const answer = await pending;
    t.is(answer.status, status, name);
    const json = await answer.json() as { success: boolean; message: string };
    t.false(json.success, name);
    t.regex(json.message, reason, name);
  }
  const badHead = await rawExchange(service.port, "GARBAGE\r\n\r\n", "");
  t.regex(badHead, /^HTTP\/1\.1 400 /);
  t.regex(badHead, /Malformed HTTP request/);
  const longQuery = await rawExchange(service.port, `GET /cloudprint/search?q=${"q".repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, "");
  t.regex(longQuery, /^HTTP\/1\.1 431 /);
  const badMethod = await fetch(`${service.url}/cloudprint/register`, { method: "PUT" });
  t.is(badMethod.status, 405);
});

test("thousands of random requests never crash it or get a 500, and it still registers afterwards", async (t) => {
  const errors: unknown[] = [];
  const cloud = await startTestCloud({ onError: (e) => errors.push(e), limits: { maxBodyBytes: 32 * 1024 } });
  const { service } = cloud;
  t.teardown(() => service.close());
  const reg = await registerAndClaim(cloud);
  const random = new SeededRandom(0xc10d);
  const pick = <T>(items: readonly T[]) => items[random.below(items.length)];
  const ifaces = ["register", "getauthcode", "confirm", "printer", "update", "list", "search", "delete", "proximitytoken", "jobs", "submit", "fetch", "control", "ticket", "deletejob", "download"];
  const names = ["printerid", "name", "proxy", "local_settings", "tag", "remove_tag", "content", "contentType", "title", "ticket", "semantic_state_diff", "status", "final_semantic_state", "jobid", "user", "q", "capabilities", "semantic_state"];
  const values = () => pick([
    reg.printerId, "", "{}", "[]", "null", "{\"current\":{\"local_discovery\":1}}", "{\"pending\":{}}", "{\"state\":{\"type\":\"ABORTED\"}}",
    Buffer.from(random.bytes(random.below(64))).toString("latin1"), "%", "(((", "data:,x", "x".repeat(random.below(5000)),
  ]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const statuses = new Map<number, number>();
  const send = (method: string, path: string, headers: Record<string, string>, body?: Buffer) => new Promise<number>((resolve) => {
    const req = http.request({ host: "127.0.0.1", port: service.port, method, path, headers, agent }, (res) => { res.resume(); res.on("end", () => resolve(res.statusCode ?? 0)); });
    req.on("error", () => resolve(-1));
    req.setTimeout(10_000, () => req.destroy());
    req.end(body);
  });
  for (let i = 0; i < 2000; i++) {
    const iface = pick(ifaces);
    const headers: Record<string, string> = { "X-CloudPrint-Proxy": "fuzz" };
    if (random.below(3) > 0) headers.Authorization = pick([`Bearer ${reg.access}`, `OAuth ${reg.user}`, "GoogleLogin auth=zzz", "Bearer \""]);
    let body: Buffer | undefined;
    const style = random.below(4);
    if (style === 1) {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      body = Buffer.from(Array.from({ length: random.below(6) }, () => `${pick(names)}=${encodeURIComponent(values())}`).join("&"));
    } else if (style === 2) {
      const encoded = multipartBody(Array.from({ length: random.below(6) }, () => [pick(names), values()] as [string, string]));
      // Sometimes cut or corrupt it.
      const cut = random.below(3) === 0 ? random.below(encoded.body.length + 1) : encoded.body.length;
      body = encoded.body.subarray(0, cut);
      headers["Content-Type"] = encoded.contentType;
    } else if (style === 3) {
      headers["Content-Type"] = pick(["multipart/form-data; boundary=zz", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data"]);
      body = Buffer.from(random.bytes(random.below(2048)));
    }
    const query = random.below(2) ? `?${pick(names)}=${encodeURIComponent(values()).slice(0, 2000)}` : "";
    const status = await send(body ? "POST" : "GET", `/cloudprint/${iface}${query}`, headers, body);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }
  agent.destroy();
  t.log(JSON.stringify([...statuses]));
  t.deepEqual(errors, [], "no request failed inside the emulator");
  t.false(statuses.has(500));
  t.false(statuses.has(-1), "every request got an answer");
  t.true((statuses.get(200) ?? 0) > 100, JSON.stringify([...statuses]));
  t.true((await call(service, "register", registerParams("after the storm"), { encoding: "multipart" })).json.success);
  // The fuzz may well have deleted the first printer with its own token; a whole new registration must work.
  const again = await registerAndClaim(cloud, "second", "second@example.com");
  t.true((await call(service, "printer", { printerid: again.printerId }, { token: again.access })).json.success);
});

test("names outside ASCII arrive intact whether percent-encoded, raw in a form (curl -d) or in multipart", async (t) => {
  const { service } = await startTestCloud();
  t.teardown(() => service.close());
  const name = "Café printer ☕";
  const viaForm = await fetch(`${service.baseUrl}/register`, { method: "POST", headers: { "X-CloudPrint-Proxy": "t", "Content-Type": "application/x-www-form-urlencoded" }, body: Buffer.from(`name=${name}&proxy=p`, "utf8") });
  t.is(((await viaForm.json()) as { printers: Array<{ name: string }> }).printers[0].name, name);
  for (const encoding of ["get", "form", "multipart"] as const) {
    t.is((await call(service, "register", { name, proxy: "p" }, { encoding })).json.printers[0].name, name, encoding);
  }
});

test("an idle keep-alive connection stays open longer than a pooling client keeps it, so its next request is answered", async (t) => {
  const cloud = await startTestCloud();
  t.teardown(() => cloud.service.close());
  const socket = net.connect(cloud.service.port, "127.0.0.1");
  t.teardown(() => socket.destroy());
  let received = "";
  let closed = false;
  socket.on("data", (chunk) => { received += chunk.toString("latin1"); }).on("close", () => { closed = true; }).on("error", () => {});
  const ask = () => socket.write(`GET /cloudprint/list HTTP/1.1\r\nHost: 127.0.0.1:${cloud.service.port}\r\n\r\n`);
  const answers = () => received.split("HTTP/1.1 ").length - 1;
  const wait = async (what: string, done: () => boolean) => {
    for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
    if (!done()) throw new Error(`no ${what}`);
  };
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  ask();
  await wait("first answer", () => answers() >= 1);
  t.regex(received, /Keep-Alive: timeout=(\d+)/);
  const hint = Number(/Keep-Alive: timeout=(\d+)/.exec(received)![1]);
  t.true(hint >= 60, `the hint tells clients they may idle ${hint} s`);
  // Past Node's default of 5 s, which undici's slowed clock could outrun.
  await new Promise((r) => setTimeout(r, 6_000));
  t.false(closed, "the emulator kept the idle connection");
  ask();
  await wait("second answer", () => answers() >= 2);
  t.is(answers(), 2);
});
