import type { WebHost } from "./host.js";
import { lookup } from "./html.js";

// Registration started from the page: the page plays the Privet client's
// part (start, getClaimToken, complete) while the person presses OK on the
// printer and claims it at the service. Each page view moves it on: once the
// claim token is ready the page shows the claim link, and completion runs in
// the background, polling until the claim is made or the token runs out.

export interface WebRegistrationView {
  user: string | undefined;
  claimUrl: string | undefined;
  error: string | undefined;
  completing: boolean;
}

const MAX_EMAIL_LENGTH = 254;

export class WebRegistration {
  private user: string | undefined;
  private claimUrl: string | undefined;
  private error: string | undefined;
  private completing = false;
  private asking = false;

  constructor(private readonly host: WebHost) {}

  private call(action: string, user: string): Promise<Record<string, unknown>> {
    return this.host.register(action, user);
  }

  view(): WebRegistrationView {
    return { user: this.user, claimUrl: this.claimUrl, error: this.error, completing: this.completing };
  }

  // Returns the refusal in words, or undefined once the printer is waiting for OK.
  async start(email: string): Promise<string | undefined> {
    const user = email.trim();
    if (!/^[^\s@<>"]+@[^\s@<>"]+$/.test(user) || user.length > MAX_EMAIL_LENGTH) return "Type the email address of the account that will own the printer.";
    this.claimUrl = undefined;
    this.error = undefined;
    const answer = await this.call("start", user);
    if (answer.error !== undefined) return words(answer);
    this.user = user;
    return undefined;
  }

  async cancel(): Promise<void> {
    const user = this.user;
    this.user = undefined;
    this.claimUrl = undefined;
    if (user !== undefined && !this.completing) await this.call("cancel", user);
  }

  // Called before a page is drawn.
  async advance(): Promise<void> {
    const user = this.user;
    if (user === undefined || this.completing || this.asking || this.claimUrl !== undefined) return;
    const phase = this.host.registration().phase;
    if (phase === "idle") {
      // Registered, or dropped elsewhere (a factory reset, another client's cancel).
      this.user = undefined;
      return;
    }
    if (phase !== "claimable" && phase !== "cancelled" && phase !== "timedout" && phase !== "failed") return;
    this.asking = true;
    let answer: Record<string, unknown>;
    try {
      answer = await this.call("getClaimToken", user);
    } finally {
      this.asking = false;
    }
    if (answer.error === "pending_user_action") return;
    if (answer.error !== undefined || typeof answer.claim_url !== "string") {
      this.error = words(answer);
      this.user = undefined;
      return;
    }
    this.claimUrl = answer.claim_url;
    this.complete(user);
  }

  private complete(user: string): void {
    this.completing = true;
    this.call("complete", user).then((answer) => {
      this.completing = false;
      if (this.user !== user) return;
      this.user = undefined;
      this.claimUrl = undefined;
      if (answer.error !== undefined) this.error = words(answer);
    }, (error: unknown) => {
      this.completing = false;
      this.error = `The registration failed inside the printer: ${String(error)}`;
    });
  }
}

const WORDS: Record<string, string> = {
  device_busy: "Someone else is registering this printer right now.",
  user_cancel: "The registration was cancelled on the printer.",
  confirmation_timeout: "Nobody confirmed on the printer in time.",
  offline: "The Cloud Print service cannot be reached.",
  device_config_error: "The printer cannot register yet.",
};

function words(answer: Record<string, unknown>): string {
  const code = String(answer.error);
  const description = typeof answer.description === "string" ? answer.description : "";
  const lead = lookup(WORDS, code) ?? `The registration failed (${code}).`;
  return description ? `${lead} ${description.charAt(0).toUpperCase()}${description.slice(1)}.` : lead;
}
