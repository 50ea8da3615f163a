import test, { type ExecutionContext } from "ava";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { PwgDecoder, type RasterSink } from "../modules/pwg/decoder.js";
import type { PageHeader } from "../modules/pwg/header.js";
import { has } from "../tools/client/convert.js";
import { call, CURRENT_SETTINGS, registerParams, startTestCloud, tokenRequest, userToken, type TestCloud } from "./helpers/cloud.js";
import { pageHeader } from "./helpers/pwg.js";

// Reference 5.4: the device downloads its job in a type its CDD takes. A real PDF submitted
// to a PWG-only printer comes out as PWG raster at the CDD's default resolution, color and
// media, decoded by the firmware's own decoder; images likewise; PWG and accepted types pass
// through; the conversion is made once per job and goes when the job goes.

const TESTPAGE = "/usr/share/cups/data/default-testpage.pdf";
const missing = !has("gs") ? "Ghostscript is not installed" : !has("mutool") ? "mutool is not installed" : !existsSync(TESTPAGE) ? `${TESTPAGE} (cups-filters) is missing` : "";
// Each test skipped visibly, its title saying why, where a tool is missing.
const maybe = (title: string, body: (t: ExecutionContext) => Promise<void>) =>
  (missing ? test.skip : test)(missing ? `${title} (skipped: ${missing})` : title, body);

// A small page keeps Ghostscript quick: A6 at 100 dpi, gray by default.
const A6 = { width_microns: 105_000, height_microns: 148_000 };
function cdd(types: string[], color: "STANDARD_MONOCHROME" | "STANDARD_COLOR" = "STANDARD_MONOCHROME") {
  return {
    version: "1.0",
    printer: {
      supported_content_type: types.map((content_type) => ({ content_type })),
      pwg_raster_config: { document_type_supported: ["SGRAY_8", "SRGB_8"], document_sheet_back: "ROTATED" },
      color: { option: [{ type: "STANDARD_MONOCHROME", is_default: color === "STANDARD_MONOCHROME" }, { type: "STANDARD_COLOR", is_default: color === "STANDARD_COLOR" }] },
      dpi: { option: [{ horizontal_dpi: 150, vertical_dpi: 150 }, { horizontal_dpi: 100, vertical_dpi: 100, is_default: true }] },
      media_size: { option: [{ name: "ISO_A4", width_microns: 210_000, height_microns: 297_000 }, { name: "ISO_A6", ...A6, is_default: true }] },
    },
  };
}

interface Printer { id: string; robot: string; user: string }

async function printerWith(cloud: TestCloud, capabilities: unknown): Promise<Printer> {
  const { service } = cloud;
  const user = await userToken(service, "owner@example.com");
  const params = { ...registerParams("Converting printer"), capabilities: JSON.stringify(capabilities), local_settings: JSON.stringify({ current: CURRENT_SETTINGS }) };
  const reg = (await call(service, "register", params, { encoding: "multipart" })).json;
  await call(service, reg.automated_invite_url, {}, { encoding: "get", token: user });
  const poll = (await call(service, `${reg.polling_url}c`, {}, { encoding: "get" })).json;
  const tokens = await tokenRequest(service, { grant_type: "authorization_code", code: poll.authorization_code, client_id: "c" });
  return { id: reg.printers[0].id, robot: tokens.json.access_token, user };
}

async function submit(cloud: TestCloud, p: Printer, data: Buffer, contentType: string, ticket?: unknown): Promise<any> {
  const params: Record<string, string> = { printerid: p.id, title: `a ${contentType}`, contentType };
  if (ticket) params.ticket = JSON.stringify(ticket);
  const answer = await call(cloud.service, "submit", params, { encoding: "multipart", token: p.user, files: [{ name: "content", filename: "doc", contentType, data }] });
  if (!answer.json?.success) throw new Error(answer.text);
  return answer.json.job;
}

async function download(p: Printer, url: string, accept?: string): Promise<{ status: number; type: string | null; bytes: Buffer; text: string }> {
  const headers: Record<string, string> = { Authorization: `Bearer ${p.robot}`, "X-CloudPrint-Proxy": "t" };
  if (accept) headers.Accept = accept;
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(60_000) });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { status: response.status, type: response.headers.get("content-type"), bytes, text: response.status === 200 ? "" : bytes.toString("utf8") };
}

function decode(bytes: Buffer): PageHeader[] {
  const headers: PageHeader[] = [];
  const sink: RasterSink = { beginPage: (h) => { headers.push(h); }, line: () => true, endPage: () => {} };
  const decoder = new PwgDecoder(sink, { maxWidth: 5000, maxHeight: 8000 });
  for (let o = 0; o < bytes.length; o += 65536) decoder.write(bytes.subarray(o, o + 65536));
  decoder.end();
  return headers;
}

const pixels = (microns: number, dpi: number) => Math.round((microns / 25_400) * dpi);

async function cloudFor(t: import("ava").ExecutionContext): Promise<TestCloud> {
  const cloud = await startTestCloud();
  t.teardown(() => cloud.service.close());
  return cloud;
}

maybe("a real PDF to a PWG-only printer comes down as PWG at the CDD's default dpi, color and media, converted once", async (t) => {
  const cloud = await cloudFor(t);
  const p = await printerWith(cloud, cdd(["image/pwg-raster"]));
  const job = await submit(cloud, p, readFileSync(TESTPAGE), "application/pdf");
  const fetched = await call(cloud.service, "fetch", { printerid: p.id }, { token: p.robot });
  t.is(fetched.json.jobs[0].id, job.id);

  const first = await download(p, fetched.json.jobs[0].fileUrl, "image/pwg-raster");
  t.is(first.status, 200, first.text);
  t.is(first.type, "image/pwg-raster");
  const pages = decode(first.bytes);
  t.true(pages.length >= 1);
  t.is(pages[0].xDpi, 100);
  t.is(pages[0].yDpi, 100);
  t.is(pages[0].colorSpaceCode, 18, "sGray: the CDD's default is monochrome");
  t.true(Math.abs(pages[0].width - pixels(A6.width_microns, 100)) <= 1, `width ${pages[0].width}`);
  t.true(Math.abs(pages[0].height - pixels(A6.height_microns, 100)) <= 1, `height ${pages[0].height}`);

  const cached = cloud.service.store.state.jobs[job.id].converted!;
  t.is(cached.contentType, "image/pwg-raster");
  t.is(cached.size, first.bytes.length);
  // The second download is the cached file: same bytes, and no second converted file on disk.
  const documents = () => readdirSync(path.join(cloud.stateDir, "documents")).length;
  const before = documents();
  const second = await download(p, fetched.json.jobs[0].fileUrl, "image/pwg-raster");
  t.deepEqual(second.bytes, first.bytes);
  t.is(documents(), before);
  t.is(cloud.service.store.state.jobs[job.id].converted!.document, cached.document);

  // Deleting the job removes the document and its conversion.
  t.true((await call(cloud.service, "deletejob", { jobid: job.id }, { token: p.user })).json.success);
  t.is(documents(), before - 2);
});

maybe("a ticket naming options the CDD offers wins over the defaults: color at 150 dpi on A4", async (t) => {
  const cloud = await cloudFor(t);
  const p = await printerWith(cloud, cdd(["image/pwg-raster"]));
  const ticket = { version: "1.0", print: { color: { type: "STANDARD_COLOR" }, dpi: { horizontal_dpi: 150, vertical_dpi: 150 }, media_size: { width_microns: 210_000, height_microns: 297_000 } } };
  const job = await submit(cloud, p, readFileSync(TESTPAGE), "application/pdf", ticket);
  const got = await download(p, job.fileUrl, "image/pwg-raster");
  t.is(got.status, 200, got.text);
  const [page] = decode(got.bytes);
  t.is(page.xDpi, 150);
  t.is(page.colorSpaceCode, 19, "sRGB");
  t.true(Math.abs(page.width - pixels(210_000, 150)) <= 1);

  // An option the CDD lacks (600 dpi) is ignored: the default stays.
  const odd = await submit(cloud, p, readFileSync(TESTPAGE), "application/pdf", { version: "1.0", print: { dpi: { horizontal_dpi: 600, vertical_dpi: 600 } } });
  t.is(decode((await download(p, odd.fileUrl)).bytes)[0].xDpi, 100);
});

maybe("PNG and JPEG images become PWG fitted to the default media; a color default gives sRGB", async (t) => {
  const cloud = await cloudFor(t);
  const p = await printerWith(cloud, cdd(["image/pwg-raster"], "STANDARD_COLOR"));
  const dir = mkdtempSync(path.join(tmpdir(), "cloud-convert-"));
  for (const [device, ext, type] of [["png16m", "png", "image/png"], ["jpeg", "jpg", "image/jpeg"]]) {
    const file = path.join(dir, `page.${ext}`);
    execFileSync("gs", ["-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", `-sDEVICE=${device}`, "-r20", `-sOutputFile=${file}`, TESTPAGE]);
    const job = await submit(cloud, p, readFileSync(file), type);
    const got = await download(p, job.fileUrl);
    t.is(got.status, 200, `${type}: ${got.text}`);
    t.is(got.type, "image/pwg-raster");
    const [page] = decode(got.bytes);
    t.is(page.colorSpaceCode, 19, type);
    t.is(page.xDpi, 100, type);
    t.true(Math.abs(page.width - pixels(A6.width_microns, 100)) <= 1, `${type} width ${page.width}`);
  }
});

maybe("PWG passes through; a type the CDD takes is served as stored; forcepwg converts it anyway", async (t) => {
  const cloud = await cloudFor(t);
  const p = await printerWith(cloud, cdd(["application/pdf", "image/pwg-raster"]));
  const header = pageHeader({ width: 8, height: 2, space: "sgray_8", dpi: 100, pixels: new Uint8Array(16) });
  const pwg = Buffer.concat([Buffer.from("RaS2"), header, Buffer.from([1, 7, 0x00])]);
  const pwgJob = await submit(cloud, p, pwg, "image/pwg-raster");
  const same = await download(p, pwgJob.fileUrl, "image/pwg-raster");
  t.deepEqual(same.bytes, pwg);
  t.is(cloud.service.store.state.jobs[pwgJob.id].converted, undefined);

  const pdf = readFileSync(TESTPAGE);
  const pdfJob = await submit(cloud, p, pdf, "application/pdf");
  const asIs = await download(p, pdfJob.fileUrl, "application/pdf, image/pwg-raster");
  t.is(asIs.type, "application/pdf");
  t.deepEqual(asIs.bytes, pdf);
  // The device asks for PWG only (its Accept), or through rasterUrl.
  const pwgOnly = await download(p, pdfJob.fileUrl, "image/pwg-raster");
  t.is(pwgOnly.type, "image/pwg-raster");
  const forced = await download(p, pdfJob.rasterUrl);
  t.is(forced.type, "image/pwg-raster");
  t.deepEqual(forced.bytes, pwgOnly.bytes);
});

maybe("what cannot be converted is a 415 with a reason, and the service goes on", async (t) => {
  const cloud = await cloudFor(t);
  const p = await printerWith(cloud, cdd(["image/pwg-raster"]));
  const corrupt = await submit(cloud, p, Buffer.from("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"), "application/pdf");
  const broken = await download(p, corrupt.fileUrl);
  t.is(broken.status, 415);
  t.regex(JSON.parse(broken.text).message, /Conversion to image\/pwg-raster failed/);
  const text = await submit(cloud, p, Buffer.from("hello"), "text/plain");
  const refused = await download(p, text.fileUrl);
  t.is(refused.status, 415);
  t.regex(JSON.parse(refused.text).message, /converts only/);
  const wrongAccept = await submit(cloud, p, readFileSync(TESTPAGE), "application/pdf");
  t.is((await download(p, wrongAccept.fileUrl, "application/postscript")).status, 415, "the device takes neither the stored type nor PWG");
  const good = await download(p, wrongAccept.fileUrl, "image/pwg-raster");
  t.is(good.status, 200);
});

maybe("a document that never finishes rendering is killed at the conversion deadline, and the next one converts", async (t) => {
  const cloud = await startTestCloud({ conversionTimeoutSeconds: 1 });
  t.teardown(() => cloud.service.close());
  const p = await printerWith(cloud, cdd(["image/pwg-raster"]));
  // PostScript is a program: this one loops for ever inside Ghostscript's -dSAFER sandbox.
  const endless = await submit(cloud, p, Buffer.from("%!PS\n{ 1 pop } loop\n"), "application/postscript");
  const killed = await download(p, endless.fileUrl);
  t.is(killed.status, 415);
  t.regex(JSON.parse(killed.text).message, /longer than 1 s/);
  t.is(cloud.service.store.state.jobs[endless.id].converted, undefined);
  const next = await submit(cloud, p, readFileSync(TESTPAGE), "application/pdf");
  t.is((await download(p, next.fileUrl)).status, 200);
});
