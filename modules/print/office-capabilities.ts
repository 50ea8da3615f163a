import type { EngineCapabilities } from "../hal/engine.js";

// What the desktop simulators (Node and the Moddable simulator) offer by
// default: an office printer's media and resolutions, so clients render
// pages as they would for a real one.
export const OFFICE_CAPABILITIES: EngineCapabilities = {
  colorSpaces: ["srgb_8", "sgray_8", "black_1"],
  resolutions: [{ x: 300, y: 300 }, { x: 150, y: 150 }, { x: 600, y: 600 }],
  media: [
    { name: "ISO_A4", widthMicrons: 210_000, heightMicrons: 297_000 },
    { name: "NA_LETTER", widthMicrons: 215_900, heightMicrons: 279_400 },
  ],
  maxWidth: 5100,
  maxHeight: 7020,
  // A small office printer's rating; the simulator prints faster unless --ppm slows it.
  pagesPerMinute: 20,
};
