import { createHash, timingSafeEqual } from "node:crypto";
import type { Answer, Context } from "./context.js";
import type { Params } from "./decode.js";
import { issueAccessToken, issueRefreshToken, revokeRefreshToken } from "./auth.js";
import { ensureUser, validEmail } from "./users.js";
import { robotAccountTokens } from "./registration.js";

// The OAuth 2.0 token endpoint (RFC 6749 4.1.3, 6) as Google's answered devices, plus
// one grant of the emulator's own: there are no Google accounts here, so a client gets
// a user's token by naming the user.
export const EMULATOR_USER_GRANT = "urn:cloudprint-emulator:user";

function oauthError(status: number, error: string, description: string, headers?: Record<string, string>): Answer {
  return { status, body: { error, error_description: description }, raw: true, headers };
}

// RFC 6749 5.2: a client that tried HTTP Basic is told, with the scheme, to try again.
const BASIC_CHALLENGE = { "WWW-Authenticate": 'Basic realm="oauth2"' };

// application/x-www-form-urlencoded decoding, which RFC 6749 2.3.1 applies to both halves.
function formDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    return undefined;
  }
}

type Client = { id: string; secret?: string; basic: boolean } | { refusal: Answer };

// The client's credentials from HTTP Basic (RFC 6749 2.3.1, which servers must support) or
// from the body (which Google took, and every device the reference names sends), never both.
function clientOf(params: Params, authorization: string | undefined): Client {
  const basic = /^\s*Basic\s+(\S*)\s*$/i.exec(authorization ?? "");
  if (!basic) return { id: params.get("client_id") ?? "", secret: params.get("client_secret"), basic: false };
  const refuse = (description: string): Client => ({ refusal: oauthError(401, "invalid_client", description, BASIC_CHALLENGE) });
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(basic[1]) || basic[1].length % 4 !== 0) return refuse("the Basic credentials are not base64");
  const decoded = Buffer.from(basic[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const id = colon < 0 ? undefined : formDecode(decoded.slice(0, colon));
  const secret = colon < 0 ? undefined : formDecode(decoded.slice(colon + 1));
  if (id === undefined || secret === undefined || id === "") return refuse("the Basic credentials are not client_id:client_secret, each form-urlencoded");
  if (params.get("client_secret") !== undefined) return { refusal: oauthError(400, "invalid_request", "client credentials in both the Authorization header and the body") };
  const bodyId = params.get("client_id");
  if (bodyId !== undefined && bodyId !== id) return { refusal: oauthError(400, "invalid_request", "client_id in the body is not the one in the Authorization header") };
  return { id, secret, basic: true };
}

// Digests first: timingSafeEqual needs equal lengths, and the length of the secret is no one's business.
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();
  return timingSafeEqual(digest(given), digest(expected));
}

export function tokenEndpoint(ctx: Context, params: Params, authorization?: string): Answer {
  const grant = params.get("grant_type");
  const client = clientOf(params, authorization);
  if ("refusal" in client) return client.refusal;
  const clientId = client.id;
  const state = ctx.store.state;
  if (!grant) return oauthError(400, "invalid_request", "grant_type is missing");
  const expected = Object.hasOwn(ctx.options.oauthClients, clientId) ? ctx.options.oauthClients[clientId] : undefined;
  if (expected !== undefined && (client.secret === undefined || !sameSecret(client.secret, expected))) {
    return oauthError(401, "invalid_client", "the client secret is wrong", client.basic ? BASIC_CHALLENGE : undefined);
  }

  if (grant === EMULATOR_USER_GRANT) {
    const email = (params.get("email") ?? params.get("user") ?? "").trim().toLowerCase();
    if (!validEmail(email)) return oauthError(400, "invalid_request", "email must be an email address");
    ensureUser(ctx, email);
    const subject = { kind: "user" as const, email };
    const refresh = issueRefreshToken(ctx, subject, clientId);
    const access = issueAccessToken(ctx, subject, refresh);
    ctx.commit();
    return { status: 200, raw: true, body: { access_token: access.token, token_type: "Bearer", expires_in: access.expiresIn, refresh_token: refresh } };
  }

  // Google refused a token request without a client (the device's oauth_client_id).
  if (clientId === "") return oauthError(401, "invalid_client", "client_id is missing");

  if (grant === "authorization_code") {
    const code = params.get("code") ?? "";
    const record = Object.hasOwn(state.authCodes, code) ? state.authCodes[code] : undefined;
    if (!record || record.expiresAt <= ctx.now()) return oauthError(400, "invalid_grant", "the authorization code is unknown, used or expired");
    // An authorization code is good once, and only for the client it was issued to.
    delete state.authCodes[code];
    const printer = state.printers[record.printerId];
    if (record.clientId !== "" && record.clientId !== clientId) { ctx.commit(); return oauthError(400, "invalid_grant", "the authorization code was issued to another client"); }
    if (record.account) return robotAccountTokens(ctx, record.account, clientId);
    if (!printer) { ctx.commit(); return oauthError(400, "invalid_grant", "the printer of this code was deleted"); }
    printer.codeExchanged = true;
    const subject = { kind: "robot" as const, printerId: printer.id, jid: printer.xmppJid };
    const refresh = issueRefreshToken(ctx, subject, clientId);
    const access = issueAccessToken(ctx, subject, refresh);
    ctx.commit();
    return { status: 200, raw: true, body: { access_token: access.token, token_type: "Bearer", expires_in: access.expiresIn, refresh_token: refresh } };
  }

  if (grant === "refresh_token") {
    const token = params.get("refresh_token") ?? "";
    const record = Object.hasOwn(state.refreshTokens, token) ? state.refreshTokens[token] : undefined;
    if (!record) return oauthError(400, "invalid_grant", "Token has been expired or revoked.");
    // Whoever learns a device's refresh token must not mint its access tokens under another client's name.
    // A token issued with no client (the emulator's user grant may be asked without one) is bound to none.
    if (record.clientId && record.clientId !== clientId) return oauthError(400, "invalid_grant", "the refresh token was issued to another client");
    const access = issueAccessToken(ctx, record.subject, token);
    ctx.commit();
    // A refresh answer carries no new refresh token (Google's did not).
    return { status: 200, raw: true, body: { access_token: access.token, token_type: "Bearer", expires_in: access.expiresIn } };
  }

  return oauthError(400, "unsupported_grant_type", `grant_type must be authorization_code, refresh_token or ${EMULATOR_USER_GRANT}`);
}

// Google's revoke endpoint: ?token= names a refresh token (ending it and what it minted) or an access token.
export function revokeEndpoint(ctx: Context, params: Params): Answer {
  const token = params.get("token") ?? "";
  const state = ctx.store.state;
  if (Object.hasOwn(state.refreshTokens, token)) revokeRefreshToken(ctx, token);
  else if (Object.hasOwn(state.accessTokens, token)) delete state.accessTokens[token];
  else return oauthError(400, "invalid_token", "the token is unknown or already revoked");
  ctx.commit();
  return { status: 200, raw: true, body: {} };
}
