import type { AuthCode, CloudApi, CloudResult, OAuthTokens, PrinterState, Registration } from "../../modules/cloud/api.js";
import type { Json } from "../../modules/cloud/values.js";
import type { FakeClock } from "./fake-clock.js";

// A CloudApi stand-in whose answers a test scripts, and which records when
// (on the fake clock) each call came: for the timing rules, with no sockets.
export class FakeCloudApi {
  onReachable: (reachable: boolean) => void = () => {};
  readonly calls: Array<{ api: string; at: number }> = [];
  registration: Registration = {
    printerId: "p-1", token: "tok", tokenDuration: 900, claimUrl: "https://svc/claim?t=tok", automatedClaimUrl: "https://svc/confirm?token=tok", pollingUrl: "https://svc/getauthcode?printerid=p-1&oauth_client_id=",
  };
  // How many polls answer "not claimed yet" before the code comes.
  pollsBeforeClaim = 0;
  expiresIn = 3600;
  printerAnswer: CloudResult<PrinterState | undefined> = { ok: true, value: { current: {} } };
  refreshAnswer: CloudResult<OAuthTokens> | undefined;
  url = "https://svc/cloudprint";

  constructor(private readonly clock: FakeClock) {}

  private record(api: string): void {
    this.calls.push({ api, at: this.clock.now });
  }

  at(api: string): number[] {
    return this.calls.filter((c) => c.api === api).map((c) => c.at);
  }

  asApi(): CloudApi {
    return this as unknown as CloudApi;
  }

  register(): Promise<CloudResult<Registration>> {
    this.record("register");
    return Promise.resolve({ ok: true, value: this.registration });
  }

  pollAuthCode(): Promise<CloudResult<AuthCode | undefined>> {
    this.record("getauthcode");
    if (this.pollsBeforeClaim > 0) {
      this.pollsBeforeClaim--;
      return Promise.resolve({ ok: true, value: undefined });
    }
    return Promise.resolve({ ok: true, value: { code: "4/code", xmppJid: "robot@cloudprint.googleusercontent.com", userEmail: "alice@example.com" } });
  }

  exchangeCode(): Promise<CloudResult<OAuthTokens>> {
    this.record("token:code");
    return Promise.resolve({ ok: true, value: { accessToken: "access-1", refreshToken: "refresh-1", expiresIn: this.expiresIn } });
  }

  refresh(): Promise<CloudResult<OAuthTokens>> {
    this.record("token:refresh");
    return Promise.resolve(this.refreshAnswer ?? { ok: true, value: { accessToken: `access-${this.calls.length}`, expiresIn: this.expiresIn } });
  }

  printer(): Promise<CloudResult<PrinterState | undefined>> {
    this.record("printer");
    return Promise.resolve(this.printerAnswer);
  }

  update(_id: string, _token: string, fields: Array<[string, string]>): Promise<CloudResult<Json>> {
    this.record(`update ${fields.map(([k, v]) => `${k}=${v}`).join("&")}`);
    return Promise.resolve({ ok: true, value: { success: true } });
  }

  submitLocal(): Promise<CloudResult<{ jobId: string }>> {
    this.record("submit");
    return Promise.resolve({ ok: true, value: { jobId: "local-1" } });
  }

  proximityToken(_id: string, user: string): Promise<CloudResult<Json>> {
    this.record("proximitytoken");
    return Promise.resolve({ ok: true, value: { user, token: "prox", expires_in: 600, extra: "kept" } });
  }

  probe(): Promise<boolean> {
    this.record("probe");
    return Promise.resolve(true);
  }
}

// Lets promise chains run between clock moves.
export async function settle(turns = 50): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}
