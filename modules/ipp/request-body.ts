import type { BodyConsumer, HttpRequest } from "../http/server.js";
import type { DocumentConsumer, DocumentSource } from "../print/source.js";
import { IppError, MessageDecoder, type IppLimits } from "../ipp-codec/decode.js";
import type { IppMessage } from "../ipp-codec/values.js";

// An IPP request is one HTTP body: the message, then the document. This
// reads the message as the body arrives, pauses the body as soon as the
// message is whole, and then offers the rest as a DocumentSource: the bytes
// of the last chunk that followed the message first, then the body itself,
// with pause and resume passed straight through, so an engine that is full
// still holds the sender back in the TCP window.

export interface RequestBodyEvents {
  // The message is whole; the body is paused until document.readBody().
  message(message: IppMessage, document: DocumentSource & { readonly noDocument: boolean }): void;
  // The message is not a valid one (a bad request), or the body stopped
  // before it was whole (aborted: nobody is left to answer).
  // head: the version and request-id, when they arrived.
  // internal: reading failed for a reason of the printer's own (a bug, not
  // the client's bytes); it is still answered, as an internal error.
  error(reason: string, aborted: boolean, head: IppMessage | undefined, internal?: boolean): void;
}

export function readIppRequest(request: HttpRequest, limits: IppLimits, events: RequestBodyEvents): void {
  request.readBody(new MessageReader(request, new MessageDecoder(limits), events));
}

// The body's consumer: the message's decoder until it is whole, then the
// document's. A class, not an object of closures, which XS would make with
// a copy of each one's byte code in the heap for every IPP request.
class MessageReader implements BodyConsumer {
  private failed = false;
  // Set once the message is whole.
  private document: RequestDocument | undefined;

  constructor(private readonly request: HttpRequest, private readonly decoder: MessageDecoder, private readonly events: RequestBodyEvents) {}

  private get started(): IppMessage | undefined {
    return this.decoder.started ? this.decoder.message : undefined;
  }

  data(chunk: Uint8Array): void {
    if (this.failed) return;
    if (this.document) return this.document.data(chunk);
    const decoder = this.decoder;
    let used: number;
    try {
      used = decoder.feed(chunk);
    } catch (error) {
      // Whatever was thrown, the client is still waiting: rethrowing
      // into the connection would leave it without an answer.
      return this.fail(error);
    }
    if (!decoder.complete) return;
    const request = this.request;
    // The tail stays valid while the body is paused (the source's contract).
    request.pause();
    const document = new RequestDocument(request, chunk.subarray(used), request.chunked ? undefined : request.contentLength - decoder.size);
    this.document = document;
    this.events.message(decoder.message, document);
  }

  end(): void {
    if (this.failed) return;
    if (this.document) return this.document.end();
    try {
      this.decoder.finish();
    } catch (error) {
      this.fail(error);
    }
  }

  abort(reason: string): void {
    if (this.failed) return;
    if (this.document) return this.document.abort(reason);
    this.failed = true;
    this.events.error(reason, true, this.started);
  }

  private fail(error: unknown): void {
    this.failed = true;
    this.events.error(error instanceof IppError ? error.message : String(error), false, this.started, !(error instanceof IppError));
  }
}

class RequestDocument implements DocumentSource {
  readonly declaredLength: number | undefined;
  private consumer: DocumentConsumer | undefined;
  private tail: Uint8Array | undefined;
  private ended = false;
  private aborted: string | undefined;
  private paused = true;

  // length: the document's bytes when Content-Length tells (less the
  // message's), undefined for a chunked body.
  constructor(private readonly request: HttpRequest, tail: Uint8Array, length: number | undefined) {
    this.tail = tail.length > 0 ? tail : undefined;
    this.declaredLength = length;
  }

  // The body is known to end with the message (a Send-Document that only closes the job).
  get noDocument(): boolean {
    return this.declaredLength === 0;
  }

  readBody(consumer: DocumentConsumer): void {
    if (this.consumer) throw new Error("ipp: the document is already being read");
    this.consumer = consumer;
    this.paused = false;
    const tail = this.tail;
    this.tail = undefined;
    if (tail) consumer.data(tail);
    this.flow();
  }

  pause(): void {
    this.paused = true;
    this.request.pause();
  }

  resume(): void {
    this.paused = false;
    this.flow();
  }

  private flow(): void {
    if (this.paused || !this.consumer) return;
    if (this.aborted !== undefined) return this.consumer.abort(this.aborted);
    if (this.ended) {
      this.ended = false;
      return this.consumer.end();
    }
    this.request.resume();
  }

  data(chunk: Uint8Array): void {
    this.consumer?.data(chunk);
  }

  end(): void {
    if (this.consumer && !this.paused && this.tail === undefined) return this.consumer.end();
    this.ended = true;
  }

  abort(reason: string): void {
    if (this.consumer) return this.consumer.abort(reason);
    this.aborted = reason;
  }
}
