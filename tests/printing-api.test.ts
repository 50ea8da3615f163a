import test, { type ExecutionContext } from "ava";
import * as net from "node:net";
import { Printer } from "../modules/printer/printer.js";
import { nodeHal } from "../hosts/node/hal.js";
import { get, rawRequest } from "./helpers/client.js";
import { encodeDocument, testPage, type Page } from "./helpers/pwg.js";
import { TestEngine } from "./helpers/test-engine.js";

const quiet = () => {};

async function setup(t: ExecutionContext, config: Record<string, unknown> = {}) {
  const engine = new TestEngine();
  const printer = new Printer(nodeHal({ log: quiet, engine }), { port: 0, ...config });
  const port = await printer.start();
  // A test that fails half-way must not leave its printer listening: the
  // worker would never exit.
  t.teardown(() => printer.stop());
  const token = JSON.parse((await get(port, "/privet/info", { "X-Privet-Token": "\"\"" })).body)["x-privet-token"];
  const api = async (path: string) => JSON.parse((await get(port, path, { "X-Privet-Token": token })).body);
  const post = async (path: string, body: Uint8Array | string, headers: Record<string, string> = {}) => {
    const bytes = typeof body === "string" ? Buffer.from(body) : Buffer.from(body);
    let head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Privet-Token: ${token}\r\nContent-Length: ${bytes.length}\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    const response = await rawRequest(port, Buffer.concat([Buffer.from(head + "\r\n"), bytes]), 20_000);
    return { status: response.status, json: response.status === 200 ? JSON.parse(response.body) : response.body };
  };
  return { engine, printer, port, token, api, post };
}

// Opens a submitdoc and sends only part of its body; the test decides the rest.
function openSubmit(port: number, token: string, body: Uint8Array, query = "") {
  const socket = net.connect(port, "127.0.0.1");
  let received = "";
  socket.on("data", (c) => (received += c));
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  socket.write(`POST /privet/printer/submitdoc${query} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Privet-Token: ${token}\r\nContent-Type: image/pwg-raster\r\nContent-Length: ${body.length}\r\n\r\n`);
  return { socket, closed, received: () => received, send: (bytes: Uint8Array) => socket.write(bytes) };
}

const PWG = { "Content-Type": "image/pwg-raster" };
const until = async (check: () => boolean, ms = 30_000) => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 10))) if (check()) return true;
  return false;
};

test("/privet/info lists the printing APIs in local-only mode; with a cloud URL they are hidden until registration", async (t) => {
  const local = await setup(t);
  const info = JSON.parse((await get(local.port, "/privet/info", { "X-Privet-Token": "\"\"" })).body);
  t.deepEqual(info.api, ["/privet/capabilities", "/privet/printer/createjob", "/privet/printer/submitdoc", "/privet/printer/jobstate"]);
  t.is(info.connection_state, "not-configured");
  await local.printer.stop();

  // Out of the box, a printer with a cloud URL offers registration only (Privet 6.1).
  // (A loopback port nothing listens on: its startup probe stays on this machine.)
  const cloud = await setup(t, { url: "https://127.0.0.1:1/cloudprint" });
  const cloudInfo = JSON.parse((await get(cloud.port, "/privet/info", { "X-Privet-Token": "\"\"" })).body);
  t.deepEqual(cloudInfo.api, ["/privet/register"]);
  t.is(cloudInfo.url, "https://127.0.0.1:1/cloudprint");
  t.is((await get(cloud.port, "/privet/capabilities", { "X-Privet-Token": cloud.token })).status, 404);
  t.is((await cloud.post("/privet/printer/submitdoc", "x", PWG)).status, 404);
  await cloud.printer.stop();
});

test("every printing API wants the token: 400 without the header, invalid_x_privet_token with a bad one", async (t) => {
  const { port, printer } = await setup(t);
  for (const path of ["/privet/capabilities", "/privet/printer/jobstate?job_id=1"]) {
    t.is((await get(port, path)).status, 400);
    const bad = await get(port, path, { "X-Privet-Token": "bogus" });
    t.is(bad.status, 200);
    t.is(JSON.parse(bad.body).error, "invalid_x_privet_token");
    t.is(JSON.parse((await get(port, path, { "X-Privet-Token": "" })).body).error, "invalid_x_privet_token");
  }
  await printer.stop();
});

test("/privet/capabilities is a CDD of what the engine takes; offline=1 answers too", async (t) => {
  const { api, printer } = await setup(t);
  const cdd = await api("/privet/capabilities");
  t.is(cdd.version, "1.0");
  t.deepEqual(cdd.printer.supported_content_type, [{ content_type: "image/pwg-raster" }]);
  t.deepEqual(cdd.printer.pwg_raster_config.document_type_supported, ["SRGB_8", "SGRAY_8", "BLACK_1"]);
  t.deepEqual(cdd.printer.dpi.option[0], { horizontal_dpi: 300, vertical_dpi: 300, is_default: true });
  t.deepEqual(cdd.printer.media_size.option.map((m: any) => m.name), ["ISO_A4", "NA_LETTER"]);
  t.deepEqual(await api("/privet/capabilities?offline=1"), cdd);
  await printer.stop();
});

test("createjob checks the ticket and answers job_id and expires_in", async (t) => {
  const { post, printer } = await setup(t);
  const ok = await post("/privet/printer/createjob", JSON.stringify({ version: "1.0", print: { color: { type: "STANDARD_MONOCHROME" }, dpi: { horizontal_dpi: 300, vertical_dpi: 300 }, media_size: { width_microns: 210000, height_microns: 297000 }, vendor_ticket_item: [] } }));
  t.regex(ok.json.job_id, /^[0-9a-f]{12}$/);
  t.true(ok.json.expires_in >= 300);
  const bad: Array<[string, RegExp]> = [
    ["not json", /not valid JSON/],
    ["[]", /not a JSON object/],
    [JSON.stringify({ version: "2.0" }), /version/],
    [JSON.stringify({ version: "1.0", print: { dpi: { horizontal_dpi: 123, vertical_dpi: 123 } } }), /123 x 123 dpi is not offered/],
    [JSON.stringify({ version: "1.0", print: { copies: { copies: 3 } } }), /one copy/],
    [JSON.stringify({ version: "1.0", print: { media_size: { width_microns: 1, height_microns: 1 } } }), /media size/],
    ["[".repeat(5000), /nests deeper/],
    ["", /empty/],
    [JSON.stringify({ version: "1.0", pad: "x".repeat(20_000) }), /larger than/],
  ];
  for (const [body, reason] of bad) {
    const answer = await post("/privet/printer/createjob", body);
    t.is(answer.json.error, "invalid_ticket", body.slice(0, 30));
    t.regex(answer.json.description, reason);
  }
  await printer.stop();
});

test("simple printing: submitdoc prints every pixel and answers the Privet 5.2 fields", async (t) => {
  const { post, engine, api, printer } = await setup(t);
  const pages: Page[] = [testPage(300, 200, "srgb_8", 1), { ...testPage(250, 100, "black_1", 2), dpi: 300 }];
  const doc = encodeDocument(pages);
  const answer = await post("/privet/printer/submitdoc?job_name=Two%20pages&user_name=ann&client_name=test", doc, PWG);
  t.like(answer.json, { job_type: "image/pwg-raster", job_size: doc.length, job_name: "Two pages" });
  t.true(answer.json.expires_in > 0);
  t.is(engine.pages.length, 2);
  t.deepEqual(engine.pixels(0), pages[0].pixels);
  t.deepEqual(engine.pixels(1), pages[1].pixels);
  t.is(engine.pages[1].page.colorSpace, "black_1");
  const state = await api(`/privet/printer/jobstate?job_id=${answer.json.job_id}`);
  t.like(state, { job_id: answer.json.job_id, state: "done", job_size: doc.length, job_name: "Two pages" });
  t.deepEqual(state.semantic_state, { version: "1.0", state: { type: "DONE" }, pages_printed: 2 });
  await printer.stop();
});

test("advanced printing: createjob, submitdoc with the job_id, jobstate; a used, unknown or replaced job_id is invalid_print_job", async (t) => {
  const { post, api, printer } = await setup(t);
  const doc = encodeDocument([testPage(100, 50, "sgray_8", 4)]);
  const created = (await post("/privet/printer/createjob", JSON.stringify({ version: "1.0", print: {} }))).json;
  t.like(await api(`/privet/printer/jobstate?job_id=${created.job_id}`), { state: "draft", semantic_state: { state: { type: "DRAFT" } } });
  const printed = await post(`/privet/printer/submitdoc?job_id=${created.job_id}`, doc, PWG);
  t.is(printed.json.job_id, created.job_id);
  t.like(await api(`/privet/printer/jobstate?job_id=${created.job_id}`), { state: "done" });
  t.is((await post(`/privet/printer/submitdoc?job_id=${created.job_id}`, doc, PWG)).json.error, "invalid_print_job", "used");
  t.is((await post("/privet/printer/submitdoc?job_id=nope", doc, PWG)).json.error, "invalid_print_job", "unknown");
  const first = (await post("/privet/printer/createjob", "{\"version\":\"1.0\"}")).json.job_id;
  for (let i = 0; i < 3; i++) await post("/privet/printer/createjob", "{\"version\":\"1.0\"}");
  t.is((await post(`/privet/printer/submitdoc?job_id=${first}`, doc, PWG)).json.error, "invalid_print_job", "replaced by a fourth createjob");
  t.is((await api("/privet/printer/jobstate?job_id=nope")).error, "invalid_print_job");
  t.is((await api("/privet/printer/jobstate")).error, "invalid_params");
  await printer.stop();
});

test("submitdoc refuses a wrong type, a missing or zero length, and a document over the limit", async (t) => {
  const { post, port, token, printer } = await setup(t, { maxDocumentBytes: 1000 });
  t.is((await post("/privet/printer/submitdoc", "%PDF-1.4", { "Content-Type": "application/pdf" })).json.error, "invalid_document_type");
  t.is((await post("/privet/printer/submitdoc", "RaS2")).json.error, "invalid_document_type", "no Content-Type");
  t.is((await post("/privet/printer/submitdoc", "", PWG)).json.error, "invalid_document");
  const noLength = await rawRequest(port, `POST /privet/printer/submitdoc HTTP/1.1\r\nX-Privet-Token: ${token}\r\nContent-Type: image/pwg-raster\r\n\r\n`);
  t.regex(JSON.parse(noLength.body).description, /Content-Length header is required/);
  const big = await post("/privet/printer/submitdoc", new Uint8Array(1001), PWG);
  t.is(big.json.error, "document_too_large");
  await printer.stop();
});

test("an invalid document aborts its job with a description, and the printer takes the next one", async (t) => {
  const { post, api, engine, printer } = await setup(t);
  const doc = encodeDocument([testPage(100, 50, "sgray_8", 4)]);
  const broken = Uint8Array.from(doc);
  broken[4 + 400] = 77; // ColorSpace := 77 * 2^24 + 18
  const answer = await post("/privet/printer/submitdoc?job_name=broken", broken, PWG);
  t.is(answer.json.error, "invalid_document");
  t.regex(answer.json.description, /unsupported color space/);
  t.true(engine.jobs.at(-1)!.aborted);
  const wrongDpi = encodeDocument([{ ...testPage(50, 10, "sgray_8", 5), dpi: 72 }]);
  t.regex((await post("/privet/printer/submitdoc", wrongDpi, PWG)).json.description, /72 x 72 dpi; this printer prints at 300 x 300/);
  const good = await post("/privet/printer/submitdoc", doc, PWG);
  t.truthy(good.json.job_id);
  t.is((await api(`/privet/printer/jobstate?job_id=${good.json.job_id}`)).state, "done");
  await printer.stop();
});

test("while a document streams, /privet/info and jobstate answer, and a second submitdoc gets printer_busy", async (t) => {
  const { port, token, api, post, engine, printer } = await setup(t);
  const doc = encodeDocument([testPage(400, 300, "srgb_8", 7)]);
  const created = (await post("/privet/printer/createjob", "{\"version\":\"1.0\"}")).json.job_id;
  const open = openSubmit(port, token, doc, `?job_id=${created}`);
  open.send(doc.subarray(0, 20_000));
  t.true(await until(() => engine.linesTaken > 0), "printing started");
  const info = JSON.parse((await get(port, "/privet/info", { "X-Privet-Token": "\"\"" })).body);
  t.is(info.device_state, "processing");
  t.deepEqual(info.semantic_state.printer.state, "PROCESSING");
  t.like(await api(`/privet/printer/jobstate?job_id=${created}`), { state: "in_progress" });
  const busy = await post("/privet/printer/submitdoc", doc, PWG);
  t.is(busy.json.error, "printer_busy");
  t.true(busy.json.timeout > 0);
  open.send(doc.subarray(20_000));
  t.true(await until(() => open.received().includes("\r\n\r\n{")), "the held submitdoc completes");
  t.like(await api(`/privet/printer/jobstate?job_id=${created}`), { state: "done" });
  t.deepEqual(engine.pixels(0), testPage(400, 300, "srgb_8", 7).pixels);
  open.socket.destroy();
  await printer.stop();
});

// (That the socket itself is paused, so TCP holds the client, is asserted in http.test.ts.)
test("a full engine stops the decoder mid-document and it resumes without losing a byte", async (t) => {
  const { port, token, engine, printer } = await setup(t);
  engine.capacity = 10;
  const page = testPage(600, 400, "srgb_8", 9);
  const doc = encodeDocument([page]);
  const open = openSubmit(port, token, doc);
  open.send(doc);
  let releases = 0;
  for (let i = 0; i < 2000 && !open.received().includes("job_id"); i++) {
    if (await until(() => engine.full, 200)) { releases++; engine.release(); }
  }
  t.true(releases > 10, `${releases} times full`);
  t.deepEqual(engine.pixels(0), page.pixels);
  open.socket.destroy();
  await printer.stop();
});

test("a fault stops the job and is reported; submitdoc and createjob get printer_error; clearing it finishes the job", async (t) => {
  const { port, token, api, post, engine, printer } = await setup(t);
  const doc = encodeDocument([testPage(200, 300, "sgray_8", 3)]);
  const open = openSubmit(port, token, doc, "?job_name=paper");
  open.send(doc.subarray(0, 8000));
  t.true(await until(() => engine.linesTaken > 0));
  engine.setFault("media-empty", "Out of paper in tray 1");
  const jobId = engine.jobs.at(-1)!.id;
  const state = await api(`/privet/printer/jobstate?job_id=${jobId}`);
  t.like(state, { state: "stopped", description: "Out of paper in tray 1" });
  t.deepEqual(state.semantic_state.state, { type: "STOPPED", device_state_cause: { error_code: "INPUT_TRAY" } });
  const info = JSON.parse((await get(port, "/privet/info", { "X-Privet-Token": "\"\"" })).body);
  t.is(info.device_state, "stopped");
  t.is(info.semantic_state.printer.state, "STOPPED");
  t.deepEqual(info.semantic_state.printer.input_tray_state, { item: [{ vendor_id: "tray-1", state: "EMPTY" }] });
  const refused = await post("/privet/printer/submitdoc", doc, PWG);
  t.like(refused.json, { error: "printer_error", description: "Out of paper in tray 1" });
  t.is((await post("/privet/printer/createjob", "{\"version\":\"1.0\"}")).json.error, "printer_error");
  open.send(doc.subarray(8000));
  engine.setFault(undefined);
  t.true(await until(() => open.received().includes("job_id")));
  t.like(await api(`/privet/printer/jobstate?job_id=${jobId}`), { state: "done" });
  t.is(JSON.parse((await get(port, "/privet/info", { "X-Privet-Token": "\"\"" })).body).device_state, "idle");
  open.socket.destroy();
  await printer.stop();
});

test("a client that disconnects mid-document leaves an aborted job and an idle printer", async (t) => {
  const { port, token, api, post, engine, printer } = await setup(t);
  const doc = encodeDocument([testPage(300, 300, "srgb_8", 2)]);
  const open = openSubmit(port, token, doc);
  open.send(doc.subarray(0, 30_000));
  t.true(await until(() => engine.linesTaken > 0));
  const jobId = engine.jobs.at(-1)!.id;
  open.socket.destroy();
  t.true(await until(() => engine.jobs.at(-1)!.aborted === true), "the engine was told to drop the job");
  const state = await api(`/privet/printer/jobstate?job_id=${jobId}`);
  t.like(state, { state: "aborted" });
  t.deepEqual(state.semantic_state.state.device_action_cause, { error_code: "DOWNLOAD_FAILURE" });
  t.is(JSON.parse((await get(port, "/privet/info", { "X-Privet-Token": "\"\"" })).body).device_state, "idle");
  const next = await post("/privet/printer/submitdoc", doc, PWG);
  t.truthy(next.json.job_id, "nothing stuck");
  await printer.stop();
});
