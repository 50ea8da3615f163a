import type { Cost } from "../http/turns.js";
import type { HeaderLimits } from "../pwg/header.js";
import type { RasterSink } from "../pwg/decoder.js";

// Where a document comes from, as the print layer sees it: a Privet or IPP
// request body, a download from the cloud. Each front end hands over one of
// these; none of them needs to know the others exist.

export interface DocumentConsumer {
  // A piece of the document, valid only during the call unless the source is
  // paused before returning.
  data(chunk: Uint8Array): void;
  // The whole document has arrived.
  end(): void;
  // It will not arrive whole (the peer went away, stalled, or broke framing).
  abort(reason: string): void;
}

export interface DocumentSource {
  // Bytes the sender announced, when it did (Content-Length); undefined for a
  // chunked or read-until-close body.
  readonly declaredLength: number | undefined;
  // Starts the document flowing into consumer; until then it waits (in the
  // TCP window for a network source).
  readBody(consumer: DocumentConsumer): void;
  // Stop delivering data until resume(): backpressure from the engine.
  pause(): void;
  resume(): void;
}

// Turns a document's bytes into page lines for the engine: PWG raster by
// default, and whatever else a front end takes (JPEG for IPP). Same contract
// as PwgDecoder: write() returns false when the sink is full and keeps the
// rest of the chunk until resume(); end() throws a RasterError if the
// document stopped short.
export interface DocumentDecoder {
  readonly pages: number;
  write(chunk: Uint8Array): boolean;
  resume(): boolean;
  end(): void;
}

// workingShare: its share of the device's memory budget (http/turns.ts), for
// what the decoder holds beside the one line for a whole job
// (a JPEG's rows and placement tables), reserved from the device's memory
// budget before the document is read; absent for PWG and URF.
export type DecoderFactory = ((sink: RasterSink, limits: HeaderLimits) => DocumentDecoder) & { workingShare?: number | Cost };
