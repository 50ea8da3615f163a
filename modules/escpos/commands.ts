// The ESC/POS commands the thermal driver uses (Epson ESC/POS reference;
// the same bytes on the common 58 mm and 80 mm TTL-serial printers).

export const ESC = 0x1b, GS = 0x1d, DLE = 0x10, EOT = 0x04;

// ESC @: initialize (clears buffers and modes).
export const INITIALIZE = Uint8Array.of(ESC, 0x40);

// DLE EOT n: real-time status. n = 2: offline cause (bit 2: cover open);
// n = 4: paper roll sensor (bits 5 and 6: paper end).
export const STATUS_OFFLINE = Uint8Array.of(DLE, EOT, 2);
export const STATUS_PAPER = Uint8Array.of(DLE, EOT, 4);
export const COVER_OPEN_BIT = 0x04;
export const PAPER_END_BITS = 0x60;

// GS v 0 m xL xH yL yH d...: a raster bit image, x bytes wide, y dots high,
// 1 = a black dot, most significant bit leftmost; m = 0 is normal density.
// Written into the caller's 8-byte buffer: it goes out once per band.
export function rasterHeader(into: Uint8Array, widthBytes: number, rows: number): Uint8Array {
  into[0] = GS; into[1] = 0x76; into[2] = 0x30; into[3] = 0;
  into[4] = widthBytes & 0xff; into[5] = widthBytes >> 8; into[6] = rows & 0xff; into[7] = rows >> 8;
  return into;
}

// ESC J n: feed n dots (n <= 255) without printing.
export function feedDots(n: number): Uint8Array {
  return Uint8Array.of(ESC, 0x4a, n);
}

// GS V 66 n: feed n dots then partial cut (on printers with a cutter).
export function feedAndCut(n: number): Uint8Array {
  return Uint8Array.of(GS, 0x56, 66, n);
}
