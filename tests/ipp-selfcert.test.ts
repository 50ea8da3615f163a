import test, { type ExecutionContext } from "ava";
import { Printer } from "../modules/printer/printer.js";
import type { PrinterConfig } from "../modules/printer/config.js";
import { nodeHal } from "../hosts/node/hal.js";
import { GroupTag, Operation, ValueTag, attr, boolean, find, integer, keyword, mimeType, name, type IppAttribute, type IppMessage } from "../modules/ipp-codec/values.js";
import { encodeDocument, testPage } from "./helpers/pwg.js";
import { TestEngine } from "./helpers/test-engine.js";
import { OFFICE_CAPABILITIES } from "../modules/print/office-capabilities.js";
import { group, ippRequest, send, statusName, values } from "./helpers/ipp.js";
import { SMALL_JPEG_BASE64 } from "./helpers/small-jpeg.js";

// What PWG's IPP Everywhere self-certification (ippeveselfcert's
// ipp-tests.test and document-tests.test) asks beyond CUPS's
// ipp-everywhere.test, over HTTP, each named by its self-cert test.

// One test at a time: each starts a printer and some hold jobs on purpose,
// and ten at once on a loaded machine made single requests wait past any bound.

// Ends its jobs a while after the document is in, as a real mechanism does.
class SlowEngine extends TestEngine {
  // 150 dpi first (the default a JPEG is placed at): an A4 page of 26 MB at
  // 300 dpi, kept and compared by the copies tests, made one test take 9 s.
  override capabilities = { ...OFFICE_CAPABILITIES, resolutions: [{ x: 150, y: 150 }, { x: 300, y: 300 }, { x: 600, y: 600 }] };
  finishAfterMs = 0;
  // While set, a job's end waits for finishHeld() (the sheet on its way out).
  holding = false;
  private heldEnds: Array<() => void> = [];
  finishHeld(): void {
    this.holding = false;
    for (const end of this.heldEnds.splice(0)) end();
  }
  override endJob(aborted: boolean): void {
    if (!aborted && this.holding) {
      this.heldEnds.push(() => super.endJob(aborted));
      return;
    }
    if (aborted || this.finishAfterMs === 0) return super.endJob(aborted);
    setTimeout(() => super.endJob(aborted), this.finishAfterMs);
  }
}

async function setup(t: ExecutionContext, config: Partial<PrinterConfig> = {}) {
  const engine = new SlowEngine();
  const printer = new Printer(nodeHal({ log: () => {}, engine }), { port: 0, ...config });
  const port = await printer.start();
  t.teardown(() => printer.stop());
  const ipp = (operation: number, operationAttributes: IppAttribute[] = [], jobAttributes: IppAttribute[] = [], document?: Uint8Array) =>
    send(port, ippRequest(operation, port, operationAttributes, jobAttributes), document, { timeoutMs: 60_000 });
  return { engine, port, ipp };
}

// Generous bounds: a loaded CI machine may be slow, and a verdict must not depend on it.
const until = async (check: () => Promise<boolean>, ms = 30_000) => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) if (await check()) return true;
  return false;
};

const job = (m: IppMessage, n: string) => values(m, GroupTag.job, n);
const printerAttr = (m: IppMessage, n: string) => values(m, GroupTag.printer, n);
const tagOf = (m: IppMessage, n: string) => find(group(m, GroupTag.job), n)?.values.map((v) => v.tag);
const PAGE = () => encodeDocument([testPage(60, 40, "sgray_8", 1), testPage(60, 40, "sgray_8", 2)]);
const smallJpeg = () => Uint8Array.from(Buffer.from(SMALL_JPEG_BASE64, "base64"));
const UUID = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

test.serial("I-14/I-15.1/I-16.3: PWG 5100.14 Table 9 job attributes: job-uuid, date-time-at-*, job-impressions, time-at-*", async (t) => {
  const { ipp } = await setup(t);
  const printed = await ipp(Operation.printJob, [attr("requesting-user-name", name("alice"))], [], PAGE());
  const id = job(printed, "job-id")[0] as number;
  const all = await ipp(Operation.getJobAttributes, [attr("job-id", integer(id)), attr("requested-attributes", keyword("all"))]);
  t.regex(job(all, "job-uuid")[0] as string, UUID);
  for (const n of ["date-time-at-creation", "date-time-at-processing", "date-time-at-completed"]) t.deepEqual(tagOf(all, n), [ValueTag.dateTime], n);
  t.deepEqual(job(all, "job-impressions"), [2]);
  t.deepEqual(job(all, "job-impressions-completed"), [2]);
  for (const n of ["time-at-creation", "time-at-processing", "time-at-completed"]) t.true((job(all, n)[0] as number) > 0, n);
  // The same in Get-Jobs with requested-attributes all (I-15.1), one uuid per job.
  const again = await ipp(Operation.printJob, [], [], PAGE());
  const listed = await ipp(Operation.getJobs, [attr("which-jobs", keyword("completed")), attr("requested-attributes", keyword("all"))]);
  const uuids = [0, 1].map((i) => values(listed, GroupTag.job, "job-uuid", i)[0]);
  t.true(uuids.every((u) => UUID.test(u as string)));
  t.not(uuids[0], uuids[1]);
  t.deepEqual(uuids[0], job(await ipp(Operation.getJobAttributes, [attr("job-id", integer(job(again, "job-id")[0] as number)), attr("requested-attributes", keyword("job-uuid"))]), "job-uuid")[0]);
  t.deepEqual(values(listed, GroupTag.job, "date-time-at-completed", 1).length, 1);

  // A job not yet printed: no-value for what has not happened (I-13.1 allows no-value).
  const draft = job(await ipp(Operation.createJob), "job-id")[0] as number;
  const waiting = await ipp(Operation.getJobAttributes, [attr("job-id", integer(draft))]);
  t.deepEqual(tagOf(waiting, "date-time-at-creation"), [ValueTag.dateTime]);
  for (const n of ["date-time-at-processing", "date-time-at-completed", "job-impressions", "time-at-processing", "time-at-completed"]) t.deepEqual(tagOf(waiting, n), [ValueTag.noValue], n);
  t.deepEqual(job(waiting, "job-impressions-completed"), [0]);
});

test.serial("I-10.5/I-10.6: job-creation-attributes-supported is a printer-description attribute, not job-template", async (t) => {
  const { ipp } = await setup(t);
  const description = await ipp(Operation.getPrinterAttributes, [attr("requested-attributes", keyword("printer-description"))]);
  t.true(printerAttr(description, "job-creation-attributes-supported").includes("media"));
  t.true(printerAttr(description, "job-creation-attributes-supported").includes("print-color-mode"));
  const template = await ipp(Operation.getPrinterAttributes, [attr("requested-attributes", keyword("job-template"))]);
  t.deepEqual(printerAttr(template, "job-creation-attributes-supported"), []);
  t.deepEqual(printerAttr(template, "copies-supported"), ["1-1"]);
});

test.serial("I-12/I-13.1: the Print-Job answer's job-state is the job's when the answer goes: completed for a job that ends at once, processing (and in not-completed) for one still printing", async (t) => {
  const { ipp, engine } = await setup(t);
  engine.finishAfterMs = 100;
  const quick = await ipp(Operation.printJob, [], [], PAGE());
  t.is(statusName(quick), "0x0000");
  t.deepEqual(job(quick, "job-state"), [9]);
  t.deepEqual(job(quick, "job-state-reasons"), ["job-completed-successfully"]);

  engine.finishAfterMs = 2500;
  const slow = await ipp(Operation.printJob, [], [], PAGE());
  t.deepEqual(job(slow, "job-state"), [5]);
  const id = job(slow, "job-id")[0] as number;
  const notCompleted = await ipp(Operation.getJobs, [attr("which-jobs", keyword("not-completed")), attr("requested-attributes", keyword("all"))]);
  t.deepEqual(values(notCompleted, GroupTag.job, "job-id"), [id]);
  t.deepEqual(values(notCompleted, GroupTag.job, "job-state"), [5]);
  t.true(await until(async () => job(await ipp(Operation.getJobAttributes, [attr("job-id", integer(id))]), "job-state")[0] === 9));
});

test.serial("I-20/I-20.1: out of paper a job is taken and waits, stopped, with media-needed; loading paper prints it; a jam still answers busy", async (t) => {
  const { ipp, port, engine } = await setup(t);
  engine.setFault("media-empty", "Out of paper");
  const reasons = async () => printerAttr(await ipp(Operation.getPrinterAttributes, [attr("requested-attributes", keyword("printer-state-reasons"))]), "printer-state-reasons");
  t.deepEqual(await reasons(), ["media-empty-error"], "no job waits for paper yet");
  const printing = send(port, ippRequest(Operation.printJob, port, [attr("job-name", name("I-20 media-needed Test")), attr("document-format", mimeType("image/pwg-raster"))]), PAGE(), { timeoutMs: 60_000 });
  t.true(await until(async () => (await reasons()).includes("media-needed")));
  const status = await ipp(Operation.getPrinterAttributes, [attr("requested-attributes", keyword("printer-state"), keyword("printer-state-reasons"), keyword("printer-is-accepting-jobs"))]);
  t.deepEqual(printerAttr(status, "printer-state"), [5]);
  t.deepEqual(printerAttr(status, "printer-state-reasons"), ["media-empty-error", "media-needed"]);
  t.deepEqual(printerAttr(status, "printer-is-accepting-jobs"), [true]);
  const waiting = await ipp(Operation.getJobs, [attr("requested-attributes", keyword("job-state"), keyword("job-state-reasons"))]);
  t.deepEqual(values(waiting, GroupTag.job, "job-state"), [6]);
  t.deepEqual(values(waiting, GroupTag.job, "job-state-reasons"), ["printer-stopped"]);

  engine.setFault(undefined);
  const answer = await printing;
  t.is(statusName(answer), "0x0000");
  t.deepEqual(job(answer, "job-state"), [9]);
  t.deepEqual(await reasons(), ["none"]);
  t.is(engine.pages.length, 2);

  engine.setFault("media-jam", "Paper jam");
  t.is(statusName(await ipp(Operation.printJob, [], [], PAGE())), "0x0507");
  engine.setFault(undefined);
});

test.serial("D-2.2: copies=2 for a JPEG no longer than the copies buffer prints two identical pages in one job and answers successful-ok", async (t) => {
  const { ipp, engine } = await setup(t, { ipp: { copiesBufferBytes: 64 * 1024 } });
  const template = await ipp(Operation.getPrinterAttributes, [attr("requested-attributes", keyword("copies-supported")), attr("document-format", mimeType("image/jpeg"))]);
  t.deepEqual(printerAttr(template, "copies-supported"), ["1-99"]);
  const answer = await ipp(Operation.printJob, [attr("document-format", mimeType("image/jpeg"))], [attr("copies", integer(2))], smallJpeg());
  t.is(statusName(answer), "0x0000");
  t.is(group(answer, GroupTag.unsupported), undefined);
  t.deepEqual(job(answer, "job-state"), [9]);
  t.is(engine.jobs.length, 1, "both copies in one engine job");
  t.is(engine.pages.length, 2);
  t.deepEqual(engine.pages[1].page, engine.pages[0].page);
  t.deepEqual(engine.pages[1].rows, engine.pages[0].rows);
  const id = job(answer, "job-id")[0] as number;
  const attrs = await ipp(Operation.getJobAttributes, [attr("job-id", integer(id)), attr("requested-attributes", keyword("all"))]);
  t.deepEqual(job(attrs, "copies"), [2]);
  t.deepEqual(job(attrs, "job-impressions"), [2]);
  t.deepEqual(job(attrs, "job-impressions-completed"), [2]);
  // copies must be 1 to 99 (RFC 8011 5.2.5): out of range is named back as before.
  for (const copies of [0, 1000]) {
    const substituted = await ipp(Operation.printJob, [attr("document-format", mimeType("image/jpeg"))], [attr("copies", integer(copies))], smallJpeg());
    t.is(statusName(substituted), "0x0001", `copies=${copies}`);
    t.deepEqual(values(substituted, GroupTag.unsupported, "copies"), [copies]);
    const refused = await ipp(Operation.validateJob, [attr("ipp-attribute-fidelity", boolean(true)), attr("document-format", mimeType("image/jpeg"))], [attr("copies", integer(copies))]);
    t.is(statusName(refused), "0x040b", `copies=${copies}`);
  }
  t.is(engine.pages.length, 4, "one page each for the substituted jobs");
});

test.serial("D-2.2: copies=2 for a JPEG longer than the copies buffer prints once and names copies back (0x0001); with fidelity and a length announced too long it is refused unread", async (t) => {
  const jpeg = smallJpeg();
  const { ipp, engine } = await setup(t, { ipp: { copiesBufferBytes: jpeg.length - 1 } });
  const format = attr("document-format", mimeType("image/jpeg"));
  const substituted = await ipp(Operation.printJob, [format], [attr("copies", integer(2))], jpeg);
  t.is(statusName(substituted), "0x0001");
  t.deepEqual(values(substituted, GroupTag.unsupported, "copies"), [2]);
  t.deepEqual(job(substituted, "job-state"), [9]);
  t.is(engine.pages.length, 1);
  const attrs = await ipp(Operation.getJobAttributes, [attr("job-id", integer(job(substituted, "job-id")[0] as number)), attr("requested-attributes", keyword("all"))]);
  t.deepEqual(job(attrs, "copies"), [1]);
  t.deepEqual(job(attrs, "job-impressions"), [1]);
  const refused = await ipp(Operation.printJob, [format, attr("ipp-attribute-fidelity", boolean(true))], [attr("copies", integer(2))], jpeg);
  t.is(statusName(refused), "0x040b");
  t.deepEqual(values(refused, GroupTag.unsupported, "copies"), [2]);
  t.is(engine.pages.length, 1);
  // Create-Job is answered before the document exists: Send-Document's answer says so.
  const created = await ipp(Operation.createJob, [], [attr("copies", integer(2))]);
  t.is(statusName(created), "0x0000");
  const id = job(created, "job-id")[0] as number;
  const sent = await ipp(Operation.sendDocument, [attr("job-id", integer(id)), attr("last-document", boolean(true)), format], [], jpeg);
  t.is(statusName(sent), "0x0001");
  t.deepEqual(values(sent, GroupTag.unsupported, "copies"), [2]);
  t.is(engine.pages.length, 2);
});

test.serial("D-2.2: without a copies buffer (the board) copies-supported stays 1-1 and copies=2 prints once, named back", async (t) => {
  const { ipp, engine } = await setup(t);
  for (const format of [[], [attr("document-format", mimeType("image/jpeg"))]]) {
    const template = await ipp(Operation.getPrinterAttributes, [attr("requested-attributes", keyword("copies-supported")), ...format]);
    t.deepEqual(printerAttr(template, "copies-supported"), ["1-1"]);
  }
  const format = attr("document-format", mimeType("image/jpeg"));
  const substituted = await ipp(Operation.printJob, [format], [attr("copies", integer(2))], smallJpeg());
  t.is(statusName(substituted), "0x0001");
  t.deepEqual(values(substituted, GroupTag.unsupported, "copies"), [2]);
  t.is(engine.pages.length, 1);
  const refused = await ipp(Operation.printJob, [format, attr("ipp-attribute-fidelity", boolean(true))], [attr("copies", integer(2))], smallJpeg());
  t.is(statusName(refused), "0x040b");
  t.is(engine.pages.length, 1);
});

// Get-Printer-Attributes with document-format answers for that format (RFC
// 8011 4.2.5.1): copies are made of a JPEG only. Raster clients make their own
// copies where copies-supported is 1-1 (CUPS repeats the pages in the stream),
// and a raster longer than the buffer would otherwise lose its copies.
test.serial("copies-supported per document-format: 1-99 for image/jpeg, 1-1 for PWG and URF and when no format is named; an unknown format is refused", async (t) => {
  const { ipp } = await setup(t, { ipp: { copiesBufferBytes: 64 * 1024 } });
  const copiesFor = async (format?: string) => {
    const answer = await ipp(Operation.getPrinterAttributes, [attr("requested-attributes", keyword("copies-supported"), keyword("document-format-default")),
      ...(format ? [attr("document-format", mimeType(format))] : [])]);
    return { status: statusName(answer), copies: printerAttr(answer, "copies-supported"), unsupported: values(answer, GroupTag.unsupported, "document-format") };
  };
  t.deepEqual((await copiesFor()).copies, ["1-1"], "no format: the default, PWG raster");
  t.deepEqual((await copiesFor("application/octet-stream")).copies, ["1-1"]);
  t.deepEqual((await copiesFor("image/pwg-raster")).copies, ["1-1"]);
  t.deepEqual((await copiesFor("image/urf")).copies, ["1-1"]);
  t.deepEqual((await copiesFor("image/jpeg")).copies, ["1-99"]);
  t.deepEqual((await copiesFor("IMAGE/JPEG")).copies, ["1-99"]);
  const pdf = await copiesFor("application/pdf");
  t.is(pdf.status, "0x040a");
  t.deepEqual(pdf.unsupported, ["application/pdf"]);
});

test.serial("PWG copies: copies=2 with PWG raster prints the document once and names copies back (0x0001), refused with fidelity; Create-Job's copies are settled by Send-Document's format", async (t) => {
  const { ipp, engine } = await setup(t, { ipp: { copiesBufferBytes: 64 * 1024 } });
  const pwg = attr("document-format", mimeType("image/pwg-raster"));
  const printed = await ipp(Operation.printJob, [pwg], [attr("copies", integer(2))], PAGE());
  t.is(statusName(printed), "0x0001");
  t.deepEqual(values(printed, GroupTag.unsupported, "copies"), [2]);
  t.is(engine.pages.length, 2, "the two pages once");
  const attrs = await ipp(Operation.getJobAttributes, [attr("job-id", integer(job(printed, "job-id")[0] as number)), attr("requested-attributes", keyword("copies"))]);
  t.deepEqual(job(attrs, "copies"), [1]);
  const refused = await ipp(Operation.printJob, [pwg, attr("ipp-attribute-fidelity", boolean(true))], [attr("copies", integer(2))], PAGE());
  t.is(statusName(refused), "0x040b");
  t.is(engine.pages.length, 2);
  // The raster carries its copies: the client's repeated pages all print.
  const repeated = await ipp(Operation.printJob, [pwg], [attr("copies", integer(1))],
    encodeDocument([testPage(60, 40, "sgray_8", 1), testPage(60, 40, "sgray_8", 2), testPage(60, 40, "sgray_8", 1), testPage(60, 40, "sgray_8", 2)]));
  t.is(statusName(repeated), "0x0000");
  t.is(engine.pages.length, 6);
  t.deepEqual(engine.pages[4].rows, engine.pages[2].rows);
  // Create-Job without a format takes copies=2; a PWG document then prints once and Send-Document says so.
  const created = await ipp(Operation.createJob, [], [attr("copies", integer(2))]);
  t.is(statusName(created), "0x0000");
  const sent = await ipp(Operation.sendDocument, [attr("job-id", integer(job(created, "job-id")[0] as number)), attr("last-document", boolean(true)), pwg], [], PAGE());
  t.is(statusName(sent), "0x0001");
  t.deepEqual(values(sent, GroupTag.unsupported, "copies"), [2]);
  t.is(engine.pages.length, 8);
  // Create-Job that names PWG is checked for it at once; one that names JPEG gets its copies.
  const named = await ipp(Operation.createJob, [pwg], [attr("copies", integer(2))]);
  t.is(statusName(named), "0x0001");
  t.deepEqual(values(named, GroupTag.unsupported, "copies"), [2]);
  await ipp(Operation.cancelJob, [attr("job-id", integer(job(named, "job-id")[0] as number))]);
  const jpeg = attr("document-format", mimeType("image/jpeg"));
  const photo = await ipp(Operation.createJob, [jpeg], [attr("copies", integer(2))]);
  t.is(statusName(photo), "0x0000");
  const photoSent = await ipp(Operation.sendDocument, [attr("job-id", integer(job(photo, "job-id")[0] as number)), attr("last-document", boolean(true)), jpeg], [], smallJpeg());
  t.is(statusName(photoSent), "0x0000");
  t.is(engine.pages.length, 10, "the photo twice");
});

test.serial("I-18.1: Send-Document for a created job waits for the job printing before it instead of answering busy; Print-Job still answers busy", async (t) => {
  const { ipp, engine } = await setup(t);
  engine.holding = true;
  const first = await ipp(Operation.printJob, [], [], PAGE());
  t.deepEqual(job(first, "job-state"), [5], "still printing");
  const busy = await ipp(Operation.printJob, [], [], PAGE());
  t.is(statusName(busy), "0x0507");
  const created = await ipp(Operation.createJob, [attr("job-name", name("I-18 Create-Job + Send-Document Test"))]);
  const id = job(created, "job-id")[0] as number;
  const sending = ipp(Operation.sendDocument, [attr("job-id", integer(id)), attr("last-document", boolean(true)), attr("document-format", mimeType("image/pwg-raster"))], [], PAGE());
  const answered = await Promise.race([sending.then(() => "answered"), new Promise((r) => setTimeout(() => r("waiting"), 300))]);
  t.is(answered, "waiting", "no busy answer while the first job prints");
  t.is(engine.pages.length, 2, "the second document is not read yet");
  engine.finishHeld();
  const sent = await sending;
  t.is(statusName(sent), "0x0000");
  const firstState = await ipp(Operation.getJobAttributes, [attr("job-id", integer(job(first, "job-id")[0] as number))]);
  t.deepEqual(job(firstState, "job-state"), [9], "the first job had ended before the second document was read");
  t.deepEqual(job(sent, "job-state"), [9]);
  t.is(engine.pages.length, 4);
});
