import { base64Decode } from "../../modules/crypto/base64.js";
import { JpegDecoder } from "../../modules/jpeg/decoder.js";
import type { RasterSink } from "../../modules/pwg/decoder.js";
import { jpegDocument } from "../../modules/print/image-document.js";
import { SMALL_JPEG_BASE64, fnv1a } from "./small-jpeg.js";

// What the XS test and its Node twin both run, so the two checksums come
// from the same steps: plain ECMAScript, no Node API.

export function smallJpeg(): Uint8Array {
  return base64Decode(SMALL_JPEG_BASE64)!;
}

// The image decoded in chunks of the sizes given (cycled), rows hashed in order.
export function decodeChecksum(gray: boolean, sizes: number[]): { hash: number; rows: number; width: number; height: number } {
  const bytes = smallJpeg();
  let hash = 0x811c9dc5, rows = 0, width = 0, height = 0;
  const decoder = new JpegDecoder({
    start(info) {
      width = info.width;
      height = info.height;
      return { scale: 1, left: 0, right: info.width, gray };
    },
    row(data) {
      hash = fnv1a(data, hash);
      rows++;
      return rows % 5 !== 0;
    },
  });
  let k = 0;
  for (let i = 0; i < bytes.length;) {
    const n = sizes[k++ % sizes.length];
    let more = decoder.write(bytes.subarray(i, i + n));
    while (!more) more = decoder.resume();
    i += n;
  }
  decoder.end();
  return { hash, rows, width, height };
}

// The image placed on a 384-dot roll at 203 dpi, dithered to black_1: the page's lines hashed.
export function placedChecksum(): { hash: number; lines: number; height: number } {
  let hash = 0x811c9dc5, lines = 0, height = 0;
  const sink: RasterSink = {
    beginPage(header) { height = header.height; },
    line(data, repeat) {
      for (let r = 0; r < repeat; r++) hash = fnv1a(data, hash);
      lines += repeat;
      return lines % 3 !== 0;
    },
    endPage() {},
  };
  const doc = jpegDocument({ scaling: "fit", widthDots: 384, heightDots: 8000, xDpi: 203, yDpi: 203, colorSpace: "black_1", continuous: true })(sink, { maxWidth: 384, maxHeight: 8000 });
  const bytes = smallJpeg();
  for (let i = 0; i < bytes.length; i += 100) {
    let more = doc.write(bytes.subarray(i, i + 100));
    while (!more) more = doc.resume();
  }
  doc.end();
  return { hash, lines, height };
}
