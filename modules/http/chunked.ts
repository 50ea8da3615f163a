// The chunked transfer coding (RFC 9112 7.1) as a streaming decoder: the
// server reads request bodies with it (IPP clients send them) and the client
// reads responses. Nothing is collected: chunk data passes through as views
// of the input, and the framing around it is parsed byte by byte with fixed
// bounds, so a hostile peer cannot make it grow or loop.

export class ChunkedError extends Error {}

export interface ChunkedLimits {
  // A chunk-size line, extensions included.
  maxSizeLineBytes: number;
  // All trailer fields together (they are read and dropped).
  maxTrailerBytes: number;
}

export const defaultChunkedLimits: ChunkedLimits = { maxSizeLineBytes: 256, maxTrailerBytes: 4096 };

// Where decoded chunk data goes: an object with a method rather than a
// function, so a long-lived caller passes itself (or a small object it
// keeps) instead of making a closure, which XS copies into the heap.
export interface ChunkSink {
  // A piece of chunk data, a view of the input valid only during the call;
  // returning false stops decoding right after it.
  piece(bytes: Uint8Array): boolean | void;
}

const CR = 13, LF = 10, SEMICOLON = 59;
// 12 hex digits: 256 TB, beyond any document, within a double's exact integers.
const MAX_SIZE_DIGITS = 12;

const enum Step { Size, SizeWs, Extension, SizeLf, Data, DataCr, DataLf, TrailerLineStart, Trailer, TrailerLf, FinalLf, Done }

export class ChunkedDecoder {
  private step = Step.Size;
  private size = 0;
  // Hex digits seen, and how many of them count toward the size (leading
  // zeros do not: some senders pad the size to a fixed width).
  private digits = 0;
  private significant = 0;
  private lineBytes = 0;
  private trailerBytes = 0;
  private remaining = 0;
  // Body bytes decoded so far.
  bodyBytes = 0;
  // The limits as two fields, not a merged copy of the options: one object
  // fewer for each decoder, which every server connection with a chunked
  // body holds.
  private readonly maxSizeLineBytes: number;
  private readonly maxTrailerBytes: number;

  constructor(limits: Partial<ChunkedLimits> = {}) {
    this.maxSizeLineBytes = limits.maxSizeLineBytes ?? defaultChunkedLimits.maxSizeLineBytes;
    this.maxTrailerBytes = limits.maxTrailerBytes ?? defaultChunkedLimits.maxTrailerBytes;
  }

  // The last chunk and the trailer have been read.
  get done(): boolean {
    return this.step === Step.Done;
  }

  reset(): void {
    this.step = Step.Size;
    this.size = 0;
    this.digits = 0;
    this.significant = 0;
    this.lineBytes = 0;
    this.trailerBytes = 0;
    this.remaining = 0;
    this.bodyBytes = 0;
  }

  // Decodes input[offset...]. Chunk data goes to sink.piece as views of
  // input, valid only during the call; when it returns false, decoding stops
  // right after that piece. Returns the offset after the last byte consumed:
  // the end of input, where onBody asked to stop, or just after the body's
  // final CRLF (what follows belongs to the next message). Throws
  // ChunkedError on malformed framing.
  feed(input: Uint8Array, offset: number, sink: ChunkSink): number {
    let i = offset;
    const end = input.length;
    while (i < end && this.step !== Step.Done) {
      if (this.step === Step.Data) {
        const n = Math.min(this.remaining, end - i);
        this.remaining -= n;
        this.bodyBytes += n;
        if (this.remaining === 0) this.step = Step.DataCr;
        const more = sink.piece(input.subarray(i, i + n));
        i += n;
        if (more === false) return i;
        continue;
      }
      const byte = input[i++];
      switch (this.step) {
        case Step.Size: {
          const value = hexValue(byte);
          if (value >= 0) {
            this.digits++;
            if ((value > 0 || this.significant > 0) && ++this.significant > MAX_SIZE_DIGITS) throw new ChunkedError("chunk size too large");
            this.size = this.size * 16 + value;
          } else if (this.digits === 0) {
            throw new ChunkedError("chunk size missing");
          } else if (byte === CR) {
            this.step = Step.SizeLf;
          } else if (byte === SEMICOLON) {
            this.step = Step.Extension;
          } else if (byte === 32 || byte === 9) {
            this.step = Step.SizeWs;
          } else {
            throw new ChunkedError("bad character in chunk size");
          }
          this.countLine();
          break;
        }
        case Step.SizeWs:
          // Only whitespace may stand between the size and ";" (RFC 9112 7.1.1
          // BWS): "5 5" must not pass as a 5 that a proxy might read otherwise.
          if (byte === SEMICOLON) this.step = Step.Extension;
          else if (byte === CR) this.step = Step.SizeLf;
          else if (byte !== 32 && byte !== 9) throw new ChunkedError("bad character after chunk size");
          this.countLine();
          break;
        case Step.Extension:
          // Extensions carry nothing we use; they are skipped within the bound.
          if (byte === CR) this.step = Step.SizeLf;
          else if (byte === LF) throw new ChunkedError("bare LF in chunk size line");
          this.countLine();
          break;
        case Step.SizeLf:
          if (byte !== LF) throw new ChunkedError("chunk size line not ended by CRLF");
          this.lineBytes = 0;
          this.digits = 0;
          this.significant = 0;
          if (this.size === 0) {
            this.step = Step.TrailerLineStart;
          } else {
            this.remaining = this.size;
            this.size = 0;
            this.step = Step.Data;
          }
          break;
        case Step.DataCr:
          if (byte !== CR) throw new ChunkedError("chunk data longer than its size");
          this.step = Step.DataLf;
          break;
        case Step.DataLf:
          if (byte !== LF) throw new ChunkedError("chunk data not ended by CRLF");
          this.step = Step.Size;
          break;
        case Step.TrailerLineStart:
          // An empty line ends the trailer section, and with it the body. A
          // bare LF is refused rather than read as trailer text, which would
          // swallow a pipelined request that follows "0\r\n\n".
          if (byte === CR) this.step = Step.FinalLf;
          else if (byte === LF) throw new ChunkedError("bare LF in trailer section");
          else { this.step = Step.Trailer; this.countTrailer(); }
          break;
        case Step.Trailer:
          if (byte === CR) this.step = Step.TrailerLf;
          else if (byte === LF) throw new ChunkedError("bare LF in trailer field");
          this.countTrailer();
          break;
        case Step.TrailerLf:
          if (byte !== LF) throw new ChunkedError("trailer field not ended by CRLF");
          this.step = Step.TrailerLineStart;
          this.countTrailer();
          break;
        case Step.FinalLf:
          if (byte !== LF) throw new ChunkedError("chunked body not ended by CRLF");
          this.step = Step.Done;
          break;
      }
    }
    return i;
  }

  private countLine(): void {
    if (++this.lineBytes > this.maxSizeLineBytes) throw new ChunkedError(`chunk size line longer than ${this.maxSizeLineBytes} bytes`);
  }

  private countTrailer(): void {
    if (++this.trailerBytes > this.maxTrailerBytes) throw new ChunkedError(`trailer longer than ${this.maxTrailerBytes} bytes`);
  }
}

function hexValue(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48;
  if (byte >= 65 && byte <= 70) return byte - 55;
  if (byte >= 97 && byte <= 102) return byte - 87;
  return -1;
}

// The framing a sender writes before each chunk of n > 0 bytes; the chunk
// is followed by CRLF, and the body ends with LAST_CHUNK.
export function chunkHeader(n: number): string {
  return `${n.toString(16)}\r\n`;
}

export const CHUNK_END = "\r\n";
export const LAST_CHUNK = "0\r\n\r\n";
