import type { Cost, Turns } from "../http/turns.js";
import type { Clock } from "../hal/clock.js";
import { escapeControls, fitUtf8 } from "../text/utf8.js";
import type { Log } from "../hal/log.js";
import type { PrintEngine } from "../hal/engine.js";
import type { JobStore } from "../jobs/store.js";
import type { JobLifecycle } from "../print/lifecycle.js";
import type { Spooler } from "../print/spooler.js";
import type { DocumentSource } from "../print/source.js";
import type { DeviceState } from "../device/state.js";
import type { Admission } from "../print/admission.js";
import type { IppLimits } from "../ipp-codec/decode.js";
import type { DocumentFormats } from "./formats.js";
import type { IppJobIds } from "./job-ids.js";
import {
  GroupTag, attr, charset, find, firstString, language, text, type IppAttribute, type IppGroup, type IppMessage,
} from "../ipp-codec/values.js";

// What every operation works with: the printer's parts, and one request
// with the means to answer it.

export interface IppDevice {
  name: string;
  description: string;
  location: string;
  manufacturer: string;
  model: string;
  firmware: string;
  serialNumber: string;
}

export interface IppContext {
  clock: Clock;
  log: Log;
  engine: PrintEngine;
  jobs: JobStore;
  lifecycle: JobLifecycle;
  spooler: Spooler;
  formats: DocumentFormats;
  device(): IppDevice;
  // The one device state (printer-state and its reasons are a view of it).
  state: DeviceState;
  // IPP (with the rest of the local API) is offered at all: local discovery is on.
  exposed(): boolean;
  // Jobs are taken: local printing is allowed (printer-is-accepting-jobs).
  accepting(): boolean;
  // Whether a job may print now: the one decision of the print layer.
  admission: Admission;
  // The panel's ways to show which printer this is ("flash", "display", ...);
  // the first is the default.
  identifyActions: string[];
  identify(actions: string[], message: string | undefined): void;
  limits: IppLimits;
  // A document announced larger than this is refused before a byte of it is read.
  maxDocumentBytes: number;
  // A document up to this long is kept as it prints, for its further copies;
  // 0 or absent keeps none, and copies-supported is 1-1.
  copiesBufferBytes?: number;
  // Shared with the cloud's calls: a large answer waits for the one under way (http/turns).
  turns?: Turns;
  // Its share of the budget for an attributes answer (whole turns without it).
  attributesShare?: number | Cost;
  // The heap has room for a request's work (device/memory.ts); absent, always.
  roomForRequest?: () => boolean;
}

export interface IppAnswer {
  send(message: IppMessage): void;
}

export interface Printing {
  context: IppContext;
  ids: IppJobIds;
}

export class IppExchange {
  readonly operation: IppGroup;
  readonly jobGroup: IppGroup | undefined;
  readonly user: string | undefined;
  private answered = false;

  constructor(
    readonly request: IppMessage,
    // The document that follows the message in the body (read only by the operations that take one).
    readonly document: DocumentSource & { readonly noDocument: boolean },
    // ipp://host:port/ipp/print as this client reached it.
    readonly printerUri: string,
    readonly webUri: string,
    // Where the answer goes: an object, so the service passes its per-request one instead of a closure.
    private readonly answer: IppAnswer,
  ) {
    this.operation = request.groups[0];
    this.jobGroup = request.groups.find((g) => g.tag === GroupTag.job);
    this.user = firstString(find(this.operation, "requesting-user-name"));
  }

  get sent(): boolean {
    return this.answered;
  }

  jobUri(id: number): string {
    return `${this.printerUri}/${id}`;
  }

  // Names asked for in requested-attributes, or undefined for the default.
  requested(): string[] | undefined {
    const attribute = find(this.operation, "requested-attributes");
    if (!attribute) return undefined;
    return attribute.values.flatMap((v) => (v.kind === "string" ? [v.value] : []));
  }

  respond(status: number, groups: IppGroup[] = [], message?: string): void {
    if (this.answered) return;
    this.answered = true;
    const operation: IppAttribute[] = [attr("attributes-charset", charset("utf-8")), attr("attributes-natural-language", language("en"))];
    // status-message is text(255): octets, cut between characters. Names
    // and values the client sent are echoed in it, so its controls are escaped.
    if (message !== undefined) operation.push(attr("status-message", text(fitUtf8(escapeControls(message), 255))));
    // RFC 8011 4.1.3: a response carries the version of the request when it is one we speak.
    this.answer.send({
      major: this.request.major, minor: this.request.minor, code: status, requestId: this.request.requestId,
      groups: [{ tag: GroupTag.operation, attributes: operation }, ...groups.filter((g) => g.attributes.length > 0 || g.tag !== GroupTag.unsupported)],
    });
  }
}
