import type { Clock, TimerId } from "../hal/clock.js";
import type { Panel } from "../hal/panel.js";
import type { AuthCode, CloudApi, CloudFailure, OAuthTokens, Registration } from "./api.js";

// The device's side of /privet/register (Privet 4.3, 6.1; the sequence of
// cloud-print-service.md 2.1): start waits for a person to press OK on the
// printer, and only then does the printer call /register; getClaimToken
// hands the client the claim URLs; complete polls for the authorization
// code, exchanges it and hands the credentials over. One registration at a
// time: another user, or any action while a cloud call of complete is in
// flight, gets device_busy.

// A Privet answer: the action's document, or an error (Privet 4.6).
export type RegisterAnswer = Record<string, unknown>;

export interface RegistrationOptions {
  // Privet 6.1: the physical action must come within 60 s.
  confirmTimeoutMs: number;
  // cloud-print-service.md 2.2: poll the polling URL no more often than every 5 s.
  pollIntervalMs: number;
}

export const DEFAULT_REGISTRATION_OPTIONS: RegistrationOptions = { confirmTimeoutMs: 60_000, pollIntervalMs: 5_000 };

export interface RegistrationResult {
  registration: Registration;
  code: AuthCode;
  tokens: OAuthTokens;
  user: string;
}

export interface RegistrationDeps {
  clock: Clock;
  api: CloudApi;
  panel: Panel | undefined;
  // The /register fields that describe the device (name, uuid, CDD, local settings...).
  describe(): Array<[string, string]>;
  // Whether the wall clock has been set (SNTP on the board): tokens and
  // certificates mean nothing before it is (Privet 4.3.3 device_config_error).
  wallClockSet(): boolean;
  // The registration is done: store the credentials before complete answers.
  completed(result: RegistrationResult): void;
}

type Phase = "confirming" | "registering" | "claimable" | "completing" | "cancelled" | "timedout" | "failed";

interface Session {
  user: string;
  phase: Phase;
  timer?: TimerId;
  registration?: Registration;
  // Monotonic time after which the registration token is worthless.
  claimDeadline: number;
  // What getClaimToken reports for a failed session.
  error?: RegisterAnswer;
}

export const BUSY_TIMEOUT_S = 30;
// Chrome's client retries getClaimToken after this (the gcp20 prototype's kPendingUserActionTimeout).
const PENDING_TIMEOUT_S = 5;
const MAX_USER_LENGTH = 320;
// 2021-01-01: a clock before this has never been set.
const EARLIEST_PLAUSIBLE_WALL_MS = 1_609_459_200_000;

export function wallClockPlausible(clock: Clock): boolean {
  return clock.wall() >= EARLIEST_PLAUSIBLE_WALL_MS;
}

export function registerError(error: string, description?: string, timeout?: number): RegisterAnswer {
  const answer: RegisterAnswer = { error };
  if (description !== undefined) answer.description = description;
  if (timeout !== undefined) answer.timeout = timeout;
  return answer;
}

// offline when the service could not be reached, server_error otherwise,
// with what Privet 4.6 lets a device say about the server's answer.
export function failureError(failure: CloudFailure): RegisterAnswer {
  if (failure.kind === "offline") return registerError("offline", `the Cloud Print service cannot be reached (${failure.message})`);
  const answer = registerError("server_error", failure.message);
  answer.server_api = failure.api;
  if (failure.code !== undefined) answer.server_code = failure.code;
  if (failure.httpStatus !== undefined && failure.httpStatus !== 200) answer.server_http_code = failure.httpStatus;
  return answer;
}

export class RegistrationMachine {
  private session: Session | undefined;
  // Bumped whenever the session is dropped, so an answer from the cloud
  // that arrives afterwards is ignored rather than applied to a new one.
  private generation = 0;
  readonly options: RegistrationOptions;

  constructor(private readonly deps: RegistrationDeps, options: Partial<RegistrationOptions> = {}) {
    this.options = { ...DEFAULT_REGISTRATION_OPTIONS, ...options };
  }

  // For status lines and tests: where the current registration is.
  get phase(): Phase | "idle" {
    return this.session?.phase ?? "idle";
  }

  get user(): string | undefined {
    return this.session?.user;
  }

  async handle(action: string | undefined, user: string | undefined): Promise<RegisterAnswer> {
    if (action !== "start" && action !== "getClaimToken" && action !== "complete" && action !== "cancel") {
      return registerError("invalid_params", action === undefined ? "action is missing" : `unknown action "${action.slice(0, 40)}"`);
    }
    const email = (user ?? "").trim();
    if (email === "" || email.length > MAX_USER_LENGTH) return registerError("invalid_params", "user must be the email address of the user who claims the printer");
    const session = this.session;
    // Nothing may interleave with complete's cloud calls (Privet 4.3).
    if (session?.phase === "completing") return registerError("device_busy", "a registration is being completed", BUSY_TIMEOUT_S);
    switch (action) {
      case "start": return this.start(email);
      case "getClaimToken": return this.getClaimToken(email);
      case "complete": return this.complete(email);
      case "cancel": return this.cancel(email);
    }
  }

  // The OK button.
  confirm(): boolean {
    const session = this.session;
    if (!session || session.phase !== "confirming") return false;
    this.clearTimer(session);
    session.phase = "registering";
    this.indicate("on", `Registering with the Cloud Print service for ${session.user}...`);
    void this.registerWithService(session, this.generation);
    return true;
  }

  // The Cancel button: the person at the printer refuses (Privet 6.1, user_cancel).
  reject(): boolean {
    const session = this.session;
    if (!session || (session.phase !== "confirming" && session.phase !== "registering" && session.phase !== "claimable")) return false;
    this.end(session, "cancelled", registerError("user_cancel", "the registration was cancelled on the printer"));
    return true;
  }

  // Forget everything (factory reset, deletion, shutdown).
  reset(): void {
    if (this.session) this.clearTimer(this.session);
    this.session = undefined;
    this.generation++;
    this.indicate("off", undefined);
  }

  private start(user: string): RegisterAnswer {
    if (!this.deps.wallClockSet()) return registerError("device_config_error", "the printer is still setting its clock from the network (SNTP); retry in a moment");
    if (!this.deps.panel) return registerError("device_config_error", "this printer has no button to confirm a registration with");
    const session = this.session;
    const active = session && (session.phase === "confirming" || session.phase === "registering" || session.phase === "claimable");
    if (active && session.user !== user) return registerError("device_busy", "another user is registering this printer", BUSY_TIMEOUT_S);
    // The same user starting again drops what there was (Privet 4.3).
    this.reset();
    const fresh: Session = { user, phase: "confirming", claimDeadline: 0 };
    this.session = fresh;
    const generation = this.generation;
    fresh.timer = this.deps.clock.setTimer(() => {
      fresh.timer = undefined;
      if (this.generation === generation && fresh.phase === "confirming") {
        this.end(fresh, "timedout", registerError("confirmation_timeout", `nobody pressed OK on the printer within ${Math.round(this.options.confirmTimeoutMs / 1000)} s`));
      }
    }, this.options.confirmTimeoutMs);
    this.indicate("blink", `Register this printer for ${user}? Press OK to continue or Cancel to refuse.`);
    return { action: "start", user };
  }

  private getClaimToken(user: string): RegisterAnswer {
    const session = this.session;
    if (!session) return registerError("invalid_action", "call action=start first");
    if (session.user !== user) return registerError("invalid_params", "user differs from the one who started the registration");
    switch (session.phase) {
      case "confirming": return registerError("pending_user_action", "waiting for OK to be pressed on the printer", PENDING_TIMEOUT_S);
      case "registering": return registerError("pending_user_action", "registering with the Cloud Print service", PENDING_TIMEOUT_S);
      case "claimable": {
        if (this.deps.clock.monotonic() >= session.claimDeadline) {
          this.end(session, "failed", registerError("confirmation_timeout", "the registration token expired before the printer was claimed"));
          return session.error!;
        }
        const registration = session.registration!;
        return { action: "getClaimToken", user, token: registration.token, claim_url: registration.claimUrl, automated_claim_url: registration.automatedClaimUrl };
      }
      default: return session.error ?? registerError("invalid_action", "there is no registration in progress");
    }
  }

  private async complete(user: string): Promise<RegisterAnswer> {
    const session = this.session;
    if (!session) return registerError("invalid_action", "call action=start and action=getClaimToken first");
    if (session.user !== user) return registerError("invalid_params", "user differs from the one who started the registration");
    if (session.phase !== "claimable") {
      return session.error && session.phase !== "confirming" && session.phase !== "registering"
        ? session.error : registerError("invalid_action", "the claim token is not ready: call action=getClaimToken until it is");
    }
    const registration = session.registration!;
    const generation = this.generation;
    session.phase = "completing";
    const { clock, api } = this.deps;
    let code: AuthCode | undefined;
    for (;;) {
      const polled = await api.pollAuthCode(registration.pollingUrl);
      if (this.generation !== generation) return registerError("invalid_action", "the registration was cancelled");
      if (!polled.ok) {
        // The claim may still go through: the client may call complete again.
        session.phase = "claimable";
        return failureError(polled.failure);
      }
      code = polled.value;
      if (code) break;
      if (clock.monotonic() + this.options.pollIntervalMs >= session.claimDeadline) {
        this.end(session, "failed", registerError("confirmation_timeout", "the printer was not claimed before its registration token expired"));
        return session.error!;
      }
      await sleep(clock, this.options.pollIntervalMs);
      if (this.generation !== generation) return registerError("invalid_action", "the registration was cancelled");
    }
    const tokens = await api.exchangeCode(code.code);
    if (this.generation !== generation) return registerError("invalid_action", "the registration was cancelled");
    if (!tokens.ok) {
      // The code is spent or refused: this registration cannot finish.
      this.end(session, "failed", failureError(tokens.failure));
      return session.error!;
    }
    this.deps.completed({ registration, code, tokens: tokens.value, user });
    this.session = undefined;
    this.generation++;
    this.indicate("off", undefined);
    return { action: "complete", user, device_id: registration.printerId };
  }

  private cancel(user: string): RegisterAnswer {
    const session = this.session;
    if (!session) return registerError("invalid_action", "there is no registration to cancel");
    if (session.user !== user) return registerError("invalid_params", "user differs from the one who started the registration");
    this.reset();
    return { action: "cancel", user };
  }

  private async registerWithService(session: Session, generation: number): Promise<void> {
    const answer = await this.deps.api.register(this.deps.describe());
    if (this.generation !== generation || session.phase !== "registering") return;
    if (!answer.ok) {
      this.end(session, "failed", failureError(answer.failure));
      return;
    }
    session.registration = answer.value;
    session.claimDeadline = this.deps.clock.monotonic() + answer.value.tokenDuration * 1000;
    session.phase = "claimable";
    this.indicate("on", `Waiting for ${session.user} to claim the printer.`);
  }

  private end(session: Session, phase: Phase, error: RegisterAnswer): void {
    this.clearTimer(session);
    session.phase = phase;
    session.error = error;
    this.indicate("off", undefined);
  }

  private clearTimer(session: Session): void {
    if (session.timer !== undefined) this.deps.clock.clearTimer(session.timer);
    session.timer = undefined;
  }

  private indicate(mode: "off" | "on" | "blink", message: string | undefined): void {
    this.deps.panel?.indicator(mode);
    this.deps.panel?.message(message);
  }
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => { clock.setTimer(resolve, ms); });
}
