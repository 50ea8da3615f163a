import test, { type ExecutionContext } from "ava";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { Printer } from "../modules/printer/printer.js";
import { SafeStorage } from "../modules/storage/safe-storage.js";
import { WIFI_KEY } from "../modules/wifi/setup.js";
import { FrontPanel } from "../hosts/node/front-panel.js";
import { MemoryStorage, nodeHal } from "../hosts/node/hal.js";
import { SimulatedWifi } from "../hosts/node/network.js";
import { ConsolePanel } from "../hosts/node/panel.js";
import { PngEngine } from "../hosts/node/png-engine.js";
import { rawRequest } from "./helpers/client.js";
import { until } from "./helpers/cloud-printer.js";
import { encodeDocument, testPage } from "./helpers/pwg.js";

// The simulator's front panel and the board's first-boot Wi-Fi setup, in
// Debian's chromium. WEB_SCREENSHOTS=docs refreshes docs/web-panel.png and docs/web-wifi.png.

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

async function launch(t: ExecutionContext, viewport = { width: 420, height: 900 }): Promise<BrowserContext> {
  const profile = mkdtempSync(path.join(tmpdir(), "web-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport, timeout: 30_000 });
  context.setDefaultTimeout(15_000);
  t.teardown(async () => { await context.close(); rmSync(profile, { recursive: true, force: true }); });
  return context;
}

function noChromium(t: ExecutionContext): boolean {
  if (existsSync(CHROMIUM)) return false;
  t.fail(`${CHROMIUM} is not installed: apt-get install -y chromium`);
  return true;
}

async function submit(port: number, name: string, doc: Uint8Array): Promise<any> {
  const info = JSON.parse((await rawRequest(port, "GET /privet/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Privet-Token: \"\"\r\n\r\n")).body);
  const head = `POST /privet/printer/submitdoc?job_name=${encodeURIComponent(name)} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Privet-Token: ${info["x-privet-token"]}\r\n` +
    `Content-Type: image/pwg-raster\r\nContent-Length: ${doc.length}\r\n\r\n`;
  return JSON.parse((await rawRequest(port, Buffer.concat([Buffer.from(head), Buffer.from(doc)]), 15_000)).body);
}

test("the front panel shows faults, the indicator and live thumbnails of printed pages; its buttons reach the printer and refuse other origins", async (t) => {
  if (noChromium(t)) return;
  const outDir = mkdtempSync(path.join(tmpdir(), "panel-out-"));
  t.teardown(() => rmSync(outDir, { recursive: true, force: true }));
  const engine = new PngEngine({ outDir, pagesPerMinute: 0, log: () => {} });
  const panel = new ConsolePanel({ write: () => {} });
  const printer = new Printer({ ...nodeHal({ log: () => {} }), engine, panel }, { port: 0, name: "Panel <Test>" });
  const port = await printer.start();
  t.teardown(() => printer.stop());
  const front = new FrontPanel({ printer, panel, port: 0, setFault: (f) => engine.setFault(f), pages: () => engine.pageFiles });
  front.printerUrl = `http://127.0.0.1:${port}/`;
  await front.start();
  t.teardown(() => front.stop());
  const context = await launch(t, { width: 760, height: 700 });
  const page = context.pages()[0] ?? await context.newPage();
  await page.goto(front.url);
  await page.locator("#name").filter({ hasText: "Panel <Test>" }).waitFor();
  t.is(await page.locator("#state").innerText(), "Ready");

  await page.click("[data-fault=media-jam]");
  await until("the engine is jammed", () => engine.fault === "media-jam");
  await page.locator("#state").filter({ hasText: /Stopped: .*jam/i }).waitFor();
  t.is((await printer.info()).device_state, "stopped");
  await page.click("[data-fault=clear]");
  await page.locator("#state").filter({ hasText: /^Ready$/ }).waitFor();
  t.is(engine.fault, undefined);

  // The indicator follows the panel (a registration would blink it).
  panel.indicator("blink");
  await page.locator("#led.blink").waitFor();
  panel.indicator("off");
  await page.locator("#led.off").waitFor();

  // Pages printed show up as thumbnails without a reload.
  const answer = await submit(port, "Two pages", encodeDocument([testPage(300, 420, "srgb_8", 1), testPage(300, 420, "sgray_8", 2)]));
  t.truthy(answer.job_id);
  await page.locator("#pages img").nth(1).waitFor();
  t.is(await page.locator("#pages img").count(), 2);
  await until("both thumbnails have loaded", async () => (await page.locator("#pages img").evaluateAll((imgs) => imgs.every((i: any) => i.complete && i.naturalWidth > 0))));
  const widths = await page.locator("#pages img").evaluateAll((imgs) => imgs.map((i: any) => i.naturalWidth));
  t.true(widths.every((w: number) => w > 0 && w <= 150), `thumbnails are small: ${widths}`);
  const shots = process.env.WEB_SCREENSHOTS;
  if (shots) {
    mkdirSync(shots, { recursive: true });
    engine.setFault("media-empty");
    await page.locator("#state").filter({ hasText: /Stopped/ }).waitFor();
    await page.screenshot({ path: path.join(shots, "web-panel.png") });
    engine.setFault(undefined);
  }
  // A thumbnail is a PNG of averaged pixels, not the page itself.
  const thumb = await (await fetch(`${front.url}thumbs/${encodeURIComponent(path.basename(engine.pageFiles[0]))}`)).arrayBuffer();
  t.is(Buffer.from(thumb).readUInt32BE(16), 150, "300 px wide page, halved");
  t.is((await fetch(`${front.url}thumbs/..%2F..%2Fetc%2Fpasswd`)).status, 404, "only the engine's own pages");

  // A button from another origin (no token, foreign Origin) does nothing.
  const forged = await fetch(`${front.url}press/reset`, { method: "POST", headers: { Origin: "http://127.0.0.1:1" } });
  t.is(forged.status, 403);
  const noToken = await fetch(`${front.url}fault/media-jam`, { method: "POST" });
  t.is(noToken.status, 403);
  t.is(engine.fault, undefined);
});

test("first boot with Wi-Fi: the setup page lists the networks, a wrong password is an error on the page, the right one joins and is stored; a long press forgets it", async (t) => {
  if (noChromium(t)) return;
  const storage = new MemoryStorage();
  const network = new SimulatedWifi({ joinDelayMs: 50 });
  const panel = new ConsolePanel({ write: () => {} });
  const logs: string[] = [];
  const printer = new Printer({ ...nodeHal({ log: (l, m) => logs.push(`${l} ${m}`) }), storage, panel, network }, { port: 0 });
  const port = await printer.start();
  t.teardown(() => printer.stop());
  t.truthy(network.status().accessPoint, "no stored network: the setup access point is up");
  t.regex(network.status().accessPoint!.ssid, /^Privet-Setup-[0-9A-F]{4}$/);

  const context = await launch(t);
  const page = context.pages()[0] ?? await context.newPage();
  await page.goto(`http://127.0.0.1:${port}/wifi`);
  t.is(await page.locator(".wifi-state").innerText(), "Not connected");
  const names = await page.locator("#wifi-join label.net span:first-child").allInnerTexts();
  t.deepEqual(names.map((n) => n.trim()), ["Home Wi-Fi", "Cafe <Guest>", "Neighbour 5G"], "strongest first, names as text");

  await page.check("input[name=ssid][value='Home Wi-Fi']");
  await page.fill("#password", "wrong password");
  await Promise.all([page.waitForURL(/\/wifi$/), page.click("#wifi-join button[type=submit]")]);
  t.is(await page.locator(".error").innerText(), "Could not join Home Wi-Fi: the password is wrong");
  t.is(new SafeStorage(storage).read(WIFI_KEY), undefined, "nothing stored");
  t.truthy(network.status().accessPoint);

  await page.check("input[name=ssid][value='Home Wi-Fi']");
  await page.fill("#password", "correct horse battery");
  await Promise.all([page.waitForURL(/done=joined/), page.click("#wifi-join button[type=submit]")]);
  t.is(await page.locator(".wifi-state").innerText(), "Connected to Home Wi-Fi as 192.168.1.57");
  t.regex(await page.locator("#wifi-status .notice").innerText(), /Reconnect .* to Home Wi-Fi/);
  const shots = process.env.WEB_SCREENSHOTS;
  if (shots) await page.screenshot({ path: path.join(shots, "web-wifi.png"), fullPage: true });
  t.deepEqual(JSON.parse(new SafeStorage(storage).read(WIFI_KEY)!), { ssid: "Home Wi-Fi", password: "correct horse battery" });
  t.false(await page.content().then((html) => html.includes("correct horse")), "the password never comes back in a page");

  // The next boot joins the stored network and opens no access point.
  await printer.stop();
  const again = new SimulatedWifi({ joinDelayMs: 10 });
  const second = new Printer({ ...nodeHal({ log: () => {} }), storage, panel: new ConsolePanel({ write: () => {} }), network: again }, { port: 0 });
  const port2 = await second.start();
  t.teardown(() => second.stop());
  t.is(again.status().ssid, "Home Wi-Fi");
  t.is(again.status().accessPoint, undefined);
  t.deepEqual(again.calls, ["join Home Wi-Fi"]);

  // The long press on the panel forgets the network and opens the access point again.
  await page.goto(`http://127.0.0.1:${port2}/wifi`);
  ((second as any).hal.panel as ConsolePanel).press("reset");
  await until("the access point is back", () => again.status().accessPoint !== undefined);
  t.is(new SafeStorage(storage).read(WIFI_KEY), undefined);
  await page.reload();
  t.is(await page.locator(".wifi-state").innerText(), "Not connected");
  t.false((await page.locator("#wifi-status").innerText()).includes("Remembered"));
});
