import type { Answer, Context } from "./context.js";
import type { Params } from "./decode.js";
import { issueAccessToken, issueRefreshToken, revokeRefreshToken } from "./auth.js";
import { ensureUser, validEmail } from "./users.js";
import { robotAccountTokens } from "./registration.js";

// The OAuth 2.0 token endpoint (RFC 6749 4.1.3, 6) as Google's answered devices, plus
// one grant of the emulator's own: there are no Google accounts here, so a client gets
// a user's token by naming the user.
export const EMULATOR_USER_GRANT = "urn:cloudprint-emulator:user";

function oauthError(status: number, error: string, description: string): Answer {
  return { status, body: { error, error_description: description }, raw: true };
}

export function tokenEndpoint(ctx: Context, params: Params): Answer {
  const grant = params.get("grant_type");
  const clientId = params.get("client_id") ?? "";
  const state = ctx.store.state;
  if (!grant) return oauthError(400, "invalid_request", "grant_type is missing");

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
