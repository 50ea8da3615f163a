import { Turns, type Cost } from "../http/turns.js";
import type { Random } from "../hal/random.js";
import { HttpClientError, type HttpClient, type HttpResponse } from "../http/client.js";
import { requestText } from "../http/collect.js";
import { multipartForm, urlEncodeComponent, urlEncodeForm } from "../http/form.js";
import { asNumber, asObject, asString, text, type Json } from "./values.js";

// The Cloud Print service as the device calls it (cloud-print-service.md
// 1.1 and 2): one method per interface, each returning a value, never
// throwing. Answers are collected within a byte limit and read leniently
// (strings for numbers, missing optional fields), but a field the next step
// cannot do without makes the answer a server error.

export interface CloudEndpoint {
  // The service base, e.g. https://www.google.com/cloudprint (no trailing slash).
  url: string;
  // The OAuth 2.0 token endpoint.
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  // X-CloudPrint-Proxy and the register "proxy" field: free text naming the client.
  proxy: string;
}

// offline: the service could not be reached or did not answer in time.
// server: it answered, but with HTTP 5xx, a body that is not JSON, or JSON
// lacking what the step needs. refused: success false (or an OAuth error).
// auth: HTTP 401/403, the access token is not (or no longer) good.
// revoked: the refresh token was refused for good (OAuth invalid_grant).
export type FailureKind = "offline" | "server" | "refused" | "auth" | "revoked";

export interface CloudFailure {
  kind: FailureKind;
  // The interface that failed, as Privet's server_api shows it ("/register").
  api: string;
  httpStatus?: number;
  // The service's errorCode, when it gave one.
  code?: number;
  message: string;
}

export type CloudResult<T> = { ok: true; value: T } | { ok: false; failure: CloudFailure };

export interface Registration {
  printerId: string;
  token: string;
  // Seconds the registration token (and so the polling) stays valid.
  tokenDuration: number;
  claimUrl: string;
  automatedClaimUrl: string;
  pollingUrl: string;
}

export interface AuthCode { code: string; xmppJid: string; userEmail: string }

export interface OAuthTokens { accessToken: string; expiresIn: number; refreshToken?: string }

export interface PrinterState {
  // Absent when the answer had none (then the device keeps what it has).
  current?: unknown;
  pending?: unknown;
  // The service's hash of the CDD it holds; undefined when the answer had none.
  capsHash?: string;
}

// A job from /fetch, with only what the device uses.
export interface CloudJob {
  id: string;
  title: string;
  fileUrl: string;
  // Milliseconds; a string in real answers (reference §0.1), 0 when unreadable.
  createTime: number;
}

// Small documents only: a /printer answer carries the CDD back and is a few
// KB; the board's whole JavaScript heap is 64 KB of chunks.
const MAX_ANSWER_BYTES = 16 * 1024;
// The token_duration when the answer lacks a readable one (Google's was ~15 min).
const DEFAULT_TOKEN_DURATION_S = 900;
const DEFAULT_EXPIRES_IN_S = 3600;

const OFFLINE_KINDS = ["resolve", "connect", "tls", "timeout", "closed"];

export class CloudApi {
  // Told of every call: true when the service answered at all (any HTTP
  // status), false when it could not be reached. Drives connection_state.
  onReachable: (reachable: boolean) => void = () => {};

  // In the order asked, one at a time (below).
  private readonly order = new Turns();

  // turns: the device's memory budget, shared with its other large activities
  // (IPP's attribute answers, a JPEG job); callShare: a call's share of it.
  constructor(private readonly http: HttpClient, private readonly endpoint: CloudEndpoint, private readonly random: Random,
    private readonly turns: Turns = new Turns(), private readonly callShare?: number | Cost) {}

  // One call at a time, in the order asked: each holds a connection (on the
  // board a TLS session) and then its whole answer as bytes, text and
  // parsed JSON. In mcsim two of them together (a job's /submit report
  // meeting /update, or a pushed job's /fetch) were what ran the fixed heap
  // out first; the later one waits instead.
  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    return this.order.run(() => this.turns.run(work, this.callShare));
  }

  get url(): string {
    return this.endpoint.url;
  }

  // Anonymous registration (reference 2.1 step 2), multipart as gcp20 and bnet sent it.
  async register(fields: Array<[string, string]>): Promise<CloudResult<Registration>> {
    const all: Array<[string, string]> = [["proxy", this.endpoint.proxy], ...fields];
    const body = multipartForm(all.map(([name, value]) => ({ name, value })), { random: this.random });
    const answer = await this.call("/register", "POST", `${this.endpoint.url}/register`, body, body.contentType);
    if (!answer.ok) return answer;
    const json = answer.value;
    const printer = Array.isArray(json.printers) ? asObject(json.printers[0]) : undefined;
    const printerId = printer ? text(printer, "id") : undefined;
    const token = text(json, "registration_token");
    const claimUrl = text(json, "complete_invite_url");
    const pollingUrl = text(json, "polling_url");
    if (!printerId || !token || !claimUrl || !pollingUrl) {
      return serverError("/register", "the answer lacks printers[0].id, registration_token, complete_invite_url or polling_url");
    }
    const duration = asNumber(json.token_duration);
    return {
      ok: true,
      value: {
        printerId, token, claimUrl, pollingUrl,
        tokenDuration: duration !== undefined && duration > 0 ? duration : DEFAULT_TOKEN_DURATION_S,
        // Privet 4.3.2 makes automated_claim_url mandatory; a service without
        // one (the gcp20 prototype's) still gets the rest through.
        automatedClaimUrl: text(json, "automated_invite_url") ?? "",
      },
    };
  }

  // The polling URL ends in "oauth_client_id=": the device appends its own.
  // A claimed printer gets its code; success false means not yet.
  async pollAuthCode(pollingUrl: string): Promise<CloudResult<AuthCode | undefined>> {
    const answer = await this.call("/getauthcode", "GET", pollingUrl + urlEncodeComponent(this.endpoint.clientId));
    if (!answer.ok) return answer.failure.kind === "refused" ? { ok: true, value: undefined } : answer;
    const json = answer.value;
    const code = text(json, "authorization_code");
    const xmppJid = text(json, "xmpp_jid");
    if (!code || !xmppJid) return serverError("/getauthcode", "the answer lacks authorization_code or xmpp_jid");
    return { ok: true, value: { code, xmppJid, userEmail: text(json, "user_email") ?? "" } };
  }

  exchangeCode(code: string): Promise<CloudResult<OAuthTokens>> {
    return this.token({ grant_type: "authorization_code", code, redirect_uri: "oob" }, true);
  }

  refresh(refreshToken: string): Promise<CloudResult<OAuthTokens>> {
    return this.token({ grant_type: "refresh_token", refresh_token: refreshToken }, false);
  }

  // Privet 4.1.5: an answer with success false and no printer, or (as the
  // real service also did) success true with no printers, means deleted:
  // value undefined.
  async printer(printerId: string, accessToken: string): Promise<CloudResult<PrinterState | undefined>> {
    const url = `${this.endpoint.url}/printer?printerid=${urlEncodeComponent(printerId)}`;
    const answer = await this.call("/printer", "GET", url, undefined, undefined, accessToken, true);
    if (!answer.ok) return answer;
    const json = answer.value;
    const printer = Array.isArray(json.printers) ? asObject(json.printers[0]) : undefined;
    if (json.success !== true || !printer) return { ok: true, value: undefined };
    const settings = asObject(printer.local_settings);
    const state: PrinterState = { current: settings?.current, pending: settings?.pending };
    const hash = asString(printer.capsHash);
    if (hash !== undefined) state.capsHash = hash;
    return { ok: true, value: state };
  }

  // The queue, oldest first. No jobs is success false with errorCode 413
  // (reference 1.1); any other refusal is a failure. A job without id or
  // fileUrl cannot be printed and is left out.
  async fetch(printerId: string, accessToken: string): Promise<CloudResult<CloudJob[]>> {
    const body = urlEncodeForm([["printerid", printerId]]);
    const answer = await this.call("/fetch", "POST", `${this.endpoint.url}/fetch`, body, "application/x-www-form-urlencoded", accessToken, true);
    if (!answer.ok) return answer;
    const json = answer.value;
    if (json.success !== true) {
      const code = asNumber(json.errorCode);
      if (code === 413) return { ok: true, value: [] };
      return { ok: false, failure: { kind: "refused", api: "/fetch", httpStatus: 200, code, message: asString(json.message) ?? "success is not true" } };
    }
    const jobs: CloudJob[] = [];
    for (const item of Array.isArray(json.jobs) ? json.jobs : []) {
      const job = asObject(item);
      const id = job ? text(job, "id") : undefined;
      const fileUrl = job ? text(job, "fileUrl") : undefined;
      if (!job || !id || !fileUrl) continue;
      jobs.push({ id, fileUrl, title: asString(job.title) ?? "", createTime: asNumber(job.createTime) ?? 0 });
    }
    jobs.sort((a, b) => a.createTime - b.createTime);
    return { ok: true, value: jobs };
  }

  // The CJT as text, for the same checker createjob uses. The answer is the
  // ticket itself, not wrapped in success; an object with success false is
  // the standard error ([G] Ticket).
  async ticket(jobId: string, accessToken: string): Promise<CloudResult<string>> {
    const url = `${this.endpoint.url}/ticket?jobid=${urlEncodeComponent(jobId)}&use_cjt=true`;
    const result = await this.exchange("/ticket", "GET", url, undefined, undefined, accessToken);
    if (!result.ok) return result;
    const { status, json } = result.value;
    if (status === 401 || status === 403) return { ok: false, failure: { kind: "auth", api: "/ticket", httpStatus: status, message: `HTTP ${status}` } };
    if (status !== 200) return { ok: false, failure: { kind: "server", api: "/ticket", httpStatus: status, message: asString(json.message) ?? `HTTP ${status}` } };
    if (json.success === false) return { ok: false, failure: { kind: "refused", api: "/ticket", httpStatus: status, code: asNumber(json.errorCode), message: asString(json.message) ?? "success is false" } };
    return { ok: true, value: JSON.stringify(json) };
  }

  // A job's state report (reference 5.5): a PrintJobStateDiff.
  // extra: fields beside the diff (a message, which the diff has no field for).
  control(jobId: string, accessToken: string, diff: Json, extra: Array<[string, string]> = []): Promise<CloudResult<Json>> {
    const body = urlEncodeForm([["jobid", jobId], ["semantic_state_diff", JSON.stringify(diff)], ...extra]);
    return this.call("/control", "POST", `${this.endpoint.url}/control`, body, "application/x-www-form-urlencoded", accessToken);
  }

  // The document (reference 5.4): the response once its head is in, its
  // body still in the connection for the print path to read at its own
  // pace. Anything but 200 is a failure (415: the service cannot convert).
  async download(fileUrl: string, accessToken: string, accept: string): Promise<CloudResult<HttpResponse>> {
    const headers: Record<string, string> = { "X-CloudPrint-Proxy": this.endpoint.proxy, Accept: accept, Authorization: `Bearer ${accessToken}` };
    let response: HttpResponse;
    try {
      // Its turn lasts until the head is in: the body streams at the print
      // path's pace, and the job's state reports must get through meanwhile.
      response = await this.inTurn(() => this.http.request({ method: "GET", url: fileUrl, headers }));
    } catch (error) {
      const kind: FailureKind = error instanceof HttpClientError && OFFLINE_KINDS.includes(error.kind) ? "offline" : "server";
      return { ok: false, failure: { kind, api: "/download", message: error instanceof Error ? error.message : String(error) } };
    }
    if (response.status === 200) return { ok: true, value: response };
    response.abort();
    const status = response.status;
    const kind: FailureKind = status === 401 || status === 403 ? "auth" : status === 415 ? "refused" : "server";
    return { ok: false, failure: { kind, api: "/download", httpStatus: status, message: `HTTP ${status} ${response.reason}` } };
  }

  // A job printed locally, reported finished (reference 5.6): multipart as
  // /submit is, with final_semantic_state and no content part.
  async submitLocal(printerId: string, accessToken: string, fields: Array<[string, string]>): Promise<CloudResult<{ jobId: string }>> {
    const all: Array<[string, string]> = [["printerid", printerId], ...fields];
    const body = multipartForm(all.map(([name, value]) => ({ name, value })), { random: this.random });
    const answer = await this.call("/submit", "POST", `${this.endpoint.url}/submit`, body, body.contentType, accessToken);
    if (!answer.ok) return answer;
    const job = asObject(answer.value.job);
    return { ok: true, value: { jobId: (job && asString(job.id)) ?? "" } };
  }

  async update(printerId: string, accessToken: string, fields: Array<[string, string]>): Promise<CloudResult<Json>> {
    const body = urlEncodeForm([["printerid", printerId], ...fields]);
    return this.call("/update", "POST", `${this.endpoint.url}/update`, body, "application/x-www-form-urlencoded", accessToken);
  }

  // The proximity_token object as the service gave it: Privet 4.4 asks the
  // device to pass on every field, known or not.
  async proximityToken(printerId: string, user: string, accessToken: string): Promise<CloudResult<Json>> {
    const body = urlEncodeForm([["printerid", printerId], ["user", user]]);
    const answer = await this.call("/proximitytoken", "POST", `${this.endpoint.url}/proximitytoken`, body, "application/x-www-form-urlencoded", accessToken);
    if (!answer.ok) return answer;
    const token = asObject(answer.value.proximity_token);
    if (!token || asString(token.token) === undefined) return serverError("/proximitytoken", "the answer lacks proximity_token.token");
    return { ok: true, value: token };
  }

  // Whether the service answers at all (any HTTP status will do): how a
  // printer out of the box learns its connection state without credentials.
  async probe(): Promise<boolean> {
    const answer = await this.exchange("/printer", "GET", `${this.endpoint.url}/printer`);
    return answer.ok || answer.failure.kind !== "offline";
  }

  private async token(fields: Record<string, string>, expectRefresh: boolean): Promise<CloudResult<OAuthTokens>> {
    const body = urlEncodeForm({ ...fields, client_id: this.endpoint.clientId, client_secret: this.endpoint.clientSecret });
    const result = await this.exchange("/token", "POST", this.endpoint.tokenUrl, body, "application/x-www-form-urlencoded");
    if (!result.ok) return result;
    const { status, json } = result.value;
    const error = asString(json.error);
    if (error !== undefined || status >= 400) {
      if (status >= 500) return { ok: false, failure: { kind: "server", api: "/token", httpStatus: status, message: `HTTP ${status}` } };
      // invalid_grant: the refresh token was revoked or the printer deleted;
      // anything else (invalid_client, a bad request) is not the credentials' fault.
      const kind: FailureKind = error === "invalid_grant" && !expectRefresh ? "revoked" : "refused";
      return { ok: false, failure: { kind, api: "/token", httpStatus: status, message: `${error ?? `HTTP ${status}`}: ${asString(json.error_description) ?? ""}` } };
    }
    const accessToken = text(json, "access_token");
    const refreshToken = text(json, "refresh_token");
    if (!accessToken || (expectRefresh && !refreshToken)) return serverError("/token", "the answer lacks access_token or refresh_token");
    const expiresIn = asNumber(json.expires_in);
    return { ok: true, value: { accessToken, refreshToken, expiresIn: expiresIn !== undefined && expiresIn > 0 ? expiresIn : DEFAULT_EXPIRES_IN_S } };
  }

  // A Cloud Print interface: HTTP 200 with success true is the answer; with
  // success false a refusal (unless acceptRefusal: /printer reads it itself).
  private async call(api: string, method: string, url: string, body?: string | ReturnType<typeof multipartForm>, contentType?: string,
    accessToken?: string, acceptRefusal = false): Promise<CloudResult<Json>> {
    const result = await this.exchange(api, method, url, body, contentType, accessToken);
    if (!result.ok) return result;
    const { status, json } = result.value;
    if (status === 401 || status === 403) return { ok: false, failure: { kind: "auth", api, httpStatus: status, code: asNumber(json.errorCode), message: asString(json.message) ?? `HTTP ${status}` } };
    if (status !== 200) return { ok: false, failure: { kind: "server", api, httpStatus: status, code: asNumber(json.errorCode), message: asString(json.message) ?? `HTTP ${status}` } };
    if (json.success !== true && !acceptRefusal) {
      return { ok: false, failure: { kind: "refused", api, httpStatus: status, code: asNumber(json.errorCode), message: asString(json.message) ?? "success is not true" } };
    }
    return { ok: true, value: json };
  }

  private async exchange(api: string, method: string, url: string, body?: string | ReturnType<typeof multipartForm>, contentType?: string,
    accessToken?: string): Promise<CloudResult<{ status: number; json: Json }>> {
    const headers: Record<string, string> = { "X-CloudPrint-Proxy": this.endpoint.proxy, Accept: "application/json" };
    if (contentType) headers["Content-Type"] = contentType;
    if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
    let answer: { status: number; json: Json | undefined };
    try {
      answer = await this.inTurn(async () => {
        const collected = await requestText(this.http, { method, url, headers, body }, MAX_ANSWER_BYTES);
        // Parsed within the turn, so the text and its objects are never beside another answer's.
        return { status: collected.status, json: parseObject(collected.text) };
      });
    } catch (error) {
      const kind = error instanceof HttpClientError && OFFLINE_KINDS.includes(error.kind) ? "offline" : "server";
      // A refused request of ours (a bad URL, plain text not allowed) is no sign of the service.
      if (kind === "offline") this.onReachable(false);
      else if (!(error instanceof HttpClientError) || (error.kind !== "request" && error.kind !== "policy")) this.onReachable(true);
      return { ok: false, failure: { kind, api, message: error instanceof Error ? error.message : String(error) } };
    }
    this.onReachable(true);
    const { status, json } = answer;
    if (!json) {
      const kind: FailureKind = status === 401 || status === 403 ? "auth" : "server";
      return { ok: false, failure: { kind, api, httpStatus: status, message: `HTTP ${status}: the answer is not a JSON object` } };
    }
    return { ok: true, value: { status, json } };
  }
}

function parseObject(text: string): Json | undefined {
  try {
    return asObject(JSON.parse(text));
  } catch {
    return undefined;
  }
}

function serverError<T>(api: string, message: string): CloudResult<T> {
  return { ok: false, failure: { kind: "server", api, httpStatus: 200, message } };
}

// Where the OAuth endpoint is for a service base: Google's accounts server
// for Google's service, the same origin otherwise (the emulator serves
// /o/oauth2/token beside /cloudprint).
export function defaultTokenUrl(serviceUrl: string): string {
  const match = /^(https?:\/\/[^/]+)/i.exec(serviceUrl);
  const origin = match ? match[1] : serviceUrl;
  if (/^https:\/\/www\.google\.com$/i.test(origin)) return "https://accounts.google.com/o/oauth2/token";
  return `${origin}/o/oauth2/token`;
}
