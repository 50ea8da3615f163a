import test, { type ExecutionContext } from "ava";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { Printer } from "../modules/printer/printer.js";
import { NullEngine } from "../modules/print/null-engine.js";
import { ippTxt } from "../modules/ipp/dns-sd.js";
import { nodeHal } from "../hosts/node/hal.js";
import { encodeMessage } from "../modules/ipp-codec/encode.js";
import { decodeMessage } from "../modules/ipp-codec/decode.js";
import {
  GroupTag, Operation, Status, attr, boolean, collection, enumValue, integer, keyword, mimeType, name, resolution, uri,
  type IppMessage,
} from "../modules/ipp-codec/values.js";
import { get, rawRequest } from "./helpers/client.js";
import { encodeDocument, testPage } from "./helpers/pwg.js";
import { TestEngine } from "./helpers/test-engine.js";
import { FakeTcp } from "./helpers/fake-tcp.js";
import { TestPanel } from "./helpers/cloud-printer.js";
import { group, ippRequest, mutate, postIpp, send, statusName, values } from "./helpers/ipp.js";
import { SeededRandom } from "./helpers/seeded-random.js";
import { readPng } from "./helpers/png.js";
import { run, which } from "./helpers/peers.js";

// IPP at /ipp/print, black-box over HTTP against a printer on the Node host
// with an engine the test drives.

async function setup(t: ExecutionContext, config: Record<string, unknown> = {}) {
  const engine = new TestEngine();
  const logs: string[] = [];
  const printer = new Printer(nodeHal({ log: (_level, message) => logs.push(message), engine }), { port: 0, ...config });
  const port = await printer.start();
  t.teardown(() => printer.stop());
  const ipp = (operation: number, operationAttributes = [] as ReturnType<typeof attr>[], jobAttributes = [] as ReturnType<typeof attr>[], document?: Uint8Array) =>
    send(port, ippRequest(operation, port, operationAttributes, jobAttributes), document);
  const privet = async (path: string) => {
    const token = JSON.parse((await get(port, "/privet/info", { "X-Privet-Token": "\"\"" })).body)["x-privet-token"];
    return JSON.parse((await get(port, path, { "X-Privet-Token": token })).body);
  };
  return { engine, printer, port, ipp, privet, logs };
}

const until = async (check: () => boolean, ms = 5000) => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 10))) if (check()) return true;
  return false;
};

const PWG = mimeType("image/pwg-raster");
const job = (m: IppMessage, n: string) => values(m, GroupTag.job, n);
const printerAttr = (m: IppMessage, n: string) => values(m, GroupTag.printer, n);

test("Get-Printer-Attributes describes the engine's capabilities, identity and state", async (t) => {
  const { ipp, privet, engine } = await setup(t);
  const answer = await ipp(Operation.getPrinterAttributes);
  t.is(statusName(answer), "0x0000");
  t.deepEqual(printerAttr(answer, "media-supported"), ["iso_a4_210x297mm", "na_letter_8.5x11in"]);
  t.deepEqual(printerAttr(answer, "media-size-supported"), [{ "x-dimension": [21000], "y-dimension": [29700] }, { "x-dimension": [21590], "y-dimension": [27940] }]);
  t.deepEqual(printerAttr(answer, "pwg-raster-document-resolution-supported"), ["300x300", "150x150", "600x600"]);
  t.deepEqual(printerAttr(answer, "pwg-raster-document-type-supported"), ["srgb_8", "sgray_8", "black_1"]);
  t.deepEqual(printerAttr(answer, "print-color-mode-supported"), ["auto", "color", "monochrome", "bi-level"]);
  t.deepEqual(printerAttr(answer, "document-format-supported"), ["image/pwg-raster", "image/jpeg", "image/urf"]);
  t.deepEqual(printerAttr(answer, "urf-supported"), ["V1.4", "CP1", "PQ3-4-5", "RS150-300-600", "W8", "SRGB24"]);
  t.deepEqual(printerAttr(answer, "operations-supported"), [2, 4, 5, 6, 8, 9, 10, 11, 0x39, 0x3b, 0x3c]);
  const serial = (await privet("/privet/info")).serial_number ?? "";
  t.deepEqual(printerAttr(answer, "printer-uuid"), [`urn:uuid:${serial}`]);
  t.deepEqual(printerAttr(answer, "printer-state"), [3]);
  t.deepEqual(printerAttr(answer, "printer-state-reasons"), ["none"]);
  t.deepEqual(printerAttr(answer, "printer-is-accepting-jobs"), [true]);
  t.true((printerAttr(answer, "printer-up-time")[0] as number) > 0);
  t.deepEqual(printerAttr(answer, "media-col-database"), [], "only when named");

  engine.setFault("media-jam", "Paper jam in the fuser");
  const jammed = await ipp(Operation.getPrinterAttributes, [attr("requested-attributes", keyword("printer-state"), keyword("printer-state-reasons"), keyword("printer-state-message"), keyword("printer-state-change-time"))]);
  t.deepEqual(group(jammed, GroupTag.printer)!.attributes.map((a) => a.name), ["printer-state", "printer-state-reasons", "printer-state-message", "printer-state-change-time"]);
  t.deepEqual(printerAttr(jammed, "printer-state"), [5]);
  t.deepEqual(printerAttr(jammed, "printer-state-reasons"), ["media-jam-error"]);
  t.deepEqual(printerAttr(jammed, "printer-state-message"), ["Paper jam in the fuser"]);
  engine.setFault("door-open", "Door open");
  t.deepEqual(printerAttr(await ipp(Operation.getPrinterAttributes, [attr("requested-attributes", keyword("printer-state-reasons"))]), "printer-state-reasons"), ["door-open-error"]);
  engine.setFault("media-empty", "Out of paper");
  const empty = await ipp(Operation.getPrinterAttributes, [attr("requested-attributes", keyword("printer-state-reasons"), keyword("printer-supply"))]);
  t.deepEqual(printerAttr(empty, "printer-state-reasons"), ["media-empty-error"]);
  t.regex(printerAttr(empty, "printer-supply")[0] as string, /level=0;/);
  engine.setFault(undefined);

  const template = await ipp(Operation.getPrinterAttributes, [attr("requested-attributes", keyword("job-template"))]);
  t.deepEqual(printerAttr(template, "printer-name"), []);
  t.deepEqual(printerAttr(template, "copies-supported"), ["1-1"]);
  const description = await ipp(Operation.getPrinterAttributes, [attr("requested-attributes", keyword("printer-description"), keyword("media-col-database"))]);
  t.deepEqual(printerAttr(description, "media-supported"), []);
  t.deepEqual(printerAttr(description, "printer-name"), ["Privet Printer"]);
  // Each size bordered (1/6 inch, what CUPS takes as its default) and borderless.
  const database = printerAttr(description, "media-col-database") as Array<Record<string, unknown[]>>;
  t.deepEqual(database.map((c) => [(c["media-size"][0] as Record<string, unknown[]>)["x-dimension"][0], c["media-top-margin"][0], c["media-left-margin"][0]]),
    [[21000, 423, 423], [21000, 0, 0], [21590, 423, 423], [21590, 0, 0]]);
  const margins = await ipp(Operation.getPrinterAttributes, [attr("requested-attributes", keyword("media-col-default"), keyword("media-col-ready"), keyword("media-left-margin-supported"))]);
  t.deepEqual(printerAttr(margins, "media-left-margin-supported"), [423, 0]);
  t.deepEqual(printerAttr(margins, "media-col-ready"), database);
  t.deepEqual(printerAttr(margins, "media-col-default"), [database[0]]);
});

test("the request checks of RFC 8011 4.1: version, request-id, charset and language first, printer-uri, the operation", async (t) => {
  const { port } = await setup(t);
  const base = ippRequest(Operation.getPrinterAttributes, port);
  const ask = async (message: IppMessage) => send(port, message);
  t.is(statusName(await ask({ ...base, major: 0, minor: 0 })), "0x0503");
  t.is(statusName(await ask({ ...base, requestId: 0 })), "0x0400");
  t.is(statusName(await ask({ ...base, groups: [{ tag: 1, attributes: base.groups[0].attributes.slice(1) }] })), "0x0400");
  t.is(statusName(await ask({ ...base, groups: [{ tag: 1, attributes: [base.groups[0].attributes[1], base.groups[0].attributes[0], base.groups[0].attributes[2]] }] })), "0x0400");
  t.is(statusName(await ask({ ...base, groups: [{ tag: 1, attributes: base.groups[0].attributes.slice(0, 2) }] })), "0x0400");
  t.is(statusName(await ask({ ...base, groups: [{ tag: 1, attributes: [...base.groups[0].attributes.slice(0, 2), attr("printer-uri", uri(`ipp://127.0.0.1:${port}/ipp/other`))] }] })), "0x0406");
  t.is(statusName(await ask({ ...base, code: 0x0010 })), "0x0501");
  const answered = await ask(base);
  t.is(answered.requestId, base.requestId);
  t.deepEqual([answered.major, answered.minor], [2, 0]);
  t.is(statusName(await ask({ ...base, major: 1, minor: 1 })), "0x0000");
});

test("HTTP around IPP: GET is 405, another type 415, another path 404; a document-less Get-Printer-Attributes over chunked works", async (t) => {
  const { port } = await setup(t);
  t.is((await get(port, "/ipp/print")).status, 405);
  t.is((await get(port, "/ipp/print")).headers.allow, "POST");
  t.is((await rawRequest(port, `POST /ipp/print HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi`)).status, 415);
  t.is((await get(port, "/ipp/elsewhere")).status, 404);
  const answer = decodeMessage(new Uint8Array((await postIpp(port, encodeMessage(ippRequest(Operation.getPrinterAttributes, port)), { chunked: true })).body)).message;
  t.is(statusName(answer), "0x0000");
});

test("Print-Job prints the PWG document and the job is one the Privet API sees too", async (t) => {
  const { ipp, privet, engine } = await setup(t);
  const pages = [testPage(300, 200, "srgb_8", 1), testPage(300, 200, "sgray_8", 2)];
  const answer = await ipp(Operation.printJob, [attr("requesting-user-name", name("alice")), attr("job-name", name("two pages")), attr("document-format", PWG)], [], encodeDocument(pages));
  t.is(statusName(answer), "0x0000");
  const id = job(answer, "job-id")[0] as number;
  t.true(id > 0);
  t.regex(job(answer, "job-uri")[0] as string, new RegExp(`^ipp://.+/ipp/print/${id}$`));
  t.deepEqual(engine.pixels(0), pages[0].pixels);
  t.deepEqual(engine.pixels(1), pages[1].pixels);
  const attrs = await ipp(Operation.getJobAttributes, [attr("job-id", integer(id))]);
  t.deepEqual(job(attrs, "job-state"), [9]);
  t.deepEqual(job(attrs, "job-state-reasons"), ["job-completed-successfully"]);
  t.deepEqual(job(attrs, "job-impressions-completed"), [2]);
  t.deepEqual(job(attrs, "job-media-sheets-completed"), [2]);
  t.deepEqual(job(attrs, "job-name"), ["two pages"]);
  t.deepEqual(job(attrs, "job-originating-user-name"), ["alice"]);
  t.true((job(attrs, "time-at-completed")[0] as number) >= (job(attrs, "time-at-processing")[0] as number));
  // The same job through Privet.
  const state = await privet(`/privet/printer/jobstate?job_id=${engine.jobs.at(-1)!.id}`);
  t.like(state, { state: "done", job_name: "two pages", job_type: "image/pwg-raster" });
  t.is(state.semantic_state.pages_printed, 2);
});

test("a Privet job is in IPP's Get-Jobs, with the queue's one numbering", async (t) => {
  const { port, ipp, engine } = await setup(t);
  const token = JSON.parse((await get(port, "/privet/info", { "X-Privet-Token": "\"\"" })).body)["x-privet-token"];
  const doc = Buffer.from(encodeDocument([testPage(100, 100, "black_1", 3)]));
  const submitted = await rawRequest(port, Buffer.concat([Buffer.from(`POST /privet/printer/submitdoc?job_name=from%20privet HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Privet-Token: ${token}\r\nContent-Type: image/pwg-raster\r\nContent-Length: ${doc.length}\r\n\r\n`), doc]));
  t.is(JSON.parse(submitted.body).job_name, "from privet");
  await ipp(Operation.printJob, [attr("requesting-user-name", name("bob")), attr("job-name", name("from ipp"))], [], encodeDocument([testPage(100, 100, "black_1", 4)]));
  const jobs = await ipp(Operation.getJobs, [attr("which-jobs", keyword("completed")), attr("requested-attributes", keyword("job-id"), keyword("job-name"), keyword("job-state"))]);
  const listed = jobs.groups.filter((g) => g.tag === GroupTag.job).map((_, i) => [job(jobs, "job-id").length ? values(jobs, GroupTag.job, "job-id", i)[0] : 0, values(jobs, GroupTag.job, "job-name", i)[0], values(jobs, GroupTag.job, "job-state", i)[0]]);
  t.deepEqual(listed, [[2, "from ipp", 9], [1, "from privet", 9]]);
  t.is(engine.jobs.length, 2);
  // Default Get-Jobs answers job-id and job-uri only, and not-completed by default.
  t.deepEqual((await ipp(Operation.getJobs)).groups.filter((g) => g.tag === GroupTag.job), []);
  const all = await ipp(Operation.getJobs, [attr("which-jobs", keyword("all")), attr("limit", integer(1))]);
  t.deepEqual(group(all, GroupTag.job)!.attributes.map((a) => a.name), ["job-id", "job-uri"]);
  t.is(all.groups.filter((g) => g.tag === GroupTag.job).length, 1);
  const mine = await ipp(Operation.getJobs, [attr("which-jobs", keyword("all")), attr("my-jobs", boolean(true)), attr("requesting-user-name", name("bob"))]);
  t.deepEqual(values(mine, GroupTag.job, "job-id"), [2]);
  t.is(mine.groups.filter((g) => g.tag === GroupTag.job).length, 1);
  t.is(statusName(await ipp(Operation.getJobs, [attr("which-jobs", keyword("fetchable"))])), "0x040b");
});

test("Validate-Job and Print-Job check the ticket: substituted without fidelity, refused with it; format and compression", async (t) => {
  const { ipp } = await setup(t);
  const ok = await ipp(Operation.validateJob, [], [
    attr("media", keyword("na_letter_8.5x11in")), attr("print-color-mode", keyword("monochrome")), attr("printer-resolution", resolution(600, 600)),
    attr("media-col", collection([attr("media-size", collection([attr("x-dimension", integer(21000)), attr("y-dimension", integer(29700))]))])),
    attr("print-quality", enumValue(5)), attr("sides", keyword("one-sided")), attr("copies", integer(1)), attr("print-scaling", keyword("fit")),
  ]);
  t.is(statusName(ok), "0x0000");
  t.is(group(ok, GroupTag.unsupported), undefined);
  const a4 = collection([attr("x-dimension", integer(21000)), attr("y-dimension", integer(29700))]);
  const withMargin = (margin: number) => [attr("media-col", collection([attr("media-size", a4), ...["bottom", "left", "right", "top"].map((e) => attr(`media-${e}-margin`, integer(margin)))]))];
  t.is(statusName(await ipp(Operation.validateJob, [], withMargin(423))), "0x0000");
  t.is(statusName(await ipp(Operation.validateJob, [], withMargin(0))), "0x0000");
  t.deepEqual(group(await ipp(Operation.validateJob, [], withMargin(100)), GroupTag.unsupported)!.attributes.map((a) => a.name), ["media-col"]);
  const bad = [attr("copies", integer(3)), attr("sides", keyword("two-sided-long-edge")), attr("media", keyword("iso_a3_297x420mm")), attr("printer-resolution", resolution(1200, 1200)), attr("finishings-col", collection([attr("x", integer(1))]))];
  const substituted = await ipp(Operation.validateJob, [], bad);
  t.is(statusName(substituted), "0x0001");
  t.deepEqual(group(substituted, GroupTag.unsupported)!.attributes.map((a) => a.name), ["copies", "sides", "media", "printer-resolution", "finishings-col"]);
  t.deepEqual(values(substituted, GroupTag.unsupported, "finishings-col"), [null]);
  const refused = await ipp(Operation.printJob, [attr("ipp-attribute-fidelity", boolean(true))], bad.slice(0, 1), encodeDocument([testPage(10, 10, "black_1", 1)]));
  t.is(statusName(refused), "0x040b");
  t.deepEqual(values(refused, GroupTag.unsupported, "copies"), [3]);
  const format = await ipp(Operation.printJob, [attr("document-format", mimeType("application/pdf"))], [], new Uint8Array(100));
  t.is(statusName(format), "0x040a");
  t.deepEqual(values(format, GroupTag.unsupported, "document-format"), ["application/pdf"]);
  t.is(statusName(await ipp(Operation.validateJob, [attr("compression", keyword("gzip"))])), "0x040f");
  // Not a PWG document: the job is aborted with document-format-error, and the printer goes on.
  const garbage = await ipp(Operation.printJob, [attr("document-format", PWG)], [], new Uint8Array(5000).fill(0x41));
  t.is(statusName(garbage), "0x0411");
  t.deepEqual(job(garbage, "job-state"), [8]);
  t.deepEqual(job(garbage, "job-state-reasons"), ["aborted-by-system", "document-format-error"]);
  t.is(statusName(await ipp(Operation.printJob, [], [], encodeDocument([testPage(10, 10, "black_1", 1)]))), "0x0000");
});

test("Create-Job, Send-Document, Close-Job: a draft in the slots, one document, closing an empty job", async (t) => {
  const { port, ipp, engine, privet } = await setup(t);
  const created = await ipp(Operation.createJob, [attr("job-name", name("later"))], [attr("media", keyword("na_letter_8.5x11in"))]);
  t.is(statusName(created), "0x0000");
  const id = job(created, "job-id")[0] as number;
  t.deepEqual(job(created, "job-state"), [3]);
  t.deepEqual(job(created, "job-state-reasons"), ["job-incoming"]);
  t.is(statusName(await ipp(Operation.sendDocument, [attr("job-id", integer(id))], [], encodeDocument([testPage(50, 50, "sgray_8", 1)]))), "0x0400", "last-document is required");
  const sent = await ipp(Operation.sendDocument, [attr("job-id", integer(id)), attr("last-document", boolean(true)), attr("document-format", PWG)], [], encodeDocument([testPage(50, 50, "sgray_8", 1)]));
  t.is(statusName(sent), "0x0000");
  t.is(engine.pages.length, 1);
  const attrs = await ipp(Operation.getJobAttributes, [attr("job-id", integer(id))]);
  t.deepEqual(job(attrs, "media"), ["na_letter_8.5x11in"]);
  t.deepEqual(job(attrs, "job-state"), [9]);
  t.is(statusName(await ipp(Operation.sendDocument, [attr("job-id", integer(id)), attr("last-document", boolean(true))], [], encodeDocument([testPage(50, 50, "sgray_8", 1)]))), "0x0404");
  const empty = job(await ipp(Operation.createJob), "job-id")[0] as number;
  t.is(statusName(await ipp(Operation.closeJob, [attr("job-id", integer(empty))])), "0x0000");
  const closed = await ipp(Operation.getJobAttributes, [attr("job-id", integer(empty))]);
  t.deepEqual(job(closed, "job-state"), [8]);
  t.is(statusName(await ipp(Operation.closeJob, [attr("job-id", integer(empty))])), "0x0404");
  t.is(statusName(await ipp(Operation.getJobAttributes, [attr("job-id", integer(9999))])), "0x0406");
  // A Privet createjob draft takes its document through Send-Document too: one queue.
  const token = (await privet("/privet/info"))["x-privet-token"];
  const ticket = "{\"version\":\"1.0\"}";
  const draft = JSON.parse((await rawRequest(port, `POST /privet/printer/createjob HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Privet-Token: ${token}\r\nContent-Length: ${ticket.length}\r\n\r\n${ticket}`)).body).job_id;
  const waiting = await ipp(Operation.getJobs, [attr("requested-attributes", keyword("job-id"), keyword("job-state"))]);
  t.deepEqual(values(waiting, GroupTag.job, "job-state"), [3]);
  const privetJob = values(waiting, GroupTag.job, "job-id")[0] as number;
  t.is(statusName(await ipp(Operation.sendDocument, [attr("job-id", integer(privetJob)), attr("last-document", boolean(true))], [], encodeDocument([testPage(40, 40, "black_1", 2)]))), "0x0000");
  t.like(await privet(`/privet/printer/jobstate?job_id=${draft}`), { state: "done" });
});

test("Cancel-Job: a waiting job at once, a job streaming its document with server-error-job-canceled; Cancel-My-Jobs takes only the user's", async (t) => {
  const { port, ipp, engine, privet } = await setup(t);
  const draft = job(await ipp(Operation.createJob, [attr("requesting-user-name", name("carol"))]), "job-id")[0] as number;
  t.is(statusName(await ipp(Operation.cancelJob, [attr("job-id", integer(draft))])), "0x0000");
  const canceled = await ipp(Operation.getJobAttributes, [attr("job-id", integer(draft))]);
  t.deepEqual(job(canceled, "job-state"), [7]);
  t.deepEqual(job(canceled, "job-state-reasons"), ["job-canceled-by-user"]);
  t.is(statusName(await ipp(Operation.cancelJob, [attr("job-id", integer(draft))])), "0x0404");

  // A job held by a full engine, canceled from a second connection.
  engine.capacity = 5;
  const printing = send(port, ippRequest(Operation.printJob, port, [attr("requesting-user-name", name("dave"))]), encodeDocument([testPage(400, 400, "srgb_8", 5)]));
  t.true(await until(() => engine.full));
  const jobs = await ipp(Operation.getJobs, [attr("requested-attributes", keyword("job-id"), keyword("job-state"))]);
  t.deepEqual(values(jobs, GroupTag.job, "job-state"), [5]);
  const id = values(jobs, GroupTag.job, "job-id")[0] as number;
  t.is(statusName(await ipp(Operation.cancelJob, [attr("job-id", integer(id))])), "0x0000");
  const answer = await printing;
  t.is(statusName(answer), "0x0508");
  t.deepEqual(job(answer, "job-state"), [7]);
  t.true(engine.jobs.at(-1)!.aborted);
  const privetState = await privet(`/privet/printer/jobstate?job_id=${engine.jobs.at(-1)!.id}`);
  t.like(privetState, { state: "aborted" });
  t.deepEqual(privetState.semantic_state.state.user_action_cause, { action_code: "CANCELLED" });
  engine.capacity = Infinity;
  engine.release();

  const a1 = job(await ipp(Operation.createJob, [attr("requesting-user-name", name("erin"))]), "job-id")[0] as number;
  const a2 = job(await ipp(Operation.createJob, [attr("requesting-user-name", name("erin"))]), "job-id")[0] as number;
  const b = job(await ipp(Operation.createJob, [attr("requesting-user-name", name("frank"))]), "job-id")[0] as number;
  t.is(statusName(await ipp(Operation.cancelMyJobs, [attr("requesting-user-name", name("erin"))])), "0x0000");
  const state = async (n: number) => job(await ipp(Operation.getJobAttributes, [attr("job-id", integer(n))]), "job-state")[0];
  t.deepEqual([await state(a1), await state(a2), await state(b)], [7, 7, 3]);
});

test("busy, stopped and not accepting: server-error-busy while a job prints or the engine is faulted, not-accepting with local printing off, 404 with discovery off", async (t) => {
  const { port, ipp, engine, printer } = await setup(t);
  engine.capacity = 5;
  const doc = encodeDocument([testPage(400, 400, "srgb_8", 5)]);
  const first = send(port, ippRequest(Operation.printJob, port), doc);
  t.true(await until(() => engine.full));
  const busy = await ipp(Operation.printJob, [], [], doc);
  t.is(statusName(busy), "0x0507");
  t.deepEqual(printerAttr(await ipp(Operation.getPrinterAttributes, [attr("requested-attributes", keyword("printer-state"), keyword("queued-job-count"))]), "printer-state"), [4]);
  engine.capacity = Infinity;
  engine.release();
  t.is(statusName(await first), "0x0000");
  // A jam, not paper: out of paper the job is taken and waits (ipp-selfcert.test.ts).
  engine.setFault("media-jam", "Paper jam");
  const stopped = await ipp(Operation.printJob, [], [], doc);
  t.is(statusName(stopped), "0x0507");
  t.is(group(stopped, GroupTag.operation)!.attributes.find((a) => a.name === "status-message")?.values[0].kind, "string");
  engine.setFault(undefined);

  printer.settings.set("localPrinting", false);
  t.deepEqual(printerAttr(await ipp(Operation.getPrinterAttributes), "printer-is-accepting-jobs"), [false]);
  t.is(statusName(await ipp(Operation.printJob, [], [], doc)), "0x0506");
  t.is(statusName(await ipp(Operation.createJob)), "0x0506");
  printer.settings.set("localPrinting", true);
  await printer.setLocalDiscovery(false);
  t.is((await postIpp(port, encodeMessage(ippRequest(Operation.getPrinterAttributes, port)))).status, 404);
  await printer.setLocalDiscovery(true);
  t.is(statusName(await ipp(Operation.getPrinterAttributes)), "0x0000");
});

test("Identify-Printer shows the message; an action the printer lacks is ignored, named back, and the default done", async (t) => {
  const { ipp, logs } = await setup(t);
  t.is(statusName(await ipp(Operation.identifyPrinter, [attr("identify-actions", keyword("display")), attr("message", { kind: "string", tag: 0x41, value: "over here" })])), "0x0000");
  t.true(logs.some((l) => l === "identify: display: over here"));
  const sound = await ipp(Operation.identifyPrinter, [attr("identify-actions", keyword("sound"))]);
  t.is(statusName(sound), "0x0001");
  t.deepEqual(values(sound, GroupTag.unsupported, "identify-actions"), ["sound"]);
  t.is(logs.filter((l) => l.startsWith("identify: display")).length, 2);
});

test("a chunked Print-Job over a real socket streams through many engine-full pauses and the pages arrive whole", async (t) => {
  const { port, engine } = await setup(t);
  engine.capacity = 10;
  const pages = Array.from({ length: 2 }, (_, i) => testPage(1200, 800, "srgb_8", 11 + i));
  const page = pages[0];
  const doc = encodeDocument(pages);
  const head = encodeMessage(ippRequest(Operation.printJob, port, [attr("document-format", PWG)]));
  const socket = net.connect(port, "127.0.0.1");
  t.teardown(() => socket.destroy());
  let received = Buffer.alloc(0);
  socket.on("data", (c) => (received = Buffer.concat([received, c])));
  socket.on("error", () => {});
  socket.write("POST /ipp/print HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ipp\r\nTransfer-Encoding: chunked\r\n\r\n");
  const chunk = (bytes: Uint8Array) => socket.write(Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from("\r\n")]));
  chunk(head);
  for (let at = 0; at < doc.length; at += 65536) chunk(doc.subarray(at, at + 65536));
  socket.write("0\r\n\r\n");
  t.true(await until(() => engine.full));
  const taken = engine.linesTaken;
  await new Promise((r) => setTimeout(r, 300));
  t.is(engine.linesTaken, taken, "nothing more reaches a full engine");
  // Full and ready again, many times, then free running.
  let releases = 0;
  for (let i = 0; i < 50; i++) {
    if (await until(() => engine.full, 200)) { releases++; engine.release(); }
  }
  t.true(releases > 10, `${releases} times full`);
  engine.capacity = Infinity;
  engine.release();
  t.true(await until(() => received.includes("\r\n\r\n"), 20_000));
  t.is(engine.pages.length, 2);
  t.deepEqual(engine.pixels(0), page.pixels);
  t.true(await until(() => received.length >= received.indexOf("\r\n\r\n") + 4 + Number(/Content-Length: (\d+)/i.exec(received.toString("latin1"))![1])));
  t.is(statusName(decodeMessage(new Uint8Array(received.subarray(received.indexOf("\r\n\r\n") + 4))).message), "0x0000");
});

test("hostile requests over HTTP: 400 mutated messages, a huge head, a cut-off body; each answered or closed, and the printer still serves", async (t) => {
  const { port, ipp } = await setup(t);
  const random = new SeededRandom(0x1bb5);
  const seeds = [
    encodeMessage(ippRequest(Operation.getPrinterAttributes, port, [attr("requested-attributes", keyword("all"), keyword("media-col-database"))])),
    encodeMessage(ippRequest(Operation.validateJob, port, [attr("job-name", name("x"))], [attr("media-col", collection([attr("media-size", collection([attr("x-dimension", integer(21000)), attr("y-dimension", integer(29700))]))]))])),
    encodeMessage(ippRequest(Operation.getJobs, port, [attr("which-jobs", keyword("all"))])),
  ];
  const statuses = new Map<string, number>();
  for (let i = 0; i < 400; i++) {
    const answer = await postIpp(port, mutate(random, seeds[i % seeds.length]));
    t.is(answer.status, 200);
    const status = statusName(decodeMessage(new Uint8Array(answer.body)).message);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }
  t.true((statuses.get("0x0400") ?? 0) > 100, JSON.stringify([...statuses]));
  t.true(statuses.size > 2, JSON.stringify([...statuses]));
  // 1 MB of attributes: refused once the head passes its bound.
  const huge = new Uint8Array(1 << 20);
  huge.set(seeds[0].subarray(0, seeds[0].length - 1));
  for (let at = seeds[0].length - 1; at + 5 < huge.length; at += 5) huge.set([0x44, 0, 0, 0, 0], at);
  const refused = decodeMessage(new Uint8Array((await postIpp(port, huge)).body)).message;
  t.is(statusName(refused), "0x0400");
  // A body that stops half-way through the message.
  const cut = net.connect(port, "127.0.0.1");
  cut.on("error", () => {});
  cut.write(`POST /ipp/print HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ipp\r\nContent-Length: ${seeds[0].length}\r\n\r\n`);
  cut.write(seeds[0].subarray(0, 20));
  await new Promise((r) => setTimeout(r, 50));
  cut.destroy();
  t.is(statusName(await ipp(Operation.getPrinterAttributes)), "0x0000");
});

test("a chunked Print-Job under backpressure: a full engine pauses the connection, whose bytes wait in the TCP window", async (t) => {
  const engine = new TestEngine();
  const tcp = new FakeTcp();
  const printer = new Printer({ ...nodeHal({ log: () => {}, engine }), tcp }, { port: 631 });
  await printer.start();
  t.teardown(() => printer.stop());
  engine.capacity = 4;
  const page = testPage(600, 400, "sgray_8", 21);
  const doc = encodeDocument([page]);
  const head = encodeMessage(ippRequest(Operation.printJob, 631, [attr("document-format", PWG)]));
  const c = tcp.accept("192.168.1.20");
  // The printer's own .local name, which job-uri must follow.
  c.send(`POST /ipp/print HTTP/1.1\r\nHost: ${printer.hostLabel()}.local:631\r\nContent-Type: application/ipp\r\nTransfer-Encoding: chunked\r\n\r\n`);
  const chunked = (bytes: Uint8Array) => c.send(Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from("\r\n")]));
  chunked(head);
  for (let at = 0; at < doc.length; at += 4096) chunked(doc.subarray(at, at + 4096));
  c.send("0\r\n\r\n");
  t.true(engine.full);
  t.true(c.paused, "the connection stops reading while the engine is full");
  t.true(c.queuedBytes > doc.length / 2, `${c.queuedBytes} bytes wait unread`);
  const taken = engine.linesTaken;
  await new Promise((r) => setTimeout(r, 50));
  t.is(engine.linesTaken, taken);
  let releases = 0;
  for (let i = 0; i < 5000 && !c.output().includes("HTTP/1.1 200"); i++) {
    if (engine.full) { releases++; engine.release(); }
    await new Promise((r) => setImmediate(r));
  }
  t.true(releases > 20, `${releases} times full`);
  t.deepEqual(engine.pixels(0), page.pixels);
  t.is(c.queuedBytes, 0);
  const response = Buffer.from(c.output(), "latin1");
  const answer = decodeMessage(new Uint8Array(response.subarray(response.indexOf("\r\n\r\n") + 4))).message;
  t.is(statusName(answer), "0x0000");
  t.is(values(answer, GroupTag.job, "job-uri")[0], `ipp://${printer.hostLabel()}.local:631/ipp/print/1`);
});

test("printer-icons name PNGs the printer draws; MuPDF reads them at their sizes", async (t) => {
  const { port, ipp } = await setup(t);
  const icons = printerAttr(await ipp(Operation.getPrinterAttributes, [attr("requested-attributes", keyword("printer-icons"))]), "printer-icons") as string[];
  t.deepEqual(icons.map((u) => u.replace(/^http:\/\/[^/]+/, "")), ["/ipp/icon-48.png", "/ipp/icon-128.png"]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipp-icon-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const size of [48, 128]) {
    const png = await new Promise<Buffer>((resolve, reject) => {
      http.get({ host: "127.0.0.1", port, path: `/ipp/icon-${size}.png` }, (response) => {
        t.is(response.headers["content-type"], "image/png");
        const chunks: Buffer[] = [];
        response.on("data", (c: Buffer) => chunks.push(c));
        response.on("end", () => resolve(Buffer.concat(chunks)));
      }).on("error", reject);
    });
    const file = path.join(dir, `icon-${size}.png`);
    fs.writeFileSync(file, png);
    const image = readPng(file);
    t.deepEqual([image.width, image.height, image.channels], [size, size, 1]);
    t.deepEqual([...new Set(image.pixels)].sort((a, b) => a - b), [40, 90, 180, 250, 255]);
    if (which("mutool")) {
      // PNGs without a pHYs chunk are 96 dpi to MuPDF.
      const drawn = await run("mutool", ["draw", "-q", "-r", "96", "-F", "pgm", "-o", path.join(dir, `icon-${size}.pgm`), file], 20_000);
      t.is(drawn.code, 0, drawn.stderr);
      t.true(fs.readFileSync(path.join(dir, `icon-${size}.pgm`)).includes(Buffer.from(`${size} ${size}`)));
    }
  }
  t.is((await get(port, "/ipp/icon-64.png")).status, 404);
});

test("a document announced larger than the printer takes is refused before it is read; a taken one's size is job-k-octets", async (t) => {
  const { ipp, engine } = await setup(t, { maxDocumentBytes: 20_000 });
  const small = encodeDocument([testPage(100, 100, "sgray_8", 1)]);
  const big = encodeDocument([testPage(300, 300, "srgb_8", 2)]);
  t.true(small.length < 20_000 && big.length > 20_000);
  const refused = await ipp(Operation.printJob, [], [], big);
  t.is(statusName(refused), "0x0408");
  t.is(engine.jobs.length, 0);
  const taken = await ipp(Operation.printJob, [], [], small);
  const attrs = await ipp(Operation.getJobAttributes, [attr("job-id", integer(job(taken, "job-id")[0] as number))]);
  t.deepEqual(job(attrs, "job-k-octets"), [Math.ceil(small.length / 1024)]);
});

test("3000 mutated requests through the whole printer (HTTP server, IPP, spooler) each on its own connection: every one answered with an IPP status, none thrown, and the printer still serves", async (t) => {
  const engine = new TestEngine();
  const tcp = new FakeTcp();
  const errors: string[] = [];
  const printer = new Printer({ ...nodeHal({ log: (level, message) => { if (level === "error") errors.push(message); }, engine }), tcp }, { port: 631 });
  await printer.start();
  t.teardown(() => printer.stop());
  const random = new SeededRandom(0x5eed);
  const doc = encodeDocument([testPage(20, 10, "black_1", 1)]);
  const seeds = [
    encodeMessage(ippRequest(Operation.getPrinterAttributes, 631, [attr("requested-attributes", keyword("all"), keyword("media-col-database"))])),
    encodeMessage(ippRequest(Operation.printJob, 631, [attr("job-name", name("m"))], [attr("media-col", collection([attr("media-size", collection([attr("x-dimension", integer(21000)), attr("y-dimension", integer(29700))]))]))])),
    encodeMessage(ippRequest(Operation.createJob, 631, [], [attr("copies", integer(1))])),
    encodeMessage(ippRequest(Operation.cancelMyJobs, 631, [attr("requesting-user-name", name("x"))])),
  ];
  const statuses = new Map<string, number>();
  for (let i = 0; i < 3000; i++) {
    const seed = seeds[i % seeds.length];
    const body = Buffer.concat([mutate(random, seed), i % seeds.length === 1 ? doc : Buffer.alloc(0)]);
    const c = tcp.accept(`10.0.${i % 200}.1`);
    c.send(Buffer.concat([Buffer.from(`POST /ipp/print HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ipp\r\nContent-Length: ${body.length}\r\n\r\n`), body]));
    const output = Buffer.from(c.output(), "latin1");
    const at = output.indexOf("\r\n\r\n");
    t.true(output.subarray(0, 12).toString() === "HTTP/1.1 200", `request ${i}: ${output.subarray(0, 60).toString()}`);
    const status = statusName(decodeMessage(new Uint8Array(output.subarray(at + 4))).message);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    c.closeFromPeer();
  }
  t.deepEqual(errors, [], "no operation threw");
  t.true((statuses.get("0x0400") ?? 0) > 500, JSON.stringify([...statuses]));
  t.true((statuses.get("0x0000") ?? 0) > 100, JSON.stringify([...statuses]));
  const c = tcp.accept();
  c.send(Buffer.concat([Buffer.from(`POST /ipp/print HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ipp\r\nContent-Length: ${seeds[0].length}\r\n\r\n`), seeds[0]]));
  const output = Buffer.from(c.output(), "latin1");
  t.is(statusName(decodeMessage(new Uint8Array(output.subarray(output.indexOf("\r\n\r\n") + 4))).message), "0x0000");
  t.log(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
});

test("a receipt printer's roll: roll_max name, a y-dimension range, kind=receipt, face-up; a receipt of any length up to the roll's is taken", async (t) => {
  const caps = {
    colorSpaces: ["black_1" as const], resolutions: [{ x: 203, y: 203 }],
    media: [{ name: "CUSTOM", widthMicrons: 48_000, heightMicrons: 1_000_000, continuous: true }], maxWidth: 384, maxHeight: 8000,
  };
  const printer = new Printer(nodeHal({ log: () => {}, engine: new NullEngine(caps) }), { port: 0 });
  const port = await printer.start();
  t.teardown(() => printer.stop());
  const ipp = (operation: number, o = [] as ReturnType<typeof attr>[], j = [] as ReturnType<typeof attr>[]) => send(port, ippRequest(operation, port, o, j));
  const answer = await ipp(Operation.getPrinterAttributes, [attr("requested-attributes", keyword("media-supported"), keyword("media-size-supported"), keyword("output-bin-supported"), keyword("print-color-mode-supported"), keyword("print-color-mode-default"), keyword("color-supported"))]);
  t.deepEqual(printerAttr(answer, "media-supported"), ["roll_max_48x1000mm"]);
  t.deepEqual(printerAttr(answer, "media-size-supported"), [{ "x-dimension": [4800], "y-dimension": ["1-100000"] }]);
  t.deepEqual(printerAttr(answer, "output-bin-supported"), ["face-up"]);
  t.deepEqual(printerAttr(answer, "print-color-mode-supported"), ["auto", "bi-level"]);
  t.deepEqual(printerAttr(answer, "print-color-mode-default"), ["bi-level"]);
  t.deepEqual(printerAttr(answer, "color-supported"), [false]);
  const receipt = (length: number) => [attr("media-col", collection([attr("media-size", collection([attr("x-dimension", integer(4800)), attr("y-dimension", integer(length))]))]))];
  t.is(statusName(await ipp(Operation.validateJob, [], receipt(8000))), "0x0000");
  t.is(statusName(await ipp(Operation.validateJob, [], receipt(200_000))), "0x0001");
  const txt = Object.fromEntries(ippTxt(
    { name: "R", description: "", location: "", manufacturer: "M", model: "T", firmware: "1", serialNumber: "0123456789abcdef0123456789abcdef" },
    caps, ["image/pwg-raster"], "http://r.local:80/"));
  t.like(txt, { kind: "receipt", Color: "F", Duplex: "F", UUID: "01234567-89ab-cdef-0123-456789abcdef", pdl: "image/pwg-raster", rp: "ipp/print" });
});

test("with a panel, Identify-Printer flashes its indicator and shows the message on its display", async (t) => {
  const panel = new TestPanel();
  const printer = new Printer(nodeHal({ log: () => {}, engine: new TestEngine(), panel }), { port: 0 });
  const port = await printer.start();
  t.teardown(() => printer.stop());
  const ipp = (operation: number, o = [] as ReturnType<typeof attr>[]) => send(port, ippRequest(operation, port, o));
  t.deepEqual(printerAttr(await ipp(Operation.getPrinterAttributes, [attr("requested-attributes", keyword("identify-actions-supported"))]), "identify-actions-supported"), ["flash", "display"]);
  t.is(statusName(await ipp(Operation.identifyPrinter)), "0x0000");
  t.deepEqual(panel.modes, ["blink"], "the default action is flash");
  t.is(statusName(await ipp(Operation.identifyPrinter, [attr("identify-actions", keyword("display")), attr("message", { kind: "string", tag: 0x41, value: "Pick me up" })])), "0x0000");
  t.is(panel.text, "Pick me up");
});
