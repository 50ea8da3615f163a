import { RunLineDecoder } from "../pwg/decoder.js";
import type { PageFormat } from "../pwg/header.js";
import { FILE_HEADER_BYTES, MAGIC, PAGE_HEADER_BYTES, checkUrfPage, fileHeaderPages, parseUrfPage, toPageHeader } from "./header.js";

// A streaming URF decoder: the same lines, buffer, backpressure and bounds as
// the PWG decoder (RunLineDecoder), with URF's headers. Nothing grows with the
// document: the two headers share one 32-byte buffer.

export class UrfDecoder extends RunLineDecoder {
  private inFileHeader = true;
  private readonly header = new Uint8Array(PAGE_HEADER_BYTES);
  private filled = 0;
  // Pages the file header announced; 0 when the writer did not say.
  private announced = 0;

  protected head(chunk: Uint8Array, i: number): number {
    const want = this.inFileHeader ? FILE_HEADER_BYTES : PAGE_HEADER_BYTES;
    const take = Math.min(want - this.filled, chunk.length - i);
    for (let k = 0; k < take; k++) {
      const b = chunk[i + k];
      // The magic is checked byte by byte so a wrong document fails at once,
      // not after a header's worth of bytes.
      if (this.inFileHeader && this.filled < MAGIC.length && b !== MAGIC[this.filled]) this.fail("not URF: it does not start with \"UNIRAST\"");
      this.header[this.filled++] = b;
    }
    if (this.filled === want) {
      this.filled = 0;
      if (this.inFileHeader) {
        this.inFileHeader = false;
        this.announced = fileHeaderPages(this.header);
      } else {
        this.startPage();
      }
    }
    return i + take;
  }

  private startPage(): void {
    const number = this.pageNumber + 1;
    if (this.announced > 0 && number > this.announced) this.fail(`page ${number}: the file header announced ${this.announced} pages`);
    const page = parseUrfPage(this.header);
    const format = checkUrfPage(page, this.limits);
    if (typeof format === "string") this.fail(`page ${number}: ${format}`);
    this.startLines(toPageHeader(page, this.announced), format as PageFormat);
  }

  protected nextPage(): void {
    this.filled = 0;
  }

  protected endInHead(): void {
    if (this.bytesIn === 0) return this.fail("the document is empty");
    if (this.inFileHeader) return this.fail("the document ended inside the URF file header");
    if (this.filled > 0) return this.fail(`the document ended inside the header of page ${this.pageNumber + 1}`);
    if (this.pageNumber === 0) return this.fail("the document has no pages");
    // A short document is a cut one: its missing pages would go unnoticed.
    if (this.announced > 0 && this.pageNumber < this.announced) this.fail(`the document ended after ${this.pageNumber} of the ${this.announced} pages its header announced`);
  }
}
