import type { EngineCapabilities } from "../hal/engine.js";

// The Cloud Device Description for /privet/capabilities, built from what the
// engine really has, so clients render pages the engine can print.
export function cloudDeviceDescription(caps: EngineCapabilities): Record<string, unknown> {
  const color = caps.colorSpaces.includes("srgb_8");
  return {
    version: "1.0",
    printer: {
      supported_content_type: [{ content_type: "image/pwg-raster" }],
      pwg_raster_config: {
        document_resolution_supported: caps.resolutions.map((r) => ({ cross_feed_dir: r.x, feed_dir: r.y })),
        document_type_supported: caps.colorSpaces.map((c) => c.toUpperCase()),
      },
      color: {
        option: [
          ...(color ? [{ type: "STANDARD_COLOR", is_default: true }] : []),
          { type: "STANDARD_MONOCHROME", is_default: !color },
        ],
      },
      copies: { default: 1, max: 1 },
      media_size: {
        option: caps.media.map((m, i) => ({
          name: m.name, width_microns: m.widthMicrons, height_microns: m.heightMicrons,
          ...(m.continuous ? { is_continuous_feed: true } : {}), is_default: i === 0,
        })),
      },
      dpi: {
        option: caps.resolutions.map((r, i) => ({ horizontal_dpi: r.x, vertical_dpi: r.y, is_default: i === 0 })),
      },
      page_orientation: { option: [{ type: "PORTRAIT", is_default: true }, { type: "LANDSCAPE" }, { type: "AUTO" }] },
    },
  };
}
