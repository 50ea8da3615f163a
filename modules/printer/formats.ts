import type { EngineCapabilities } from "../hal/engine.js";
import type { Cost } from "../http/turns.js";
import { URF_MIME, takesUrf } from "../ipp/airprint.js";
import type { DocumentFormats } from "../ipp/formats.js";
import { jpegFormat } from "../ipp/image-format.js";
import { pwgDecoder } from "../print/spooler.js";
import { UrfDecoder } from "../urf/decoder.js";

// The one table of document formats this printer prints: a MIME type and
// the decoder for a job's ticket, the default first. The print layer's
// admission, IPP's document-format-supported and TXT pdl read it; Privet's
// CDD offers PWG raster, its first entry.
// jpegJob: a JPEG job's share of the heap's budget (http/turns), where there is one.
export function documentFormats(caps: EngineCapabilities, jpegJob?: number | Cost): DocumentFormats {
  const formats: DocumentFormats = {
    "image/pwg-raster": () => pwgDecoder,
    "image/jpeg": jpegFormat(caps, jpegJob),
  };
  // AirPrint's raster, where the engine takes one of its two colour spaces.
  if (takesUrf(caps)) formats[URF_MIME] = () => (sink, limits) => new UrfDecoder(sink, limits);
  return formats;
}
