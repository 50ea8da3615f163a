import test, { type ExecutionContext } from "ava";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { PngEngine } from "../hosts/node/png-engine.js";
import { rawRequest } from "./helpers/client.js";
import { startTestCloud } from "./helpers/cloud.js";
import { startCloudPrinter, until, type CloudPrinter } from "./helpers/cloud-printer.js";
import { encodeDocument, testPage } from "./helpers/pwg.js";
import { privetTxt } from "../modules/privet/info.js";

// The printer's own pages as a person uses them, in Debian's chromium
// (playwright-core, no downloaded browser), and as another site in the same
// browser tries to abuse them. Set WEB_SCREENSHOTS=docs to refresh docs/web-*.png.

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export async function launch(t: ExecutionContext, viewport = { width: 420, height: 900 }): Promise<BrowserContext> {
  const profile = mkdtempSync(path.join(tmpdir(), "web-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport, timeout: 30_000 });
  context.setDefaultTimeout(15_000);
  t.teardown(async () => { await context.close(); rmSync(profile, { recursive: true, force: true }); });
  return context;
}

async function printerWithCloud(t: ExecutionContext): Promise<{ p: CloudPrinter; base: string; cloud: Awaited<ReturnType<typeof startTestCloud>>; outDir: string }> {
  const cloud = await startTestCloud();
  t.teardown(() => cloud.service.close());
  const outDir = mkdtempSync(path.join(tmpdir(), "web-out-"));
  t.teardown(() => rmSync(outDir, { recursive: true, force: true }));
  const engine = new PngEngine({ outDir, pagesPerMinute: 0, log: () => {} });
  const p = await startCloudPrinter({ url: cloud.service.baseUrl, engine });
  t.teardown(() => p.stop());
  return { p, base: `http://127.0.0.1:${p.port}`, cloud, outDir };
}

// Another origin: the same host, another port.
async function otherSite(t: ExecutionContext, html: (printer: string) => string, printer: string): Promise<string> {
  const server = http.createServer((_req, res) => res.writeHead(200, { "Content-Type": "text/html" }).end(html(printer)));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

function skipWithoutChromium(t: ExecutionContext): boolean {
  if (existsSync(CHROMIUM)) return false;
  t.fail(`${CHROMIUM} is not installed, so the printer's pages cannot be tested in a browser: apt-get install -y chromium`);
  return true;
}

test("a page on another origin can neither change a setting, start a registration, nor read the pages or /privet/info; the printer's own page can change the name", async (t) => {
  if (skipWithoutChromium(t)) return;
  const { p, base } = await printerWithCloud(t);
  const context = await launch(t);
  const page = context.pages()[0] ?? await context.newPage();
  const token = p.printer.web.guard.token;

  // The other site knows the form's fields, and even (as if it had leaked) the per-boot secret:
  // the Origin check alone must still refuse it.
  const evil = await otherSite(t, (printer) => `<!doctype html><title>evil</title>
<form id="rename" method="post" action="${printer}/settings"><input name="name" value="Pwned"><input name="local_discovery" value="1"><input name="csrf" value="${token}"></form>
<form id="register" method="post" action="${printer}/register"><input name="user" value="mallory@example.com"><input name="csrf" value="${token}"></form>
<script>
const form = { method: "POST", mode: "no-cors", headers: { "Content-Type": "application/x-www-form-urlencoded" } };
window.results = Promise.all([
  fetch("${printer}/register", { ...form, body: "user=mallory%40example.com&csrf=${token}" }).then(() => "sent", (e) => "failed " + e),
  fetch("${printer}/settings", { ...form, body: "name=Pwned2&csrf=guess" }).then(() => "sent", (e) => "failed " + e),
  fetch("${printer}/privet/info", { headers: { "X-Privet-Token": '""' } }).then((r) => r.text(), (e) => "failed " + e),
  fetch("${printer}/settings").then((r) => r.text(), (e) => "failed " + e),
]);
</script>`, base);
  await page.goto(evil);
  const [register, settings, info, pageText] = await page.evaluate("window.results") as string[];
  // no-cors POSTs do leave the browser (that is what CSRF is); the printer must refuse them.
  t.is(register, "sent");
  t.is(settings, "sent");
  t.regex(info, /^failed TypeError/, "/privet/info is not readable from another origin (no CORS)");
  t.regex(pageText, /^failed TypeError/, "the pages (and their secret) are not readable from another origin");
  await until("both forged posts were refused", () => p.logs.filter((l) => l.includes("web: refused POST")).length === 2);
  t.true(p.logs.some((l) => /refused POST \/register .*another site/.test(l)));
  t.true(p.logs.some((l) => /refused POST \/settings .*another site/.test(l)));
  t.is(p.printer.cloud!.registration.phase, "idle", "no registration was started");
  t.is(p.printer.device.name, "Cloud Test Printer");

  // A plain form post, the classic CSRF: the browser navigates to our 403.
  const [refused] = await Promise.all([page.waitForNavigation(), page.evaluate("document.getElementById('rename').submit()")]);
  t.is(refused!.status(), 403);
  t.regex(await page.locator("body").innerText(), /another site/);
  t.is(p.printer.device.name, "Cloud Test Printer");
  t.false(JSON.stringify(p.printer.info()).includes("Pwned"));
  await page.goto(evil);
  const [refusedRegister] = await Promise.all([page.waitForNavigation(), page.evaluate("document.getElementById('register').submit()")]);
  t.is(refusedRegister!.status(), 403);
  t.is(p.printer.cloud!.registration.phase, "idle", "the form did not start a registration either");
  t.is(p.panel.mode, "off", "the printer never asked for its button");

  // Nothing the printer sends names another origin as allowed.
  for (const target of ["/", "/settings", "/privet/info"]) {
    const answer = await rawRequest(p.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: ${evil.slice(0, -1)}\r\nX-Privet-Token: ""\r\nConnection: close\r\n\r\n`);
    t.false(Object.keys(answer.headers).some((h) => h.toLowerCase().startsWith("access-control-")), `${target} sends no CORS header`);
  }
  // DNS rebinding: a name of the other site pointed at the printer is refused, so its page cannot read our secret.
  const rebound = await rawRequest(p.port, `GET /settings HTTP/1.1\r\nHost: evil.example:${p.port}\r\nConnection: close\r\n\r\n`);
  t.is(rebound.status, 403);
  t.false(rebound.body.includes(token));

  // The person on the printer's own page changes the name; TXT and /privet/info follow.
  await page.goto(`${base}/settings`);
  const name = `Lobby <b>"&'</b> printer`;
  await page.fill("#name", name);
  await page.fill("#description", "By the <script>door</script>");
  await Promise.all([page.waitForURL(/done=saved/), page.click("#settings button[type=submit]")]);
  t.is(await page.locator(".notice").innerText(), "Settings saved.");
  t.is(await page.locator("header h1").innerText(), name, "shown as text, not markup");
  t.is(await page.locator("script").count(), 0);
  t.is(p.printer.device.name, name);
  t.deepEqual(privetTxt(p.printer.device).find(([k]) => k === "ty"), ["ty", name]);
  t.deepEqual(privetTxt(p.printer.device).find(([k]) => k === "note"), ["note", "By the <script>door</script>"]);
  const infoNow = (await p.privet.request("GET", "/privet/info", "\"\"")).json;
  t.is(infoNow.name, name);
  t.is(infoNow.description, "By the <script>door</script>");
});

test("a person registers the printer from its page, confirms on the panel, claims it on the service's page, prints through Privet and sees the job", async (t) => {
  if (skipWithoutChromium(t)) return;
  const { p, base, outDir } = await printerWithCloud(t);
  const context = await launch(t);
  const page = context.pages()[0] ?? await context.newPage();
  const shots = process.env.WEB_SCREENSHOTS;
  if (shots) mkdirSync(shots, { recursive: true });

  await page.goto(base);
  t.is(await page.locator("#registration .reg-state").innerText(), "Not registered.");
  await page.fill("#user", "rosa@example.com");
  await Promise.all([page.waitForURL(/done=registering/), page.click("#registration button[type=submit]")]);
  t.regex(await page.locator("#registration").innerText(), /Press OK on the printer/);
  t.is(p.panel.mode, "blink", "the printer asks for its button");

  // The button on the printer; the page (refreshing itself) shows the claim link.
  p.panel.press("ok");
  await page.locator("#claim-link").waitFor({ timeout: 15_000 });
  const claimHref = await page.locator("#claim-link").getAttribute("href");
  t.truthy(claimHref);
  const [claimPage] = await Promise.all([context.waitForEvent("page"), page.click("#claim-link")]);
  await claimPage.waitForURL(/\/signin/);
  await claimPage.fill("input[name=email]", "rosa@example.com");
  await Promise.all([claimPage.waitForURL(/claimprinter\.html\?token=/), claimPage.click("button[type=submit]")]);
  await Promise.all([claimPage.waitForURL(/claimed=/), claimPage.click("#claim")]);
  await claimPage.close();

  await until("the printer is registered", () => p.printer.cloud!.registered, 15_000);
  await page.goto(base);
  t.is(await page.locator("#registration .reg-state").innerText(), "Registered");
  t.regex(await page.locator("#registration").innerText(), /rosa@example\.com/);
  t.regex(await page.locator("#registration").innerText(), new RegExp(p.printer.cloud!.printerId));

  // Printing through Privet, as any client on the LAN would.
  const info = await p.privet.info();
  const doc = encodeDocument([testPage(120, 160, "sgray_8", 3), testPage(120, 160, "sgray_8", 4)]);
  const head = `POST /privet/printer/submitdoc?job_name=Quarterly%20%3Creport%3E HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Privet-Token: ${info["x-privet-token"]}\r\n` +
    `Content-Type: image/pwg-raster\r\nContent-Length: ${doc.length}\r\n\r\n`;
  const submitted = JSON.parse((await rawRequest(p.port, Buffer.concat([Buffer.from(head), Buffer.from(doc)]), 15_000)).body);
  t.truthy(submitted.job_id, JSON.stringify(submitted));
  await until("the job is done", () => p.printer.jobs.find(submitted.job_id)?.state === "done", 10_000);
  await page.reload();
  const row = page.locator(`#jobs tr[data-job-id="${submitted.job_id}"]`);
  t.is(await row.locator("td").nth(0).innerText(), "Quarterly <report>");
  t.is(await row.locator("td").nth(1).innerText(), "Done");
  t.is(await row.locator("td").nth(2).innerText(), "2");
  t.is(await page.locator("#status .badge").first().innerText(), "Ready");
  if (shots) await page.screenshot({ path: path.join(shots, "web-status.png"), fullPage: true });
  t.true(existsSync(outDir));

  // A fault shows in words.
  (p.printer as any).hal.engine.setFault("media-jam");
  await page.reload();
  t.is(await page.locator("#status .badge").first().innerText(), "Stopped");
  t.regex(await page.locator("#status .fault").innerText(), /jam/i);
  (p.printer as any).hal.engine.setFault(undefined);

  // Factory reset from the settings page needs its box ticked, then forgets the registration.
  await page.goto(`${base}/settings`);
  if (shots) await page.screenshot({ path: path.join(shots, "web-settings.png"), fullPage: true });
  await page.check("#reset input[name=confirm]");
  await Promise.all([page.waitForURL(/done=reset/), page.click("#reset button")]);
  t.false(p.printer.cloud!.registered);
  t.is(await page.locator("#registration .reg-state").innerText(), "Not registered.");
});
