import { randomBytes, randomUUID } from "node:crypto";
import { issueAccessToken, issueRefreshToken, newSecret } from "./auth.js";
import { ERR, fail, ok, type Answer, type ApiCall, type Context } from "./context.js";
import { applyPrinterFields, FieldError, parseLocalSettings } from "./fields.js";
import type { PrinterRecord } from "./store.js";
import { printerView } from "./views.js";

// Anonymous registration (reference 2): the device registers with no credentials, a user
// claims the registration token, the device polls for an authorization code.

export const OAUTH_SCOPE = "https://www.googleapis.com/auth/cloudprint";
const ROBOT_DOMAIN = "cloudprint.googleusercontent.com";
const PAGE_SIZE = "210000,297000";

export function register(ctx: Context, call: ApiCall): Answer {
  const { params } = call;
  const subject = call.principal?.subject;
  // A printer registers itself anonymously; its own credentials are for being that printer only.
  if (subject?.kind === "robot") return fail(ERR.forbidden, "A printer's own credentials cannot register printers.");
  const user = subject;
  if ((params.get("name") ?? params.get("printer")) === undefined) return fail(ERR.badRequest, "Missing parameter: name.");
  if (params.get("proxy") === undefined) return fail(ERR.badRequest, "Missing parameter: proxy.");

  // Anonymous registration needs no credentials, so only a cap keeps a loop of them from filling the state.
  const waiting = Object.values(ctx.store.state.printers).filter((p) => p.ownerId === undefined && (p.registrationExpiresAt ?? 0) > ctx.now()).length;
  const cap = ctx.options.maxUnclaimedRegistrations;
  if (!user && waiting >= cap) return fail(ERR.tooMany, `${cap} registrations are already waiting for a claim; try again once some expire.`);

  const now = ctx.now();
  const id = randomUUID();
  const printer: PrinterRecord = {
    id, name: "", defaultDisplayName: "", displayName: "", description: "", uuid: "", manufacturer: "", model: "",
    gcpVersion: "", setupUrl: "", supportUrl: "", updateUrl: "", firmware: "", proxy: "", status: "", capsHash: "",
    capabilities: {}, tags: [], semanticState: { version: "1.0", printer: { state: "IDLE" } }, notificationChannel: "XMPP_CHANNEL",
    localSettings: { current: { local_discovery: true } },
    xmppJid: `${randomBytes(16).toString("hex")}@${ROBOT_DOMAIN}`,
    codeExchanged: false, createTime: now, updateTime: now, accessTime: now,
  };
  try {
    applyPrinterFields(printer, params);
    const settings = params.get("local_settings");
    if (settings !== undefined) {
      const parsed = parseLocalSettings(settings);
      if (parsed.pending && Object.keys(parsed.pending).length > 0) return fail(ERR.badRequest, "A device never sends pending local settings (Privet 4.1.3.1).");
      if (parsed.current) printer.localSettings = { current: parsed.current };
    }
  } catch (error) {
    if (error instanceof FieldError) return fail(ERR.badRequest, error.message);
    throw error;
  }

  const state = ctx.store.state;
  if (user) {
    // A signed-in connector registering one more printer: it is the user's at once. A robot
    // account's printers are its owner's and carry its JID, so its one XMPP session serves them.
    printer.ownerId = user.kind === "account" ? user.owner : user.email;
    if (user.kind === "account") printer.xmppJid = user.jid;
    // There is no device to hand an authorization code to: the anonymous path stays closed.
    printer.codeExchanged = true;
    state.printers[id] = printer;
    ctx.commit();
    return ok({ printers: [printerView(ctx, printer)] }, "Printer registered successfully.");
  }

  const token = newSecret(18);
  const lifetime = ctx.options.registrationLifetimeSeconds;
  printer.registrationToken = token;
  printer.registrationExpiresAt = now + lifetime * 1000;
  state.printers[id] = printer;
  ctx.commit();
  const base = ctx.base();
  const t = encodeURIComponent(token);
  return ok({
    printers: [printerView(ctx, printer)],
    registration_token: token,
    token_duration: String(lifetime),
    invite_url: `${base}/claimprinter.html`,
    complete_invite_url: `${base}/claimprinter.html?token=${t}`,
    automated_invite_url: `${base}/confirm?token=${t}`,
    invite_page_url: `${base}/regtokenpage?t=${t}&dpi=300&pagesize=${PAGE_SIZE}`,
    oauth_scope: OAUTH_SCOPE,
    polling_url: `${base}/getauthcode?printerid=${encodeURIComponent(id)}&oauth_client_id=`,
  }, "Printer registered successfully.");
}

export function findUnclaimed(ctx: Context, token: string): PrinterRecord | undefined {
  if (token === "") return undefined;
  return Object.values(ctx.store.state.printers).find((p) => p.registrationToken === token);
}

export type ClaimResult = { printer: PrinterRecord } | { refusal: Answer };

// The one place a registration token becomes an owner: /confirm and the claim page both come here.
export function claim(ctx: Context, token: string, email: string): ClaimResult {
  const printer = findUnclaimed(ctx, token);
  if (!printer) return { refusal: fail(ERR.notFound, "Unknown registration token (it may have been claimed already).") };
  if ((printer.registrationExpiresAt ?? 0) <= ctx.now()) return { refusal: fail(ERR.expired, "The registration token has expired.") };
  printer.ownerId = email;
  delete printer.registrationToken;
  delete printer.registrationExpiresAt;
  printer.updateTime = ctx.now();
  ctx.commit();
  return { printer };
}

export function confirm(ctx: Context, call: ApiCall): Answer {
  const subject = call.principal!.subject;
  if (subject.kind !== "user") return fail(ERR.forbidden, "User is not authorized.");
  const user = call.params.get("user");
  // [L] names the user too; a different user than the token's owner is a client bug worth refusing.
  if (user !== undefined && user.trim().toLowerCase() !== subject.email) return fail(ERR.forbidden, "User is not authorized.");
  const result = claim(ctx, call.params.get("token") ?? "", subject.email);
  if ("refusal" in result) return result.refusal;
  return ok({ printers: [printerView(ctx, result.printer)] }, "Printer claimed successfully.");
}

export function getAuthCode(ctx: Context, call: ApiCall): Answer {
  const id = call.params.get("printerid") ?? "";
  const clientId = call.params.get("oauth_client_id") ?? "";
  const printer = Object.hasOwn(ctx.store.state.printers, id) ? ctx.store.state.printers[id] : undefined;
  if (!printer) return fail(ERR.notFound, "Unknown printer.");
  if (printer.ownerId === undefined) {
    if ((printer.registrationExpiresAt ?? 0) <= ctx.now()) return fail(ERR.expired, "The registration token has expired.");
    return fail(ERR.notClaimed, "The printer has not been claimed yet.");
  }
  // Once the device holds its robot's tokens, the anonymous path is closed for good.
  if (printer.codeExchanged) return fail(ERR.conflict, "The printer's authorization code was already exchanged.");
  const codes = ctx.store.state.authCodes;
  for (const [code, record] of Object.entries(codes)) if (record.printerId === id) delete codes[code];
  const code = `4/${newSecret(24)}`;
  codes[code] = { printerId: id, clientId, expiresAt: ctx.now() + ctx.options.authCodeLifetimeSeconds * 1000 };
  ctx.commit();
  const base = ctx.base();
  return ok({
    authorization_code: code,
    xmpp_jid: printer.xmppJid,
    user_email: printer.ownerId,
    confirmation_page_url: `${base}/regconfirmpage?printername=${encodeURIComponent(printer.name)}&email=${encodeURIComponent(printer.ownerId)}&dpi=300&pagesize=${PAGE_SIZE}`,
  }, "Printer claimed; here is its authorization code.");
}

const MAX_ROBOT_CODES_PER_USER = 16;

// /createrobot (reference 1.1, [C] GetUrlForGetAuthCode, [G] init.go): a connector signed in as
// a user gets a robot account of its own. The code is exchanged at the token endpoint like a
// printer's, with the same client id, for the account's tokens.
export function createRobot(ctx: Context, call: ApiCall): Answer {
  const subject = call.principal!.subject;
  if (subject.kind !== "user") return fail(ERR.forbidden, "Only a user creates robot accounts.");
  if (call.params.get("proxy") === undefined) return fail(ERR.badRequest, "Missing parameter: proxy.");
  const clientId = call.params.get("oauth_client_id") ?? "";
  const codes = ctx.store.state.authCodes;
  // Codes nobody exchanged would otherwise pile up for as long as they live.
  const waiting = Object.entries(codes).filter(([, r]) => r.account?.owner === subject.email);
  for (const [old] of waiting.slice(0, Math.max(0, waiting.length - MAX_ROBOT_CODES_PER_USER + 1))) delete codes[old];
  const jid = `${randomBytes(16).toString("hex")}@${ROBOT_DOMAIN}`;
  const code = `4/${newSecret(24)}`;
  codes[code] = { printerId: "", clientId, expiresAt: ctx.now() + ctx.options.authCodeLifetimeSeconds * 1000, account: { jid, owner: subject.email } };
  ctx.commit();
  return ok({ xmpp_jid: jid, authorization_code: code, user_email: subject.email }, "Robot account created.");
}

// The token endpoint's half of createrobot: a code that carries an account mints its tokens.
export function robotAccountTokens(ctx: Context, account: { jid: string; owner: string }, clientId: string): Answer {
  const subject = { kind: "account" as const, jid: account.jid, owner: account.owner };
  const refresh = issueRefreshToken(ctx, subject, clientId);
  const access = issueAccessToken(ctx, subject, refresh);
  ctx.commit();
  return { status: 200, raw: true, body: { access_token: access.token, token_type: "Bearer", expires_in: access.expiresIn, refresh_token: refresh } };
}
