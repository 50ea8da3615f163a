import test, { type ExecutionContext } from "ava";
import { Printer } from "../modules/printer/printer.js";
import { nodeHal } from "../hosts/node/hal.js";
import { GroupTag, Operation, ValueTag, attr, boolean, find, integer, keyword, mimeType, name, type IppAttribute, type IppMessage } from "../modules/ipp-codec/values.js";
import { encodeDocument, testPage } from "./helpers/pwg.js";
import { TestEngine } from "./helpers/test-engine.js";
import { group, ippRequest, send, statusName, values } from "./helpers/ipp.js";
import { SMALL_JPEG_BASE64 } from "./helpers/small-jpeg.js";

// What PWG's IPP Everywhere self-certification (ippeveselfcert's
// ipp-tests.test and document-tests.test) asks beyond CUPS's
// ipp-everywhere.test, over HTTP, each named by its self-cert test.

// Ends its jobs a while after the document is in, as a real mechanism does.
class SlowEngine extends TestEngine {
  finishAfterMs = 0;
  override endJob(aborted: boolean): void {
    if (aborted || this.finishAfterMs === 0) return super.endJob(aborted);
    setTimeout(() => super.endJob(aborted), this.finishAfterMs);
  }
}

async function setup(t: ExecutionContext) {
  const engine = new SlowEngine();
  const printer = new Printer(nodeHal({ log: () => {}, engine }), { port: 0 });
  const port = await printer.start();
  t.teardown(() => printer.stop());
  const ipp = (operation: number, operationAttributes: IppAttribute[] = [], jobAttributes: IppAttribute[] = [], document?: Uint8Array) =>
    send(port, ippRequest(operation, port, operationAttributes, jobAttributes), document);
  return { engine, port, ipp };
}

const until = async (check: () => Promise<boolean>, ms = 5000) => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) if (await check()) return true;
  return false;
};

const job = (m: IppMessage, n: string) => values(m, GroupTag.job, n);
const printerAttr = (m: IppMessage, n: string) => values(m, GroupTag.printer, n);
const tagOf = (m: IppMessage, n: string) => find(group(m, GroupTag.job), n)?.values.map((v) => v.tag);
const PAGE = () => encodeDocument([testPage(60, 40, "sgray_8", 1), testPage(60, 40, "sgray_8", 2)]);
const UUID = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

test("I-14/I-15.1/I-16.3: PWG 5100.14 Table 9 job attributes: job-uuid, date-time-at-*, job-impressions, time-at-*", async (t) => {
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

test("I-10.5/I-10.6: job-creation-attributes-supported is a printer-description attribute, not job-template", async (t) => {
  const { ipp } = await setup(t);
  const description = await ipp(Operation.getPrinterAttributes, [attr("requested-attributes", keyword("printer-description"))]);
  t.true(printerAttr(description, "job-creation-attributes-supported").includes("media"));
  t.true(printerAttr(description, "job-creation-attributes-supported").includes("print-color-mode"));
  const template = await ipp(Operation.getPrinterAttributes, [attr("requested-attributes", keyword("job-template"))]);
  t.deepEqual(printerAttr(template, "job-creation-attributes-supported"), []);
  t.deepEqual(printerAttr(template, "copies-supported"), ["1-1"]);
});

test("I-12/I-13.1: the Print-Job answer's job-state is the job's when the answer goes: completed for a job that ends at once, processing (and in not-completed) for one still printing", async (t) => {
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

test("I-20/I-20.1: out of paper a job is taken and waits, stopped, with media-needed; loading paper prints it; a jam still answers busy", async (t) => {
  const { ipp, port, engine } = await setup(t);
  engine.setFault("media-empty", "Out of paper");
  const reasons = async () => printerAttr(await ipp(Operation.getPrinterAttributes, [attr("requested-attributes", keyword("printer-state-reasons"))]), "printer-state-reasons");
  t.deepEqual(await reasons(), ["media-empty-error"], "no job waits for paper yet");
  const printing = send(port, ippRequest(Operation.printJob, port, [attr("job-name", name("I-20 media-needed Test")), attr("document-format", mimeType("image/pwg-raster"))]), PAGE());
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

test("D-2.2: copies=2 for a JPEG is not honoured: copies-supported is 1-1; without fidelity one copy prints and copies is named back, with it the job is refused", async (t) => {
  const { ipp, engine } = await setup(t);
  const jpeg = Uint8Array.from(Buffer.from(SMALL_JPEG_BASE64, "base64"));
  const format = attr("document-format", mimeType("image/jpeg"));
  const substituted = await ipp(Operation.printJob, [format], [attr("copies", integer(2))], jpeg);
  t.is(statusName(substituted), "0x0001");
  t.deepEqual(values(substituted, GroupTag.unsupported, "copies"), [2]);
  t.deepEqual(job(substituted, "job-state"), [9]);
  t.is(engine.pages.length, 1);
  const refused = await ipp(Operation.printJob, [format, attr("ipp-attribute-fidelity", boolean(true))], [attr("copies", integer(2))], jpeg);
  t.is(statusName(refused), "0x040b");
  t.is(engine.pages.length, 1);
});
