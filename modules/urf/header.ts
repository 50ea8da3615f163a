import { CS_SGRAY, CS_SRGB, checkHeader, type HeaderLimits, type PageFormat, type PageHeader } from "../pwg/header.js";

// Apple Raster (URF, image/urf), the format AirPrint clients send: a file
// header "UNIRAST\0" and a page count, then per page a 32-byte header and
// lines coded as in PWG Raster. All integers big-endian. The page header:
//   0 bits per pixel   1 colour space   2 duplex   3 print quality
//   4 media type       5 media position (input slot)   6-11 reserved
//   12 width  16 height  20 resolution (one value, x = y)   24-31 reserved
// A page is mapped onto the PWG PageHeader so the spooler and the engine
// see one kind of page whichever format it came in.

export const FILE_HEADER_BYTES = 12;
export const PAGE_HEADER_BYTES = 32;
export const MAGIC = [0x55, 0x4e, 0x49, 0x52, 0x41, 0x53, 0x54, 0x00]; // "UNIRAST\0"

// Colour space codes (the order CUPS reads them in).
export const URF_SGRAY = 0;
export const URF_SRGB = 1;
const SPACE_NAMES = ["sGray", "sRGB", "CIELab", "AdobeRGB", "DeviceGray", "DeviceRGB", "DeviceCMYK"];

export interface UrfPage {
  bitsPerPixel: number;
  colorSpace: number;
  duplex: number;
  quality: number;
  width: number;
  height: number;
  dpi: number;
}

function u32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) >>> 0) + (bytes[offset + 1] << 16) + (bytes[offset + 2] << 8) + bytes[offset + 3];
}

// The page count of a file header whose magic was already matched; 0 means
// the writer did not know it.
export function fileHeaderPages(bytes: Uint8Array): number {
  return u32(bytes, 8);
}

export function parseUrfPage(bytes: Uint8Array): UrfPage {
  return {
    bitsPerPixel: bytes[0], colorSpace: bytes[1], duplex: bytes[2], quality: bytes[3],
    width: u32(bytes, 12), height: u32(bytes, 16), dpi: u32(bytes, 20),
  };
}

// The page as a PWG header, for the checks PWG pages get and for the sink.
// Duplex and quality are not carried: this printer prints one side at one
// quality, and a client that asked for more still gets its page.
export function toPageHeader(page: UrfPage, totalPages: number): PageHeader {
  const gray = page.colorSpace === URF_SGRAY;
  const points = (pixels: number) => (page.dpi > 0 ? Math.round((pixels * 72) / page.dpi) : 0);
  return {
    width: page.width, height: page.height, xDpi: page.dpi, yDpi: page.dpi,
    bitsPerColor: 8, bitsPerPixel: page.bitsPerPixel,
    // Only read once the width is known to be within the limits.
    bytesPerLine: Math.ceil((page.width * page.bitsPerPixel) / 8),
    colorOrder: 0, colorSpaceCode: gray ? CS_SGRAY : CS_SRGB, numColors: gray ? 1 : 3,
    pageSize: [points(page.width), points(page.height)], totalPageCount: totalPages, pageSizeName: "",
  };
}

// The format to decode a page with, or a sentence saying why it cannot be
// printed. Only the two spaces urf-supported offers (W8, SRGB24) pass.
export function checkUrfPage(page: UrfPage, limits: HeaderLimits): PageFormat | string {
  const space = SPACE_NAMES[page.colorSpace] ?? `code ${page.colorSpace}`;
  const ok = (page.colorSpace === URF_SGRAY && page.bitsPerPixel === 8) || (page.colorSpace === URF_SRGB && page.bitsPerPixel === 24);
  if (!ok) return `unsupported URF colour space ${space} at ${page.bitsPerPixel} bits per pixel (this printer takes sGray 8 and sRGB 24)`;
  return checkHeader(toPageHeader(page, 0), limits);
}
