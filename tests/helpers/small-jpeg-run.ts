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
export function decodeChecksum(gray: boolean, sizes: number[], scale = 1): { hash: number; rows: number; width: number; height: number } {
  const bytes = smallJpeg();
  let hash = 0x811c9dc5, rows = 0, width = 0, height = 0;
  const decoder = new JpegDecoder({
    start(info) {
      width = Math.ceil(info.width / scale);
      height = Math.ceil(info.height / scale);
      return { scale, left: 0, right: width, gray };
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

// The image placed on a 384-dot roll at 203 dpi, dithered to black_1: the
// page's lines hashed. With an EXIF orientation, turned upright first.
export function placedChecksum(orientation = 1): { hash: number; lines: number; height: number } {
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
  const bytes = orientation === 1 ? smallJpeg() : withExifOrientation(smallJpeg(), orientation);
  for (let i = 0; i < bytes.length; i += 100) {
    let more = doc.write(bytes.subarray(i, i + 100));
    while (!more) more = doc.resume();
  }
  doc.end();
  return { hash, lines, height };
}

// The JPEG with an APP1 EXIF segment (Orientation only) after SOI.
export function withExifOrientation(jpeg: Uint8Array, orientation: number): Uint8Array {
  const tiff = [0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, orientation, 0, 0, 0, 0, 0, 0, 0];
  const body = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
  const out = new Uint8Array(jpeg.length + body.length + 4);
  out.set(jpeg.subarray(0, 2), 0);
  out.set([0xff, 0xe1, 0, body.length + 2], 2);
  out.set(body, 6);
  out.set(jpeg.subarray(2), 6 + body.length);
  return out;
}
