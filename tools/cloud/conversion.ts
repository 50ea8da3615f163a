import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { has, settingsFromCdd, toPwg, type RenderSettings } from "../client/convert.js";
import type { JobRecord, PrinterRecord, Store } from "./store.js";

// What the service did between /submit and the device's download (reference 5.4): it
// served the document in a type the printer's CDD accepts, converting when it had to.
// Here the one conversion is to PWG raster, the type a Privet printer must take, rendered
// by the same code the reference client uses (Ghostscript at the CDD's default resolution,
// color and media; images go through MuPDF into a PDF first so they fit the media too).
// A converted file is kept per job, keyed by the settings it was made with.

export const PWG = "image/pwg-raster";
const CONVERTIBLE = ["application/pdf", "application/postscript", "image/png", "image/jpeg", "image/jpg", "image/pjpeg"];

export type Plan = { serve: "stored" } | { serve: "pwg"; settings: RenderSettings } | { refuse: string };

export function cddContentTypes(capabilities: unknown): string[] {
  const list = (capabilities as { printer?: { supported_content_type?: unknown } } | undefined)?.printer?.supported_content_type;
  if (!Array.isArray(list)) return [];
  return list.map((entry) => (typeof entry?.content_type === "string" ? entry.content_type.trim().toLowerCase() : "")).filter((t) => t !== "");
}

function matches(range: string, type: string): boolean {
  const r = range.split(";")[0].trim().toLowerCase();
  const t = type.toLowerCase();
  return r === "*/*" || r === t || (r.endsWith("/*") && t.startsWith(r.slice(0, -1)));
}

// An Accept header the device sent (absent or empty: anything).
function acceptable(accept: string | undefined, type: string): boolean {
  if (!accept || accept.trim() === "") return true;
  return accept.split(",").some((range) => matches(range, type));
}

// The ticket may ask for other settings than the defaults; it is honoured only where it
// names an option the CDD offers, as a ticket the printer cannot do would be refused anyway.
export function renderSettings(printer: PrinterRecord, ticket: unknown): RenderSettings {
  const settings = settingsFromCdd(printer.capabilities);
  const cdd = (printer.capabilities as { printer?: Record<string, { option?: Array<Record<string, unknown>> }> } | undefined)?.printer ?? {};
  const print = (ticket as { print?: Record<string, Record<string, unknown>> } | null)?.print ?? {};
  const dpi = print.dpi?.horizontal_dpi;
  if (typeof dpi === "number" && cdd.dpi?.option?.some((o) => o.horizontal_dpi === dpi)) settings.dpi = dpi;
  const color = print.color?.type;
  if (typeof color === "string" && cdd.color?.option?.some((o) => o.type === color)) settings.color = color === "STANDARD_COLOR";
  const width = print.media_size?.width_microns;
  const height = print.media_size?.height_microns;
  const media = cdd.media_size?.option?.find((o) => o.width_microns === width && (o.height_microns === height || o.is_continuous_feed === true));
  if (media) settings.paper = { widthMicrons: width as number, heightMicrons: (media.height_microns as number | undefined) ?? settings.paper.heightMicrons, continuous: media.is_continuous_feed === true };
  return settings;
}

// Serve the stored document when the request names its type, or the CDD takes it and the
// request does not exclude it; otherwise PWG raster when both take that; otherwise 415.
export function plan(job: JobRecord, printer: PrinterRecord, accept: string | undefined, forcePwg: boolean): Plan {
  const stored = job.contentType.toLowerCase();
  const cdd = cddContentTypes(printer.capabilities);
  const cddTakes = (type: string) => cdd.length === 0 || cdd.some((range) => matches(range, type));
  // A device that names the stored type in Accept takes it, whatever its CDD says; wildcards defer to the CDD.
  const named = accept !== undefined && accept.split(",").some((range) => range.split(";")[0].trim().toLowerCase() === stored);
  if (!forcePwg && (named || (cddTakes(stored) && acceptable(accept, stored)))) return { serve: "stored" };
  if (!forcePwg && !(cddTakes(PWG) && acceptable(accept, PWG))) {
    return { refuse: `The document is ${job.contentType}; the printer takes ${cdd.join(", ") || "anything"} and asked for ${accept ?? "anything"}, and the only conversion is to ${PWG}.` };
  }
  if (stored === PWG) return { serve: "stored" };
  if (!CONVERTIBLE.includes(stored)) return { refuse: `The emulator converts only ${CONVERTIBLE.join(", ")} to ${PWG}, not ${job.contentType}.` };
  return { serve: "pwg", settings: renderSettings(printer, job.ticket) };
}

function run(command: string, args: string[], signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"], signal, killSignal: "SIGKILL" });
    let stderr = "";
    child.stderr.on("data", (chunk) => { if (stderr.length < 4096) stderr += chunk; });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${command} failed (${code}): ${stderr.trim().split("\n").pop() ?? ""}`))));
  });
}

export class ConversionError extends Error {}

// One conversion at a time: Ghostscript takes a core, and a burst of downloads must not take them all.
let queue: Promise<unknown> = Promise.resolve();
const inFlight = new Map<string, Promise<Buffer>>();

// The job's document as PWG raster, converted once per settings and then read from the cache.
export function pwgFor(store: Store, job: JobRecord, settings: RenderSettings, commit: () => void, timeoutSeconds: number): Promise<Buffer> {
  const key = JSON.stringify(settings);
  if (job.converted && job.converted.key === key) {
    try {
      return Promise.resolve(store.readDocument(job.converted.document));
    } catch {
      // The cached file went missing (a person tidied the folder): make it again.
    }
  }
  const flightKey = `${job.id} ${key}`;
  const running = inFlight.get(flightKey);
  if (running) return running;
  const work = queue.then(() => convert(store, job, settings, timeoutSeconds)).then((bytes) => {
    // Deleted while converting: answer this download, keep nothing.
    if (!Object.hasOwn(store.state.jobs, job.id)) return bytes;
    if (job.converted) store.removeDocument(job.converted.document);
    job.converted = { key, contentType: PWG, document: store.saveDocument(bytes), size: bytes.length };
    commit();
    return bytes;
  });
  inFlight.set(flightKey, work);
  const settled = work.catch(() => undefined).finally(() => inFlight.delete(flightKey));
  queue = settled;
  return work;
}

async function convert(store: Store, job: JobRecord, settings: RenderSettings, timeoutSeconds: number): Promise<Buffer> {
  if (!job.document) throw new ConversionError("the job has no document");
  // One deadline for the whole conversion; past it the renderer is killed and the queue moves on.
  const signal = AbortSignal.timeout(timeoutSeconds * 1000);
  if (!has("gs")) throw new ConversionError("Ghostscript (gs) is not installed, so nothing can be converted to PWG raster");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloud-convert-"));
  try {
    let input = store.documentPath(job.document);
    if (job.contentType.toLowerCase().startsWith("image/")) {
      if (!has("mutool")) throw new ConversionError("MuPDF's mutool is not installed, so images cannot be converted");
      // MuPDF tells images apart by the file name's extension; stored documents have none.
      const named = path.join(dir, job.contentType.toLowerCase() === "image/png" ? "image.png" : "image.jpg");
      fs.symlinkSync(input, named);
      const pdf = path.join(dir, "image.pdf");
      await run("mutool", ["convert", "-o", pdf, named], signal);
      input = pdf;
    }
    const out = await toPwg(input, settings, signal).catch((error: Error) => {
      throw new ConversionError(signal.aborted ? `it took longer than ${timeoutSeconds} s` : error.message);
    });
    try {
      // Ghostscript exits 0 on a PDF it cannot read and writes no page: that is a failure too.
      const bytes = fs.existsSync(out.file) ? fs.readFileSync(out.file) : Buffer.alloc(0);
      if (bytes.length < 4 + 1796 || bytes.subarray(0, 4).toString("latin1") !== "RaS2") throw new ConversionError("the document rendered to no page");
      return bytes;
    } finally {
      if (out.converted) fs.rmSync(path.dirname(out.file), { recursive: true, force: true });
    }
  } catch (error) {
    throw error instanceof ConversionError ? error : new ConversionError((error as Error).message);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
