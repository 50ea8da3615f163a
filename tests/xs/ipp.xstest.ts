import test from "./harness.js";
import { HttpRouter } from "../../modules/http/router.js";
import { HttpServer } from "../../modules/http/server.js";
import { IppError, MessageDecoder, decodeMessage, defaultIppLimits, messageProblem } from "../../modules/ipp-codec/decode.js";
import { encodeMessage } from "../../modules/ipp-codec/encode.js";
import { IppService } from "../../modules/ipp/service.js";
import {
  GroupTag, Operation, attr, charset, collection, find, integer, keyword, language, mimeType, name, resolution, text, uri,
  type IppGroup, type IppMessage,
} from "../../modules/ipp-codec/values.js";
import { JobStore } from "../../modules/jobs/store.js";
import { JobLifecycle } from "../../modules/print/lifecycle.js";
import { Spooler } from "../../modules/print/spooler.js";
import { PwgDecoder } from "../../modules/pwg/decoder.js";
import { escapeControls } from "../../modules/text/utf8.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { mediaColMemberWithoutValue, mutate, withJobItems } from "../helpers/ipp-mutate.js";
import { encodeDocument, testPage } from "../helpers/pwg.js";
import { SeededRandom } from "../helpers/seeded-random.js";
import { TestEngine } from "../helpers/test-engine.js";
import { FakeSocket, ascii, fakeListener } from "./fake-socket.js";
import { DeviceState } from "../../modules/device/state.js";
import { followPrintPath } from "../../modules/print/device-state.js";
import { Admission } from "../../modules/print/admission.js";

// modules/ipp inside XS: the codec on hostile input, and the service behind
// the real HTTP server printing a chunked Print-Job through a full engine.


// The IPP answer of the one response written so far.
function answer(s: FakeSocket): IppMessage {
  const at = s.out.indexOf("\r\n\r\n");
  if (at < 0) throw new Error("no response");
  return decodeMessage(ascii(s.out.slice(at + 4))).message;
}

function request(operation: number, operationAttributes = [] as ReturnType<typeof attr>[], jobAttributes = [] as ReturnType<typeof attr>[]): IppMessage {
  const groups: IppGroup[] = [{ tag: GroupTag.operation, attributes: [
    attr("attributes-charset", charset("utf-8")), attr("attributes-natural-language", language("en")),
    attr("printer-uri", uri("ipp://printer.local/ipp/print")), ...operationAttributes,
  ] }];
  if (jobAttributes.length > 0) groups.push({ tag: GroupTag.job, attributes: jobAttributes });
  return { major: 2, minor: 0, code: operation, requestId: 9, groups };
}

function printer() {
  const clock = new FakeClock();
  const engine = new TestEngine();
  const jobs = new JobStore(clock, new SeededRandom(3));
  const lifecycle = new JobLifecycle(jobs, () => {});
  const spooler = new Spooler(engine, lifecycle, clock, () => {});
  const state = new DeviceState(clock);
  followPrintPath(state, { engine, spooler, lifecycle });
  const admission = new Admission({ state, spooler, open: () => true, formats: () => ["image/pwg-raster"] });
  const ipp = new IppService({
    clock, log: () => {}, engine, jobs, lifecycle, spooler, state, admission,
    formats: { "image/pwg-raster": () => (sink, limits) => new PwgDecoder(sink, limits) },
    device: () => ({ name: "XS", description: "", location: "", manufacturer: "M", model: "X", firmware: "1", serialNumber: "0123456789abcdef0123456789abcdef" }),
    exposed: () => true, accepting: () => true, identifyActions: ["display"], identify: () => {}, limits: defaultIppLimits, maxDocumentBytes: 1 << 24,
  }, () => "printer.local:80");
  const router = new HttpRouter();
  router.mount("/ipp/", ipp.handle);
  const listener = fakeListener(80);
  void new HttpServer(listener.tcp, clock, () => {}, {}, router.handle).start();
  const connect = () => listener.connect("192.0.2.7");
  const post = (message: IppMessage, document = new Uint8Array(0)) => {
    const head = encodeMessage(message);
    const s = connect();
    s.send(ascii(`POST /ipp/print HTTP/1.1\r\nHost: printer.local\r\nContent-Type: application/ipp\r\nContent-Length: ${head.length + document.length}\r\n\r\n`));
    s.send(head);
    if (document.length > 0) s.send(document);
    return s;
  };
  return { clock, engine, connect, post };
}

test("the IPP codec on XS: a round trip, and 1000 mutations each decoded or refused with an IppError", (t) => {
  const message = request(Operation.validateJob, [attr("job-name", name("x"))], [
    attr("media-col", collection([attr("media-size", collection([attr("x-dimension", integer(21000)), attr("y-dimension", integer(29700))]))])),
    attr("printer-resolution", resolution(300, 300)), attr("media", keyword("iso_a4_210x297mm")),
  ]);
  const bytes = encodeMessage(message);
  t.deepEqual(decodeMessage(bytes).message, message);
  const random = new SeededRandom(77);
  let refused = 0;
  for (let i = 0; i < 1000; i++) {
    const decoder = new MessageDecoder();
    const mutated = mutate(random, bytes);
    try {
      let at = 0;
      for (let guard = 0; at < mutated.length && !decoder.complete && guard <= mutated.length; guard++) at += decoder.feed(mutated.subarray(at, at + 1 + random.below(32)));
      decoder.finish();
    } catch (error) {
      if (!(error instanceof IppError)) throw error;
      refused++;
    }
  }
  t.true(refused > 200, `${refused} refused`);
});

test("IPP over the HTTP server on XS: Get-Printer-Attributes, a chunked Print-Job held by a full engine, Get-Jobs", (t) => {
  const { engine, connect, post, clock } = printer();
  const attrs = answer(post(request(Operation.getPrinterAttributes, [attr("requested-attributes", keyword("printer-uuid"), keyword("document-format-supported"))])));
  t.is(attrs.code, 0);
  t.deepEqual(find(attrs.groups[1], "printer-uuid")!.values, [uri("urn:uuid:01234567-89ab-cdef-0123-456789abcdef")]);
  t.deepEqual(find(attrs.groups[1], "document-format-supported")!.values, [mimeType("image/pwg-raster")]);

  engine.capacity = 3;
  const page = testPage(90, 40, "srgb_8", 4);
  const body = [...encodeMessage(request(Operation.printJob, [attr("document-format", mimeType("image/pwg-raster"))])), ...encodeDocument([page])];
  const s = connect();
  s.send(ascii("POST /ipp/print HTTP/1.1\r\nHost: printer.local\r\nContent-Type: application/ipp\r\nTransfer-Encoding: chunked\r\n\r\n"));
  for (let at = 0; at < body.length; at += 500) {
    const piece = body.slice(at, at + 500);
    s.send(Uint8Array.from([...ascii(`${piece.length.toString(16)}\r\n`), ...piece, 13, 10]));
  }
  s.send(ascii("0\r\n\r\n"));
  t.true(s.paused, "the connection is paused while the engine is full");
  t.true(s.queued > 0);
  let releases = 0;
  for (let i = 0; i < 10_000 && s.out.length === 0; i++) {
    if (engine.full) { releases++; engine.release(); }
    clock.advance(1);
  }
  t.true(releases > 5);
  const printed = answer(s);
  t.is(printed.code, 0);
  t.deepEqual(find(printed.groups[1], "job-id")!.values, [integer(1)]);
  t.deepEqual(engine.pixels(0), page.pixels);
  const jobs = answer(post(request(Operation.getJobs, [attr("which-jobs", keyword("completed")), attr("requested-attributes", keyword("job-state"))])));
  t.deepEqual(find(jobs.groups[1], "job-state")!.values, [{ kind: "integer", tag: 0x23, value: 9 }]);
});

test("a media-col member without a value on XS: refused by the decoder in any chunking, flagged by the check, answered 0x0400 over HTTP with no job made", (t) => {
  const head = encodeMessage(request(Operation.createJob, [attr("document-format", mimeType("image/pwg-raster"))]));
  const bytes = withJobItems(head, mediaColMemberWithoutValue());
  for (const step of [1, 3, bytes.length]) {
    const decoder = new MessageDecoder();
    let reason = "";
    try {
      for (let at = 0; at < bytes.length && !decoder.complete; at += step) decoder.feed(bytes.subarray(at, at + step));
      decoder.finish();
    } catch (error) {
      t.true(error instanceof IppError, String(error));
      reason = (error as Error).message;
    }
    t.is(reason, "collection member x-dimension has no value", `fed ${step} bytes at a time`);
  }
  // A message built in memory is held to the same rule before any operation sees it.
  const empty = request(Operation.validateJob, [], [attr("media-col", collection([attr("media-size", collection([{ name: "x-dimension", values: [] }]))]))]);
  t.is(messageProblem(empty), "collection member x-dimension has no value");
  t.is(messageProblem(request(Operation.validateJob)), undefined);
  t.is(escapeControls("a\x00b\u0007\u001b[2J\\"), "a\\x00b\\x07\\x1b[2J\\\\");

  const { engine, connect } = printer();
  const s = connect();
  s.send(ascii(`POST /ipp/print HTTP/1.1\r\nHost: printer.local\r\nContent-Type: application/ipp\r\nContent-Length: ${bytes.length}\r\n\r\n`));
  s.send(bytes);
  const refused = answer(s);
  t.is(refused.code, 0x0400);
  t.deepEqual(find(refused.groups[0], "status-message")!.values[0], text("collection member x-dimension has no value"));
  t.is(engine.jobs.length, 0);
});

export { runAll } from "./harness.js";
