import { EMULATOR_USER_GRANT } from "./oauth.js";

// What a person signed in to the emulator does, as programs: a token for
// them (the emulator's own grant, as a signed-in browser had one), the claim
// of a printer through its automated_claim_url, and /submit with a file as
// Chrome's print dialog sent it. The submit command, the reference client's
// --auto-claim and the bench use these.

export class UserActionError extends Error {}

const PROXY = "cloud-emulator-user";

// A JSON answer from the emulator, or a UserActionError that says why there is none.
export async function json(url: string, init: RequestInit, what: string): Promise<any> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new UserActionError(`cannot reach ${new URL(url).origin}: ${(error as Error).message} (is the emulator running?)`);
  }
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new UserActionError(`${what}: ${url.split("?")[0]} answered HTTP ${response.status} with something that is not JSON`);
  }
}

export async function emulatorUserToken(origin: string, email: string): Promise<string> {
  const token = await json(`${origin}/o/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: EMULATOR_USER_GRANT, email }).toString(),
  }, "the user's token");
  if (typeof token.access_token !== "string") {
    throw new UserActionError(`no user token for ${email}: ${String(token.error_description ?? token.error ?? "")} (is it the emulator?)`);
  }
  return token.access_token;
}

export async function claimAsUser(origin: string, email: string, automatedClaimUrl: string): Promise<void> {
  if (automatedClaimUrl === "") throw new UserActionError("the printer gave no automated_claim_url");
  const token = await emulatorUserToken(origin, email);
  const answer = await json(automatedClaimUrl, { headers: { Authorization: `Bearer ${token}`, "X-CloudPrint-Proxy": PROXY } }, "the claim");
  if (answer.success !== true) throw new UserActionError(`the claim was refused: ${String(answer.message ?? "")}`);
}

export interface Submission { printerId: string; title: string; contentType: string; data: Uint8Array; fileName?: string }

// The new job's id.
export async function submitAsUser(base: string, token: string, doc: Submission): Promise<string> {
  const form = new FormData();
  form.append("printerid", doc.printerId);
  form.append("title", doc.title);
  form.append("contentType", doc.contentType);
  form.append("content", new Blob([doc.data], { type: doc.contentType }), doc.fileName ?? doc.title);
  const submitted = await json(`${base}/submit`, { method: "POST", body: form, headers: { Authorization: `Bearer ${token}`, "X-CloudPrint-Proxy": PROXY } }, "submit");
  if (submitted.success !== true || typeof submitted.job?.id !== "string") throw new UserActionError(`submit refused: ${String(submitted.message ?? "")}`);
  return submitted.job.id;
}
