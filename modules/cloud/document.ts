import type { HttpResponse } from "../http/client.js";
import type { DocumentConsumer, DocumentSource } from "../print/source.js";

// A download's response body as the print layer's DocumentSource: the
// spooler's pause() stops reading the connection, so a full engine closes
// the TCP window back to the service and the document is never held whole.
// Every chunk is handed on as it came (no copy, no allocation per chunk).
export class ResponseSource implements DocumentSource {
  readonly declaredLength: number | undefined;
  private consumer: DocumentConsumer | undefined;

  constructor(private readonly response: HttpResponse) {
    this.declaredLength = response.contentLength;
  }

  readBody(consumer: DocumentConsumer): void {
    this.consumer = consumer;
    this.response.read(this);
  }

  // The response's BodyConsumer, as methods so nothing is made per call.
  data(bytes: Uint8Array): void {
    this.consumer?.data(bytes);
  }

  end(): void {
    this.consumer?.end();
  }

  error(error: Error): void {
    this.consumer?.abort(error.message);
  }

  pause(): void {
    this.response.pause();
  }

  resume(): void {
    this.response.resume();
  }

  // The job ended without the rest of the document: close the connection.
  close(): void {
    this.consumer = undefined;
    this.response.abort();
  }
}
