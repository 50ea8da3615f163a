import test from "ava";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { call, registerParams, startTestCloud, tokenRequest } from "./helpers/cloud.js";

// The pages a person uses, in a real browser: Debian's chromium driven by playwright-core,
// never a downloaded browser. Set CLOUD_SCREENSHOTS=docs to refresh docs/cloud-*.png.

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

async function launch(): Promise<{ context: BrowserContext; done: () => Promise<void> }> {
  // A fresh profile every time, so no cookie or cache from an earlier run takes part.
  const profile = mkdtempSync(path.join(tmpdir(), "cloud-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 900, height: 700 }, timeout: 30_000 });
  context.setDefaultTimeout(10_000);
  return { context, done: async () => { await context.close(); rmSync(profile, { recursive: true, force: true }); } };
}

test("a person signs in with an email, claims a printer on its claim page, edits its local settings and deletes it", async (t) => {
  if (!existsSync(CHROMIUM)) {
    // CI installs it (.ci/run); a missing browser must fail loudly, never pass by skipping.
    t.fail(`${CHROMIUM} is not installed, so the emulator's pages cannot be tested in a browser. Install it with: apt-get install -y chromium`);
    return;
  }
  const cloud = await startTestCloud();
  const { service } = cloud;
  t.teardown(() => service.close());
  const { context, done } = await launch();
  t.teardown(done);
  const page = context.pages()[0] ?? await context.newPage();
  const shots = process.env.CLOUD_SCREENSHOTS;
  if (shots) mkdirSync(shots, { recursive: true });

  // The device registers; the person follows complete_invite_url (the printer's claim_url).
  const reg = (await call(service, "register", { ...registerParams("Front desk printer"), description: "Ground floor, by the door" }, { encoding: "multipart" })).json;
  const id = reg.printers[0].id;
  await page.goto(reg.complete_invite_url);
  t.regex(page.url(), /\/signin\?continue=/, "signing in comes first");
  await page.fill("input[name=email]", "Ivy@Example.com");
  await Promise.all([page.waitForURL(/claimprinter\.html\?token=/), page.click("button[type=submit]")]);

  const cookies = await context.cookies(service.url);
  const session = cookies.find((c) => c.name === "cloudprint_session");
  t.truthy(session);
  t.true(session!.httpOnly);
  t.is(session!.sameSite, "Lax");

  const card = page.locator("#printer");
  t.is(await card.locator("h2").innerText(), "Front desk printer");
  t.true((await card.innerText()).includes(id), "the claim page shows the printer id");
  t.true((await card.innerText()).includes("ivy@example.com"));
  if (shots) await page.screenshot({ path: path.join(shots, "cloud-claim.png") });

  // Before the claim the device's poll is still refused.
  t.false((await call(service, `${reg.polling_url}web-client`, {}, { encoding: "get" })).json.success);
  await Promise.all([page.waitForURL(/\/cloudprint\/printers\?claimed=/), page.click("#claim")]);
  t.true((await page.locator(".notice").innerText()).includes("Front desk printer is now yours"));

  // The device completes its side and checks in over HTTP, which is no presence: with no XMPP session it is OFFLINE.
  const poll = (await call(service, `${reg.polling_url}web-client`, {}, { encoding: "get" })).json;
  t.is(poll.user_email, "ivy@example.com");
  const tokens = (await tokenRequest(service, { grant_type: "authorization_code", code: poll.authorization_code, client_id: "web-client" })).json;
  t.true((await call(service, "printer", { printerid: id }, { encoding: "get", token: tokens.access_token })).json.success);

  await page.reload();
  const printer = page.locator(`.printer[data-printer-id="${id}"]`);
  t.is(await printer.locator(".connection").innerText(), "OFFLINE");
  t.is(await printer.locator(".state").innerText(), "IDLE");
  t.true((await printer.innerText()).includes(id));

  // Editing local settings writes pending, which the device sees on /printer.
  await printer.locator("input[name='s:printer/local_printing_enabled']").uncheck();
  await printer.locator("input[name='s:xmpp_timeout_value']").fill("500");
  await Promise.all([page.waitForURL(/saved=1/), printer.locator(".settings-form button[type=submit]").click()]);
  t.is(cloud.pushes.at(-1)?.payload, `${id}/update_settings`);
  const seen = (await call(service, "printer", { printerid: id }, { encoding: "get", token: tokens.access_token })).json.printers[0].local_settings;
  t.is(seen.pending["printer/local_printing_enabled"], false);
  t.is(seen.pending.xmpp_timeout_value, 500);
  t.is(seen.current.xmpp_timeout_value, 300);
  t.true((await page.locator(".pending").allInnerTexts()).includes("500"), "the page shows what is pending");
  if (shots) await page.screenshot({ path: path.join(shots, "cloud-printers.png"), fullPage: true });

  // The device applies and confirms; the page then shows it as current, nothing pending.
  await call(service, "update", { printerid: id, local_settings: JSON.stringify({ current: seen.pending }) }, { token: tokens.access_token });
  await page.reload();
  t.is(await page.locator(".pending").count(), 0);
  t.true((await printer.locator("table.settings").innerText()).includes("500"));

  // A form posted without the page's CSRF token is refused, cookie or not.
  // (The pages' CSP forbids scripts, so the forgery comes through the browser context's own requests.)
  const forged = await context.request.post(`${service.url}/cloudprint/printers/delete`, { form: { printerid: id, csrf: "guess" } });
  t.is(forged.status(), 403);
  t.is(await page.locator(".printer").count(), 1);

  await Promise.all([page.waitForURL(/deleted=/), printer.locator("button.danger").click()]);
  t.is(await page.locator(".printer").count(), 0);
  const gone = (await call(service, "printer", { printerid: id }, { encoding: "get", token: tokens.access_token })).json;
  t.false(gone.success, "the device learns of the deletion from /printer");
});

test("the claim page explains an unknown token, and typing a token finds the printer", async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.fail(`${CHROMIUM} is not installed: apt-get install -y chromium`);
    return;
  }
  const { service } = await startTestCloud();
  t.teardown(() => service.close());
  const { context, done } = await launch();
  t.teardown(done);
  const page = context.pages()[0] ?? await context.newPage();
  const reg = (await call(service, "register", registerParams("Typed-token printer"), { encoding: "form" })).json;
  await page.goto(`${service.url}/signin`);
  await page.fill("input[name=email]", "jo@example.com");
  await Promise.all([page.waitForURL(/\/cloudprint\/printers/), page.click("button[type=submit]")]);
  t.true((await page.locator("main").innerText()).includes("No printers yet"));

  const missing = await page.goto(`${service.baseUrl}/claimprinter.html?token=not-a-token`);
  t.is(missing!.status(), 404);
  t.true((await page.locator(".error").innerText()).includes("No printer is waiting for this token"));

  await page.goto(reg.invite_url);
  await page.fill("input[name=token]", reg.registration_token);
  await Promise.all([page.waitForURL(/token=/), page.click("main button.secondary[type=submit]")]);
  t.is(await page.locator("#printer h2").innerText(), "Typed-token printer");
  // Signing out ends the session: the pages ask to sign in again.
  await Promise.all([page.waitForURL(/\/signin/), page.click("header button")]);
  await page.goto(`${service.url}/cloudprint/printers`);
  t.regex(page.url(), /\/signin\?continue=%2Fcloudprint%2Fprinters/);
});
