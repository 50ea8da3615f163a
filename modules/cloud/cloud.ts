import { JOURNAL_KEYS } from "../device/keys.js";
import type { Clock, TimerId } from "../hal/clock.js";
import type { Log } from "../hal/log.js";
import type { Panel } from "../hal/panel.js";
import type { Random } from "../hal/random.js";
import type { Storage } from "../hal/storage.js";
import type { CloudApi, CloudFailure, CloudResult } from "./api.js";
import { CredentialStore, type Credentials } from "./credentials.js";
import { DEFAULT_LOCAL_SETTINGS, localSettingsParam, mergeLocalSettings, sameLocalSettings, type LocalSettings } from "./local-settings.js";
import { failureError, registerError, RegistrationMachine, wallClockPlausible, type RegisterAnswer, type RegistrationOptions, type RegistrationResult } from "./registration.js";
import { AccessTokens } from "./tokens.js";
import type { Channel, ChannelFactory, ChannelPushKind, ChannelState } from "./channel.js";
import { sha1 } from "../crypto/sha1.js";
import { utf8Encode } from "../text/utf8.js";
import { CloudJobs, type CloudJobsOptions, type CloudPrintPath } from "./jobs.js";
import { CloudReports, type ReportsOptions } from "./reports.js";

// The printer's tie to the Cloud Print service: registered or not, the
// credentials, the access token, local settings kept in step with the
// service (Privet 4.1), deletion and bad credentials (4.1.5, 6.1), and the
// proximity tokens of /privet/accesstoken (4.4). It knows nothing of the
// local API: the Printer hands it a CloudHost and wires its answers to the
// Privet routes.

export type CloudConnectionState = "online" | "offline" | "connecting";

export interface CloudHost {
  // The /register fields that describe the device, besides proxy and local_settings.
  describe(): Array<[string, string]>;
  // The local settings in effect (kept by the host across restarts).
  localSettings(): LocalSettings;
  applyLocalSettings(settings: LocalSettings): void;
  // The device id changed: registered (the cloud's id) or back to out of the box ("").
  idChanged(printerId: string): void;
  connectionChanged(state: CloudConnectionState): void;
  // The printer's semantic_state (CDS: {version, printer:{state, ...}});
  // without it the service is not told of state changes.
  semanticState?(): unknown;
  // What a person may change on the printer that the service shows: name,
  // description (as /update fields); local_settings is added here.
  reportFields?(): Array<[string, string]>;
}

export interface CloudOptions extends RegistrationOptions {
  // Privet 6.1: a registered device checks /printer no more than once a day,
  // randomized over 24-32 h.
  syncMinMs: number;
  syncMaxMs: number;
  // While the service cannot be reached (or failed), retry this often.
  retryMs: number;
  // Without a channel online, /fetch this often, so jobs still arrive
  // (Chrome's connector polled every 5-8 min while XMPP was down).
  jobsPollMs: number;
  jobs?: Partial<CloudJobsOptions>;
  reports?: Partial<ReportsOptions>;
}

export const DEFAULT_CLOUD_OPTIONS: CloudOptions = {
  confirmTimeoutMs: 60_000,
  pollIntervalMs: 5_000,
  syncMinMs: 24 * 3600_000,
  syncMaxMs: 32 * 3600_000,
  retryMs: 5 * 60_000,
  jobsPollMs: 6 * 60_000,
};

export interface CloudDeps {
  api: CloudApi;
  clock: Clock;
  random: Random;
  storage: Storage;
  log: Log;
  panel: Panel | undefined;
  host: CloudHost;
  // Builds the notification channel (XMPP) once registered; absent, the
  // printer learns of jobs and settings only at its /printer checks.
  channel?: ChannelFactory;
  // Where cloud jobs print; absent, the printer fetches no jobs.
  print?: CloudPrintPath;
  // Whether wall time can be trusted yet (SNTP has answered); a plausible
  // wall clock when absent.
  clockSet?: () => boolean;
}

// The hash of the CDD last uploaded (seed 001: compare, upload what changed).
// Short: NVS keys hold at most 15 characters with the journal's suffix.
const CAPS_HASH_KEY = JOURNAL_KEYS.cddHash;

// SHA-1 of the CDD text, lower-case hex, sent as capsHash.
export function capsHash(cdd: string): string {
  const digest = sha1(utf8Encode(cdd));
  let hex = "";
  for (let i = 0; i < digest.length; i++) hex += (digest[i] < 16 ? "0" : "") + digest[i].toString(16);
  return hex;
}

export class Cloud {
  readonly registration: RegistrationMachine;
  readonly options: CloudOptions;
  private readonly store: CredentialStore;
  private credentials: Credentials | undefined;
  private tokens: AccessTokens | undefined;
  private syncTimer: TimerId | undefined;
  private syncing: Promise<void> | undefined;
  private state: CloudConnectionState = "connecting";
  private stopped = false;
  private syncAgain = false;
  private channel: Channel | undefined;
  // Bumped whenever the channel is torn down, so a start still waiting for
  // its access token knows it is no longer wanted.
  private channelGeneration = 0;
  private pollTimer: TimerId | undefined;
  readonly jobs: CloudJobs | undefined;
  readonly reports: CloudReports;
  // When the next /printer check is due (monotonic ms), for status and tests.
  nextSyncAt = 0;

  constructor(private readonly deps: CloudDeps, options: Partial<CloudOptions> = {}) {
    this.options = { ...DEFAULT_CLOUD_OPTIONS, ...options };
    this.store = new CredentialStore(deps.storage);
    this.jobs = deps.print && new CloudJobs({
      api: deps.api, clock: deps.clock, log: deps.log, print: deps.print, storage: deps.storage,
      printerId: () => this.printerId,
      authorized: (call) => this.authorized(call),
    }, this.options.jobs);
    const semanticState = deps.host.semanticState;
    this.reports = new CloudReports({
      api: deps.api, clock: deps.clock, log: deps.log,
      printerId: () => this.printerId,
      authorized: (call) => this.authorized(call),
      semanticState: semanticState && (() => semanticState.call(deps.host)),
      // Thin arrows to methods: a closure made at run time takes a copy of
      // its byte code into the heap, a method's stays in flash.
      describe: () => this.reportFields(),
    }, deps.print?.lifecycle, this.options.reports);
    this.credentials = this.store.load();
    if (this.credentials) this.tokens = new AccessTokens(deps.api, deps.clock, this.credentials.refreshToken);
    // Without a channel, connection_state is whether the service answers;
    // with one, it is the channel's state (Privet 2.2.7: the XMPP connection).
    deps.api.onReachable = (reachable) => {
      if (!this.channelWanted) this.setState(reachable ? "online" : "offline");
    };
    this.registration = new RegistrationMachine({
      clock: deps.clock,
      api: deps.api,
      panel: deps.panel,
      describe: () => this.registrationFields(),
      wallClockSet: deps.clockSet ?? (() => wallClockPlausible(deps.clock)),
      completed: (result) => this.completed(result),
    }, this.options);
  }

  private reportFields(): Array<[string, string]> {
    return [...(this.deps.host.reportFields?.() ?? []), ["local_settings", localSettingsParam(this.deps.host.localSettings())]];
  }

  private registrationFields(): Array<[string, string]> {
    const fields = this.deps.host.describe();
    const caps = fields.find(([name]) => name === "capabilities");
    if (caps) fields.push(["capsHash", capsHash(caps[1])]);
    return [...fields, ["local_settings", localSettingsParam(this.deps.host.localSettings())]];
  }

  private async freshAccessToken(): Promise<string> {
    this.tokens?.invalidate();
    const fresh = await this.authorized((value) => Promise.resolve({ ok: true, value }));
    if (!fresh.ok) throw new Error(fresh.failure.message);
    return fresh.value;
  }

  get printerId(): string {
    return this.credentials?.printerId ?? "";
  }

  get registered(): boolean {
    return this.credentials !== undefined;
  }

  get owner(): string {
    return this.credentials?.user ?? "";
  }

  get connectionState(): CloudConnectionState {
    return this.state;
  }

  get accessTokenSecondsLeft(): number {
    return this.tokens?.secondsLeft ?? 0;
  }

  // At startup: a registered printer checks its local settings (Privet
  // 4.1.2); one out of the box only learns whether the service is there.
  start(): void {
    this.stopped = false;
    this.jobs?.start();
    this.reports.start();
    if (this.channelWanted) this.setState("connecting");
    void this.sync().then(() => this.jobsDue());
    void this.startChannel();
  }

  stop(): void {
    this.stopped = true;
    this.registration.reset();
    this.clearSyncTimer();
    this.stopChannel();
    this.jobs?.stop();
    this.reports.stop();
    this.schedulePoll();
  }

  // Jobs may be waiting at the service; the poll restarts from here.
  private jobsDue(): void {
    if (this.registered && !this.stopped) this.jobs?.due();
    this.schedulePoll();
  }

  // The next poll, while registered and started with no channel online.
  private schedulePoll(): void {
    if (this.pollTimer !== undefined) this.deps.clock.clearTimer(this.pollTimer);
    this.pollTimer = undefined;
    if (!this.jobs || this.stopped || !this.registered || this.channel && this.state === "online") return;
    this.pollTimer = this.deps.clock.setTimer(() => {
      this.pollTimer = undefined;
      this.jobsDue();
    }, this.options.jobsPollMs);
  }

  private get channelWanted(): boolean {
    return this.deps.channel !== undefined && this.credentials !== undefined;
  }

  // The channel runs for as long as the printer is registered and started;
  // its first connection needs an access token, the password of XMPP.
  private async startChannel(): Promise<void> {
    const factory = this.deps.channel;
    const credentials = this.credentials;
    if (!factory || !credentials || this.stopped || this.channel) return;
    const generation = ++this.channelGeneration;
    const token = await this.authorized((value) => Promise.resolve({ ok: true, value }));
    if (generation !== this.channelGeneration || this.stopped || this.channel || this.credentials !== credentials) return;
    if (!token.ok) {
      // The service is out of reach: try again with the next check.
      this.setState("offline");
      if (token.failure.kind !== "revoked") this.deps.clock.setTimer(() => {
        if (generation === this.channelGeneration) void this.startChannel();
      }, this.options.retryMs);
      return;
    }
    this.channel = factory({
      jid: credentials.xmppJid, accessToken: token.value, printerId: credentials.printerId,
      pingIntervalSeconds: this.deps.host.localSettings().xmpp_timeout_value,
    }, {
      state: (state) => this.channelState(state),
      push: (kind) => this.pushed(kind),
      refreshAccessToken: () => this.freshAccessToken(),
    });
    this.channel.start();
  }

  private stopChannel(): void {
    this.channelGeneration++;
    const channel = this.channel;
    this.channel = undefined;
    channel?.stop();
  }

  // Every time the channel comes up (first and each reconnect) pushes may
  // have been missed: check /printer, then fetch (reference 2.1 step 7).
  private channelState(state: ChannelState): void {
    if (!this.channel) return;
    this.setState(state);
    if (state === "online") void this.sync().then(() => this.jobsDue());
    else this.schedulePoll();
  }

  private pushed(kind: ChannelPushKind): void {
    this.deps.log("info", `cloud: push ${kind}`);
    if (kind === "jobs") this.jobsDue();
    // Both a settings change and a deletion are learned from /printer.
    else void this.sync();
  }

  // The device's state may have changed: the service hears of it, rate-limited.
  stateChanged(): void {
    this.reports.stateChanged();
  }

  // /privet/register (Privet 4.3).
  register(action: string | undefined, user: string | undefined): Promise<RegisterAnswer> {
    if (this.registered) return Promise.resolve(registerError("invalid_action", "the printer is registered already"));
    return this.registration.handle(action, user);
  }

  // /privet/accesstoken (Privet 4.4): the service's proximity_token, every field passed on.
  async accessToken(user: string | undefined): Promise<RegisterAnswer> {
    const email = (user ?? "").trim();
    if (email === "") return registerError("invalid_params", "user must name the user the token is for");
    const credentials = this.credentials;
    if (!credentials) return registerError("access_denied", "the printer is not registered");
    const answer = await this.authorized((token) => this.deps.api.proximityToken(credentials.printerId, email, token));
    if (!answer.ok) {
      if (answer.failure.kind === "refused") {
        const error = registerError("access_denied", answer.failure.message);
        if (answer.failure.code !== undefined) error.server_code = answer.failure.code;
        error.server_api = answer.failure.api;
        return error;
      }
      return failureError(answer.failure);
    }
    const token: RegisterAnswer = { ...answer.value };
    if (token.user === undefined) token.user = email;
    return token;
  }

  // Checks /printer now: deletion, pending local settings, connection state.
  // Calls that overlap share one check.
  sync(): Promise<void> {
    if (this.syncing) {
      // A push that comes in while a check is under way may be about a
      // change that check has already missed: look once more after it.
      this.syncAgain = true;
      return this.syncing;
    }
    this.clearSyncTimer();
    this.syncing = this.syncOnce().finally(() => {
      this.syncing = undefined;
      if (this.syncAgain && !this.stopped) {
        this.syncAgain = false;
        void this.sync();
      }
    });
    return this.syncing;
  }

  // Local factory reset (Privet 6.1): credentials gone, default settings.
  factoryReset(): void {
    this.deps.log("info", "cloud: factory reset");
    this.registration.reset();
    this.eraseCredentials();
  }

  private async syncOnce(): Promise<void> {
    const credentials = this.credentials;
    if (!credentials) {
      // Out of the box there is nothing to ask; whether the service answers
      // at all is what connection_state says (Privet 2.2.7).
      const reachable = await this.deps.api.probe();
      // A registration that finished meanwhile wants its first check at once.
      if (!this.stopped) this.schedule(this.credentials ? 0 : reachable ? this.dailyDelay() : this.options.retryMs);
      return;
    }
    const answer = await this.authorized((token) => this.deps.api.printer(credentials.printerId, token));
    if (this.stopped || this.credentials !== credentials) return;
    if (!answer.ok) {
      if (answer.failure.kind !== "revoked") this.schedule(this.options.retryMs);
      return;
    }
    if (answer.value === undefined) {
      this.deps.log("info", `cloud: the service no longer knows printer ${credentials.printerId}; back to out-of-the-box mode`);
      this.eraseCredentials();
      return;
    }
    const pending = answer.value.pending;
    if (pending !== undefined && pending !== null) {
      const applied = mergeLocalSettings(this.deps.host.localSettings(), pending);
      if (!sameLocalSettings(applied, this.deps.host.localSettings())) {
        this.deps.log("info", `cloud: applying local settings ${JSON.stringify(applied)}`);
        this.deps.host.applyLocalSettings(applied);
        this.channel?.setPingInterval(applied.xmpp_timeout_value);
      }
      // Confirm with current only (Privet 4.1.3); on failure the pending set
      // is still there at the next check.
      const confirmed = await this.authorized((token) => this.deps.api.update(credentials.printerId, token, [["local_settings", localSettingsParam(applied)]]));
      if (this.stopped || this.credentials !== credentials) return;
      if (confirmed.ok) this.reports.sent("local_settings", localSettingsParam(applied));
      if (!confirmed.ok) {
        if (confirmed.failure.kind !== "revoked") this.schedule(this.options.retryMs);
        return;
      }
    }
    if (!(await this.syncCapabilities(credentials, answer.value.capsHash))) {
      if (!this.stopped && this.credentials === credentials) this.schedule(this.options.retryMs);
      return;
    }
    this.schedule(this.dailyDelay());
  }

  // Seed 001: the service's copy of the CDD follows the printer's (say the
  // engine changed between two starts). Its capsHash is compared when it has
  // one; otherwise the hash of what this printer last uploaded. False when
  // an upload was needed and failed.
  private async syncCapabilities(credentials: Credentials, serviceHash: string | undefined): Promise<boolean> {
    const cdd = this.deps.host.describe().find(([name]) => name === "capabilities")?.[1];
    if (cdd === undefined) return true;
    const hash = capsHash(cdd);
    const known = serviceHash ?? this.deps.storage.read(CAPS_HASH_KEY);
    if (known !== undefined && known.toLowerCase() === hash) {
      if (this.deps.storage.read(CAPS_HASH_KEY) !== hash) this.deps.storage.write(CAPS_HASH_KEY, hash);
      return true;
    }
    this.deps.log("info", `cloud: the service's capabilities (${known ?? "unknown"}) differ from the printer's (${hash}); uploading them`);
    const uploaded = await this.authorized((token) => this.deps.api.update(credentials.printerId, token,
      [["use_cdd", "true"], ["capabilities", cdd], ["capsHash", hash]]));
    if (!uploaded.ok) return false;
    this.deps.storage.write(CAPS_HASH_KEY, hash);
    return true;
  }

  // A call with the access token: a refusal of the token (HTTP 403) gets one
  // refresh and one retry; a refresh token refused for good erases the
  // credentials (Privet 6.1: the credentials no longer work).
  private async authorized<T>(call: (token: string) => Promise<CloudResult<T>>): Promise<CloudResult<T>> {
    for (let attempt = 0; ; attempt++) {
      const tokens = this.tokens;
      if (!tokens) return { ok: false, failure: { kind: "revoked", api: "/token", message: "the printer is not registered" } };
      const token = await tokens.get();
      if (!token.ok) return this.failed(token.failure);
      const answer = await call(token.value);
      if (answer.ok || answer.failure.kind !== "auth" || attempt > 0) return answer.ok ? answer : this.failed(answer.failure);
      tokens.invalidate();
    }
  }

  private failed<T>(failure: CloudFailure): CloudResult<T> {
    if (failure.kind === "revoked" && this.credentials) {
      this.deps.log("warn", `cloud: the service refused the printer's credentials (${failure.message}); back to out-of-the-box mode`);
      this.eraseCredentials();
    }
    return { ok: false, failure };
  }

  private completed(result: RegistrationResult): void {
    const credentials: Credentials = {
      printerId: result.registration.printerId,
      refreshToken: result.tokens.refreshToken!,
      xmppJid: result.code.xmppJid,
      user: result.code.userEmail || result.user,
    };
    // Written whole before complete answers: from here on a power cut leaves a registered printer.
    this.store.save(credentials);
    this.credentials = credentials;
    this.tokens = new AccessTokens(this.deps.api, this.deps.clock, credentials.refreshToken);
    this.tokens.seed(result.tokens.accessToken, result.tokens.expiresIn);
    this.deps.log("info", `cloud: registered as ${credentials.printerId} for ${credentials.user}`);
    this.deps.host.idChanged(credentials.printerId);
    this.reports.registered();
    if (this.channelWanted) this.setState("connecting");
    else this.setState("online");
    if (!this.stopped) {
      void this.sync().then(() => this.jobsDue());
      void this.startChannel();
    }
  }

  private eraseCredentials(): void {
    this.stopChannel();
    this.store.erase();
    const had = this.credentials !== undefined;
    this.credentials = undefined;
    this.tokens = undefined;
    this.deps.host.applyLocalSettings(DEFAULT_LOCAL_SETTINGS);
    this.schedulePoll();
    if (had) this.deps.host.idChanged("");
    this.clearSyncTimer();
    if (!this.stopped) this.schedule(0);
  }

  private setState(state: CloudConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    this.deps.host.connectionChanged(state);
  }

  private dailyDelay(): number {
    const bytes = new Uint8Array(4);
    this.deps.random.fill(bytes);
    const fraction = (((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0) / 0x1_0000_0000;
    return this.options.syncMinMs + Math.floor(fraction * (this.options.syncMaxMs - this.options.syncMinMs));
  }

  private schedule(delayMs: number): void {
    this.clearSyncTimer();
    this.nextSyncAt = this.deps.clock.monotonic() + delayMs;
    this.syncTimer = this.deps.clock.setTimer(() => {
      this.syncTimer = undefined;
      void this.sync();
    }, delayMs);
  }

  private clearSyncTimer(): void {
    if (this.syncTimer !== undefined) this.deps.clock.clearTimer(this.syncTimer);
    this.syncTimer = undefined;
  }
}
