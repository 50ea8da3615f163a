import { randomBytes } from "node:crypto";
import type { Context, Principal } from "./context.js";
import type { Subject } from "./store.js";

// Four header forms reached the real service (reference 0.2): Bearer, Bearer with the
// token in quotes (gcp20), OAuth (Chrome, bnet) and the legacy GoogleLogin auth=.
export function tokenFromHeader(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*(Bearer|OAuth|GoogleLogin)\s+(.*?)\s*$/i.exec(header);
  if (!match) return undefined;
  let value = match[2];
  if (match[1].toLowerCase() === "googlelogin") {
    const auth = /(?:^|[\s,])auth=("?)([^",\s]*)\1/i.exec(value);
    if (!auth) return undefined;
    value = auth[2];
  } else if (value.length >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
    value = value.slice(1, -1);
  }
  return /^[A-Za-z0-9._~+/=-]{1,512}$/.test(value) ? value : undefined;
}

export type AuthResult = { principal: Principal } | { refusal: string };

export function authenticate(ctx: Context, header: string | undefined): AuthResult | undefined {
  if (header === undefined || header.trim() === "") return undefined;
  const token = tokenFromHeader(header);
  if (!token) return { refusal: "The Authorization header is not Bearer <token>, OAuth <token> or GoogleLogin auth=<token>." };
  const record = Object.hasOwn(ctx.store.state.accessTokens, token) ? ctx.store.state.accessTokens[token] : undefined;
  if (!record) return { refusal: "Invalid credentials: unknown access token." };
  if (record.expiresAt <= ctx.now()) return { refusal: "Invalid credentials: the access token has expired." };
  return { principal: { subject: record.subject, token } };
}

export function newSecret(bytes = 24): string {
  return randomBytes(bytes).toString("base64url");
}

const MAX_ACCESS_TOKENS_PER_SUBJECT = 32;

function sameSubject(a: Subject, b: Subject): boolean {
  switch (a.kind) {
    case "user": return b.kind === "user" && a.email === b.email;
    case "robot": return b.kind === "robot" && a.printerId === b.printerId;
    case "account": return b.kind === "account" && a.jid === b.jid;
  }
}

export function issueAccessToken(ctx: Context, subject: Subject, refreshToken?: string): { token: string; expiresIn: number } {
  const tokens = ctx.store.state.accessTokens;
  // A client that asks again and again must not grow the state without end: keep the newest few per subject.
  const mine = Object.entries(tokens).filter(([, r]) => sameSubject(r.subject, subject)).sort((a, b) => a[1].issuedAt - b[1].issuedAt);
  for (const [old] of mine.slice(0, Math.max(0, mine.length - MAX_ACCESS_TOKENS_PER_SUBJECT + 1))) delete tokens[old];
  const token = `ya29.${newSecret()}`;
  const expiresIn = ctx.options.tokenLifetimeSeconds;
  tokens[token] = { subject, issuedAt: ctx.now(), expiresAt: ctx.now() + expiresIn * 1000, refreshToken };
  return { token, expiresIn };
}

export function issueRefreshToken(ctx: Context, subject: Subject, clientId: string): string {
  const token = `1/${newSecret(30)}`;
  ctx.store.state.refreshTokens[token] = { subject, clientId, issuedAt: ctx.now() };
  return token;
}

// Revoking a refresh token ends the access tokens it minted too (as Google's revoke did).
export function revokeRefreshToken(ctx: Context, token: string): void {
  delete ctx.store.state.refreshTokens[token];
  for (const [access, record] of Object.entries(ctx.store.state.accessTokens)) {
    if (record.refreshToken === token) delete ctx.store.state.accessTokens[access];
  }
}

// A deleted printer's credentials no longer refresh (Privet 6.1: it must learn that they
// no longer work), while an access token it still holds lets it read the deletion on /printer.
export function revokeRobotRefreshTokens(ctx: Context, printerId: string): void {
  for (const [token, record] of Object.entries(ctx.store.state.refreshTokens)) {
    if (record.subject.kind === "robot" && record.subject.printerId === printerId) delete ctx.store.state.refreshTokens[token];
  }
}
