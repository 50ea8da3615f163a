import type { Context } from "./context.js";

// Users are email addresses and nothing more: this is an emulator, not an identity provider.
export function validEmail(email: string): boolean {
  return email.length <= 254 && /^[^\s@<>"'&]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$/.test(email);
}

export function ensureUser(ctx: Context, email: string): void {
  const users = ctx.store.state.users;
  if (!Object.hasOwn(users, email)) users[email] = { email, createdAt: ctx.now() };
}
