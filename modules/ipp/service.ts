import type { HttpRequest, HttpResponse } from "../http/server.js";
import { escapeControls, fitUtf8 } from "../text/utf8.js";
import { messageProblem } from "../ipp-codec/decode.js";
import { encodeMessage } from "../ipp-codec/encode.js";
import { IppExchange, type IppAnswer, type IppContext, type Printing } from "./exchange.js";
import type { DocumentSource } from "../print/source.js";
import { IppJobIds } from "./job-ids.js";
import { cancelJobOperation, cancelMyJobs, getJobAttributes, getJobs } from "./job-operations.js";
import { closeJob, createJob, printJob, sendDocument, validateJob } from "./print-operations.js";
import { getPrinterAttributes, identifyPrinter } from "./printer-operations.js";
import { readIppRequest, type RequestBodyEvents } from "./request-body.js";
import { ICON_SIZES, iconPng } from "./icon.js";
import { PRINTER_PATH } from "./target.js";
import { GroupTag, Operation, Status, ValueTag, attr, charset, language, text, type IppMessage } from "../ipp-codec/values.js";

// IPP over HTTP (RFC 8010 section 4) at /ipp/print: a POST of
// application/ipp whose body is the message and then the document. This
// checks what every request must have (RFC 8011 4.1) and hands it to its
// operation; anything malformed is client-error-bad-request and the
// printer goes on serving.

type OperationHandler = (exchange: IppExchange, printing: Printing) => void;

const OPERATIONS: Record<number, OperationHandler> = {
  [Operation.printJob]: printJob,
  [Operation.validateJob]: validateJob,
  [Operation.createJob]: createJob,
  [Operation.sendDocument]: sendDocument,
  [Operation.closeJob]: closeJob,
  [Operation.cancelJob]: cancelJobOperation,
  [Operation.cancelMyJobs]: cancelMyJobs,
  [Operation.getJobAttributes]: getJobAttributes,
  [Operation.getJobs]: getJobs,
  [Operation.getPrinterAttributes]: getPrinterAttributes,
  [Operation.identifyPrinter]: identifyPrinter,
};

const IPP_TYPE = "application/ipp";
const IPP_OPTIONS = { contentType: IPP_TYPE };

export class IppService implements Printing {
  readonly ids: IppJobIds;

  // address(): "host:port" of this printer, for clients that send no Host header.
  constructor(readonly context: IppContext, private readonly address: () => string) {
    this.ids = new IppJobIds(context.jobs, context.lifecycle, context.clock);
  }

  // A thin arrow, bound once: a closure made at run time takes a copy of its
  // byte code into the heap, so the work is a method, which stays in flash.
  readonly handle = (request: HttpRequest, response: HttpResponse): void => this.serve(request, response);

  private serve(request: HttpRequest, response: HttpResponse): void {
    if (!this.context.exposed()) return response.send(404, `${request.path} is not available on this device\n`);
    const icon = /^\/ipp\/icon-([0-9]{2,3})\.png$/.exec(request.path);
    if (icon && ICON_SIZES.includes(Number(icon[1])) && (request.method === "GET" || request.method === "HEAD")) {
      return response.send(200, iconPng(Number(icon[1])), { contentType: "image/png" });
    }
    if (request.path !== PRINTER_PATH && !/^\/ipp\/print\/[0-9]{1,10}$/.test(request.path)) {
      return response.send(404, `${request.path} is not an IPP printer; print to ${PRINTER_PATH}\n`);
    }
    if (request.method !== "POST") {
      return response.send(405, "IPP requests are POSTs of application/ipp\n", { headers: [["Allow", "POST"]] });
    }
    const type = (request.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (type !== IPP_TYPE) return response.send(415, `send ${IPP_TYPE}\n`, { reason: "Unsupported Media Type" });
    const host = request.header("host");
    // A Host header is echoed into URIs only when it looks like one. The
    // pattern is a literal here, not a module constant (README, "Preloaded
    // regular expressions").
    const authority = host !== undefined && /^[A-Za-z0-9.\-]{1,253}(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?$/.test(host) ? host : this.address();
    readIppRequest(request, this.context.limits, new IppCall(this, request, response, `ipp://${authority}${PRINTER_PATH}`, `http://${authority}/`));
  }

  // Answers one message, whatever its operation throws.
  carryOut(exchange: IppExchange): void {
    try {
      this.dispatch(exchange);
    } catch (error) {
      this.context.log("error", `ipp: operation 0x${exchange.request.code.toString(16)} failed: ${escapeControls(String(error))}`);
      exchange.respond(Status.internalError, [], "the printer failed to carry out the request");
    }
  }

  // RFC 8011 4.1.8 (version), 4.1.1 (request-id), 4.1.4 (the operation
  // group opens with charset then natural language), then the operation.
  private dispatch(x: IppExchange): void {
    const request = x.request;
    if (request.major !== 1 && request.major !== 2) {
      return x.respond(Status.versionNotSupported, [], `IPP/${request.major}.${request.minor} is not supported; this printer speaks 1.1 and 2.0`);
    }
    if (request.requestId === 0) return x.respond(Status.badRequest, [], "request-id must not be 0");
    // Before any operation looks at it: a job is made, or printing started,
    // only for a request whose every attribute can be read and echoed back.
    const problem = messageProblem(request, this.context.limits);
    if (problem) return x.respond(Status.badRequest, [], problem);
    const operation = request.groups[0];
    if (!operation || operation.tag !== GroupTag.operation) return x.respond(Status.badRequest, [], "the operation attributes group must come first");
    if (request.groups.some((g, i) => i > 0 && g.tag === GroupTag.operation)) return x.respond(Status.badRequest, [], "two operation attribute groups");
    const [first, second] = operation.attributes;
    if (first?.name !== "attributes-charset" || first.values[0]?.tag !== ValueTag.charset || first.values.length !== 1) {
      return x.respond(Status.badRequest, [], "attributes-charset must be the first operation attribute");
    }
    if (second?.name !== "attributes-natural-language" || second.values[0]?.tag !== ValueTag.naturalLanguage || second.values.length !== 1) {
      return x.respond(Status.badRequest, [], "attributes-natural-language must be the second operation attribute");
    }
    const charsetValue = first.values[0];
    const charsetName = charsetValue.kind === "string" ? charsetValue.value.toLowerCase() : "";
    if (charsetName !== "utf-8" && charsetName !== "us-ascii") return x.respond(Status.charsetNotSupported, [], `charset ${charsetName} is not supported; use utf-8`);
    const handler = OPERATIONS[request.code];
    if (!handler) return x.respond(Status.operationNotSupported, [], `operation 0x${request.code.toString(16).padStart(4, "0")} is not supported`);
    handler(x, this);
  }
}

// One IPP request from its body's first byte to its answer: the body's
// events and the answer's way out as methods of one object, instead of
// closures that XS would make with a copy of their byte code in the heap for
// every request.
class IppCall implements RequestBodyEvents, IppAnswer {
  constructor(
    private readonly service: IppService,
    private readonly request: HttpRequest,
    private readonly response: HttpResponse,
    private readonly printerUri: string,
    private readonly webUri: string,
  ) {}

  message(message: IppMessage, document: DocumentSource & { readonly noDocument: boolean }): void {
    const service = this.service;
    // Short of memory: server-error-busy, which every IPP client retries;
    // a document that came with it is read and dropped by the server.
    const room = service.context.roomForRequest;
    if (room && !room()) {
      service.context.log("debug", `memory: short; refused IPP operation 0x${message.code.toString(16).padStart(4, "0")}`);
      return this.send(bareAnswer(message, Status.busy, "the printer is short of memory; try again shortly"));
    }
    const exchange = new IppExchange(message, document, this.printerUri, this.webUri, this);
    // The attributes answer (about 5 KB, and CUPS asks for it every few
    // seconds) waits while a cloud call holds its answer; print jobs do
    // not, since a job may last minutes and reports it to the cloud.
    const turns = service.context.turns;
    if (turns && message.code === Operation.getPrinterAttributes) void turns.run(() => service.carryOut(exchange), service.context.attributesShare);
    else service.carryOut(exchange);
  }

  error(reason: string, aborted: boolean, head: IppMessage | undefined, internal?: boolean): void {
    const what = internal ? "failed to read a request" : aborted ? "request cut short" : "bad request";
    this.service.context.log(internal ? "error" : "debug", `ipp: ${what} from ${this.request.remoteAddress}: ${escapeControls(reason)}`);
    if (aborted) return;
    const versioned = head && (head.major === 1 || head.major === 2);
    this.send(bareAnswer(
      { major: versioned ? head.major : 2, minor: versioned ? head.minor : 0, requestId: head?.requestId ?? 0 },
      internal ? Status.internalError : Status.badRequest,
      internal ? "the printer failed to read the request" : reason,
    ));
  }

  send(message: IppMessage): void {
    const response = this.response;
    if (response.sent) return;
    let body: Uint8Array;
    try {
      body = encodeMessage(message);
    } catch (error) {
      // An answer that cannot be written is a bug of ours; the client
      // still gets one, and the connection its slot back.
      this.service.context.log("error", `ipp: an answer to operation 0x${message.code.toString(16)} could not be encoded: ${escapeControls(String(error))}`);
      body = encodeMessage(bareAnswer(message, Status.internalError, "the printer failed to write its answer"));
    }
    response.send(200, body, IPP_OPTIONS);
  }
}

// An answer with only the operation group and a status message, for a
// request that could not be read or answered in full. The message may hold
// the client's names, so its controls are escaped.
function bareAnswer(head: { major: number; minor: number; requestId: number }, status: number, message: string): IppMessage {
  return {
    major: head.major, minor: head.minor, code: status, requestId: head.requestId,
    groups: [{ tag: GroupTag.operation, attributes: [
      attr("attributes-charset", charset("utf-8")),
      attr("attributes-natural-language", language("en")),
      attr("status-message", text(fitUtf8(escapeControls(message), 255))),
    ] }],
  };
}
