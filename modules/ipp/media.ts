import type { MediaSize } from "../hal/engine.js";
import { attr, collection, integer, keyword, range, type IppValue } from "../ipp-codec/values.js";

// The engine's media in IPP's words: PWG 5101.1 self-describing names
// ("iso_a4_210x297mm") and media-col collections with sizes in hundredths of
// a millimetre (PWG 5100.7).

// The names PWG 5101.1 gives the sizes the CDD names; anything else gets a
// custom name built from its size.
const KNOWN: Record<string, string> = {
  ISO_A3: "iso_a3_297x420mm",
  ISO_A4: "iso_a4_210x297mm",
  ISO_A5: "iso_a5_148x210mm",
  ISO_A6: "iso_a6_105x148mm",
  NA_LETTER: "na_letter_8.5x11in",
  NA_LEGAL: "na_legal_8.5x14in",
  NA_INDEX_4X6: "na_index-4x6_4x6in",
  NA_GOVT_LETTER: "na_govt-letter_8x10in",
  JPN_HAGAKI: "jpn_hagaki_100x148mm",
};

function millimetres(microns: number): string {
  // At most two decimals, none that are zero: "58", "3276.7".
  return String(Math.round(microns / 10) / 100);
}

export function mediaName(media: MediaSize): string {
  const known = KNOWN[media.name];
  if (known) return known;
  const size = `${millimetres(media.widthMicrons)}x${millimetres(media.heightMicrons)}mm`;
  // A roll is named for the longest page it takes (PWG 5101.1 roll_max).
  if (media.continuous) return `roll_max_${size}`;
  return `custom_${media.name.toLowerCase().replace(/[^a-z0-9-]/g, "-")}_${size}`;
}

// Hundredths of a millimetre, IPP's unit for media sizes.
export function hundredths(microns: number): number {
  return Math.round(microns / 10);
}

// A roll takes any length up to its longest page: its y-dimension is a
// range (PWG 5100.7), so clients size receipts to their content.
export function mediaSizeValue(media: MediaSize): IppValue {
  return collection([
    attr("x-dimension", integer(hundredths(media.widthMicrons))),
    attr("y-dimension", media.continuous ? range(1, hundredths(media.heightMicrons)) : integer(hundredths(media.heightMicrons))),
  ]);
}

// Margins in hundredths of a millimetre. A sheet is offered both with the
// margins most printers have (1/6 inch, 423) and borderless: CUPS names each
// media-col-database entry by its size plus ".Borderless" when all four are 0,
// and names its default from media-col-default the same way, so without a
// bordered entry its default ("A4") matched no size it made and it fell back
// to Letter. The simulator can print every dot either way. A roll is the
// head's own width (the paper's unprinted edges are not part of the media),
// so it is borderless only.
export const SHEET_MARGIN = 423;

export interface Margins {
  bottom: number;
  left: number;
  right: number;
  top: number;
}

export const MEDIA_SOURCE = "main";
export const MEDIA_TYPE = "stationery";

// The first is the one a job gets when it names no margins.
export function marginsSupported(media: MediaSize): number[] {
  return media.continuous ? [0] : [SHEET_MARGIN, 0];
}

// media-*-margin-supported: every value some media takes.
export function allMarginsSupported(all: MediaSize[]): number[] {
  const values: number[] = [];
  for (const media of all) for (const m of marginsSupported(media)) if (!values.includes(m)) values.push(m);
  return values;
}

function sameMargin(margin: number): Margins {
  return { bottom: margin, left: margin, right: margin, top: margin };
}

export function defaultMargins(media: MediaSize): Margins {
  return sameMargin(marginsSupported(media)[0]);
}

export function isBorderless(margins: Margins): boolean {
  return margins.bottom === 0 && margins.left === 0 && margins.right === 0 && margins.top === 0;
}

// One entry of media-col-database / -default / -ready.
export function mediaCol(media: MediaSize, margins: Margins = defaultMargins(media)): IppValue {
  return collection([
    attr("media-size", mediaSizeValue(media)),
    attr("media-bottom-margin", integer(margins.bottom)),
    attr("media-left-margin", integer(margins.left)),
    attr("media-right-margin", integer(margins.right)),
    attr("media-top-margin", integer(margins.top)),
    attr("media-source", keyword(MEDIA_SOURCE)),
    attr("media-type", keyword(MEDIA_TYPE)),
  ]);
}

// Every size with each of its margins, bordered first: the list a client
// builds its sizes from (CUPS: "A4" and "A4.Borderless").
export function mediaColDatabase(all: MediaSize[]): IppValue[] {
  const entries: IppValue[] = [];
  for (const media of all) for (const m of marginsSupported(media)) entries.push(mediaCol(media, sameMargin(m)));
  return entries;
}

// The media whose size is x by y hundredths of a millimetre, within the
// rounding a client converting from inches makes.
export function mediaBySize(all: MediaSize[], x: number, y: number): MediaSize | undefined {
  return all.find((m) => Math.abs(hundredths(m.widthMicrons) - x) <= 1
    && (m.continuous ? y > 0 && y <= hundredths(m.heightMicrons) + 1 : Math.abs(hundredths(m.heightMicrons) - y) <= 1));
}
