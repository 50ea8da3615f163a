import type { Clock } from "../hal/clock.js";
import type { CloudApi, CloudResult } from "./api.js";

// The robot's access token, kept in memory only and refreshed before it
// expires: a refresh starts once less than a fifth of its life (at most five
// minutes, as Chrome did) is left, so a call never goes out with a token
// about to lapse. Concurrent callers share one refresh.

const MAX_MARGIN_MS = 5 * 60_000;

export class AccessTokens {
  private token: string | undefined;
  private expiresAt = 0;
  private refreshAt = 0;
  private inFlight: Promise<CloudResult<string>> | undefined;

  constructor(private readonly api: CloudApi, private readonly clock: Clock, private readonly refreshToken: string) {}

  // A fresh token from the exchange of the authorization code.
  seed(accessToken: string, expiresInS: number): void {
    this.set(accessToken, expiresInS);
  }

  get(): Promise<CloudResult<string>> {
    if (this.token !== undefined && this.clock.monotonic() < this.refreshAt) return Promise.resolve({ ok: true, value: this.token });
    if (!this.inFlight) {
      this.inFlight = this.refresh().then((result) => {
        this.inFlight = undefined;
        return result;
      });
    }
    return this.inFlight;
  }

  // The service refused the token (HTTP 403): the next get() refreshes.
  invalidate(): void {
    this.token = undefined;
  }

  // Seconds until the token in hand expires (0 without one); for status lines and tests.
  get secondsLeft(): number {
    return this.token === undefined ? 0 : Math.max(0, Math.floor((this.expiresAt - this.clock.monotonic()) / 1000));
  }

  private async refresh(): Promise<CloudResult<string>> {
    const answer = await this.api.refresh(this.refreshToken);
    if (!answer.ok) return answer;
    this.set(answer.value.accessToken, answer.value.expiresIn);
    return { ok: true, value: answer.value.accessToken };
  }

  private set(token: string, expiresInS: number): void {
    const now = this.clock.monotonic();
    const lifeMs = expiresInS * 1000;
    this.token = token;
    this.expiresAt = now + lifeMs;
    this.refreshAt = now + lifeMs - Math.min(MAX_MARGIN_MS, lifeMs / 5);
  }
}
