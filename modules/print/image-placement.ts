import type { EngineColorSpace } from "../hal/engine.js";
import type { JpegInfo } from "../jpeg/decoder.js";

// Where an image goes on the page, per IPP print-scaling as PWG 5100.16
// defines it (quoted in OpenPrinting/cups-filters#108):
//   fit       the whole image inside the page, centred, white margins;
//   fill      the page covered, the image centred and cropped;
//   none      the image at its own density (JFIF, else 72 dpi), centred, cropped;
//   auto-fit  fit if the image is larger than the page (or fidelity is asked), else none;
//   auto      as auto-fit, but fill instead of fit on a borderless page.
// On a roll (continuous) the page is as long as the placed image, up to
// heightDots. Also: what to ask the JPEG decoder for, and the page seen
// from the stored image's frame when EXIF says it is turned.

export interface ImagePlacement {
  scaling: "auto" | "auto-fit" | "fill" | "fit" | "none";
  // The page at the engine's resolution; for a roll (continuous media) the
  // height follows the image and heightDots is the longest page.
  widthDots: number;
  heightDots: number;
  xDpi: number;
  yDpi: number;
  colorSpace: EngineColorSpace;
  continuous?: boolean;
  // The page has no unprintable margins ("auto" then fills rather than fits).
  borderless?: boolean;
  // Margins the job asked for, in dots: the image is placed (and cropped)
  // within what they leave. The page itself stays the whole sheet.
  margins?: { top: number; right: number; bottom: number; left: number };
  // ipp-attribute-fidelity: "auto" and "auto-fit" scale even a small image.
  fidelity?: boolean;
  // The largest page buffer spent on turning a photo upright (EXIF
  // Orientation); default 64 KB. A turned image cannot stream: every page
  // row needs a source column, so the placed image is kept whole (at 1 bit
  // a dot for black_1, 1 byte for sgray_8, 3 for srgb_8). Over the budget it
  // prints as stored.
  orientBufferBytes?: number;
}

// Density assumed when the JPEG gives none (EXIF's and most cameras' default).
const DEFAULT_DPI = 72;

export interface Layout {
  pageWidth: number;
  pageHeight: number;
  // The placed image in page dots; may extend past the page (cropped).
  left: number;
  top: number;
  width: number;
  height: number;
  // The part of the page the image covers, whole dots.
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  mode: "fit" | "fill" | "none";
}

function imageDpi(info: JpegInfo): [number, number] {
  if (info.densityUnit === 1) return [info.xDensity, info.yDensity];
  if (info.densityUnit === 2) return [info.xDensity * 2.54, info.yDensity * 2.54];
  return [DEFAULT_DPI, DEFAULT_DPI];
}

export const DEFAULT_ORIENT_BUFFER = 64 * 1024;

// Where the image goes on the page; upright (orientation 5 to 8 turn it a
// quarter, so its width and height swap) unless told to take it as stored.
export function placeImage(info: JpegInfo, p: ImagePlacement, upright = true): Layout {
  const [dx, dy] = imageDpi(info);
  const turned = upright && info.orientation >= 5;
  const naturalW = turned ? (info.height / dy) * p.xDpi : (info.width / dx) * p.xDpi;
  const naturalH = turned ? (info.width / dx) * p.yDpi : (info.height / dy) * p.yDpi;
  const pageW = p.widthDots;
  const maxH = p.heightDots;
  const m = p.margins ?? { top: 0, right: 0, bottom: 0, left: 0 };
  // The printable area; never less than a dot, whatever margins were asked.
  const areaW = Math.max(1, pageW - m.left - m.right);
  const areaMaxH = Math.max(1, maxH - m.top - m.bottom);
  const larger = naturalW > areaW || naturalH > areaMaxH;
  let mode: Layout["mode"];
  if (p.scaling === "fit" || p.scaling === "fill" || p.scaling === "none") mode = p.scaling;
  else if (p.fidelity || larger) mode = p.scaling === "auto" && p.borderless ? "fill" : "fit";
  else mode = "none";
  // Scale factors from the natural size: across, and down the (longest) page.
  const across = areaW / naturalW, down = areaMaxH / naturalH;
  let k = 1;
  if (p.continuous) {
    // A roll is as long as it needs: fit and fill both take the width, fit
    // shrinks further only to stay within the longest page.
    if (mode === "fit") k = Math.min(across, down);
    else if (mode === "fill") k = across;
  } else if (mode === "fit") {
    k = Math.min(across, down);
  } else if (mode === "fill") {
    k = Math.max(across, down);
  }
  const width = naturalW * k, height = naturalH * k;
  const areaH = p.continuous ? Math.max(1, Math.min(areaMaxH, Math.round(height))) : areaMaxH;
  const pageH = p.continuous ? Math.min(maxH, areaH + m.top + m.bottom) : maxH;
  const left = m.left + (areaW - width) / 2, top = m.top + (areaH - height) / 2;
  const right = Math.min(pageW, m.left + areaW), bottom = Math.min(pageH, m.top + areaH);
  let x0 = Math.max(m.left, Math.round(left)), x1 = Math.min(right, Math.round(left + width));
  let y0 = Math.max(m.top, Math.round(top)), y1 = Math.min(bottom, Math.round(top + height));
  // An image placed smaller than a dot still gets one.
  if (x1 <= x0) { x0 = Math.min(x0, pageW - 1); x1 = x0 + 1; }
  if (y1 <= y0) { y0 = Math.min(y0, pageH - 1); y1 = y0 + 1; }
  return { pageWidth: pageW, pageHeight: pageH, left, top, width, height, x0, x1, y0, y1, mode };
}

// What the JPEG decoder is asked for: the largest IDCT reduction that still
// leaves at least one source pixel per placed dot each way, and the columns
// of the reduced image that reach the page. The width kept is under two
// source pixels per dot it covers (under 2 x the page width), except when
// even 1/8 leaves more (an image over 16 times the page width: then
// width / 8, at most 2048 with the 16384-pixel limit).
export function decodeWindow(info: JpegInfo, layout: Layout): { scale: number; left: number; right: number } {
  const perDotX = info.width / layout.width, perDotY = info.height / layout.height;
  let scale = 8;
  while (scale > 1 && (scale > perDotX || scale > perDotY)) scale >>= 1;
  const reducedW = Math.ceil(info.width / scale);
  const kx = info.width / scale / layout.width;
  const srcLeft = (layout.x0 - layout.left) * kx, srcRight = (layout.x1 - layout.left) * kx;
  const left = Math.max(0, Math.min(reducedW - 1, Math.floor(srcLeft)));
  const right = Math.max(left + 1, Math.min(reducedW, Math.ceil(srcRight)));
  return { scale, left, right };
}

// EXIF Orientation (TIFF 6.0): where the stored image's row 0 and column 0
// appear when it is shown upright. The page is laid out upright; the
// resampler works in the stored image's frame, so the page's rectangles are
// taken into that frame: flip across, flip down, then for 5 to 8 swap the axes.
export function flips(orientation: number): { flipX: boolean; flipY: boolean; swap: boolean } {
  return {
    flipX: orientation === 2 || orientation === 3 || orientation === 6 || orientation === 7,
    flipY: orientation === 3 || orientation === 4 || orientation === 7 || orientation === 8,
    swap: orientation >= 5,
  };
}

// The upright page's layout seen from the stored image's frame.
export function storedFrame(layout: Layout, orientation: number): Layout {
  const { flipX, flipY, swap } = flips(orientation);
  const W = layout.pageWidth, H = layout.pageHeight;
  let left = layout.left, top = layout.top, x0 = layout.x0, x1 = layout.x1, y0 = layout.y0, y1 = layout.y1;
  if (flipX) { left = W - (left + layout.width); [x0, x1] = [W - x1, W - x0]; }
  if (flipY) { top = H - (top + layout.height); [y0, y1] = [H - y1, H - y0]; }
  if (!swap) return { ...layout, left, top, x0, x1, y0, y1 };
  return { pageWidth: H, pageHeight: W, left: top, top: left, width: layout.height, height: layout.width, x0: y0, x1: y1, y0: x0, y1: x1, mode: layout.mode };
}

