import type { RasterSink } from "../../modules/pwg/decoder.js";
import type { PageFormat, PageHeader } from "../../modules/pwg/header.js";

// Rebuilds whole pages from what a raster decoder (PWG, URF) hands out, and
// says "full" every fullEvery lines, to exercise backpressure.
export class Collector implements RasterSink {
  pages: Array<{ header: PageHeader; format: PageFormat; pixels: number[][] }> = [];
  lineCalls = 0;
  fullEvery = 0;
  line(data: Uint8Array, repeat: number): boolean {
    const page = this.pages.at(-1)!;
    for (let r = 0; r < repeat; r++) page.pixels.push(Array.from(data));
    this.lineCalls++;
    return this.fullEvery === 0 || this.lineCalls % this.fullEvery !== 0;
  }
  beginPage(header: PageHeader, format: PageFormat): void {
    this.pages.push({ header, format, pixels: [] });
  }
  endPage(): void {}
  flat(i: number): Uint8Array {
    return Uint8Array.from(this.pages[i].pixels.flat());
  }
}

export interface StreamDecoder {
  write(chunk: Uint8Array): boolean;
  resume(): boolean;
  end(): void;
}

// Feeds doc in the chunks split chooses, resuming whenever the sink was full.
export function decodeInChunks<D extends StreamDecoder>(make: (sink: Collector) => D, doc: Uint8Array, split: (n: number) => number = (n) => n, fullEvery = 0): { sink: Collector; decoder: D } {
  const sink = new Collector();
  sink.fullEvery = fullEvery;
  const decoder = make(sink);
  let offset = 0;
  let guard = 0;
  while (offset < doc.length) {
    const n = split(doc.length - offset);
    let more = decoder.write(doc.subarray(offset, offset + n));
    while (!more && guard++ < 1_000_000) more = decoder.resume();
    offset += n;
  }
  decoder.end();
  return { sink, decoder };
}
