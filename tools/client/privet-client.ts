import * as fs from "node:fs";
import * as http from "node:http";

// A Privet client that behaves as the Privet text asks clients to behave:
// the token from /privet/info, refreshed once on invalid_x_privet_token;
// printer_busy and device_busy retried after `timeout` plus up to 20 %
// (Privet 4.6); a closed socket or HTTP 503 on submitdoc treated as
// printer_busy with a 15 s timeout, at most 3 attempts (Privet 5.2); and on
// invalid_print_job a random wait of up to 5 s and a restart from createjob.

export class PrivetError extends Error {
  constructor(readonly code: string, readonly description: string | undefined, readonly body: Record<string, unknown>) {
    super(description ? `${code}: ${description}` : code);
  }
}

export class HttpFailure extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export interface ClientOptions {
  baseUrl: string;
  // Waits are injectable so tests can check them without sleeping.
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  busyAttempts?: number;
  closedAttempts?: number;
  restartAttempts?: number;
  log?: (message: string) => void;
}

export interface PrintOptions {
  file: string;
  contentType?: string;
  jobName?: string;
  ticket?: Record<string, unknown>;
  onProgress?: (sent: number, total: number) => void;
}

export interface Response { status: number; json: Record<string, unknown> }

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class PrivetClient {
  token: string | undefined;
  infoCalls = 0;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly log: (message: string) => void;

  constructor(readonly options: ClientOptions) {
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
    this.log = options.log ?? (() => {});
  }

  // ---- transport ----

  private send(method: string, path: string, headers: Record<string, string>, body?: { file: string; size: number; onProgress?: (n: number, t: number) => void } | Buffer): Promise<Response> {
    const url = new URL(path, this.options.baseUrl);
    return new Promise((resolve, reject) => {
      const request = http.request(url, { method, headers, agent: false }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (c) => chunks.push(c));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const status = response.statusCode ?? 0;
          if (status !== 200) return reject(new HttpFailure(status, `HTTP ${status} ${response.statusMessage ?? ""}`.trim()));
          try {
            resolve({ status, json: JSON.parse(text) });
          } catch {
            reject(new HttpFailure(status, "the printer's answer is not JSON"));
          }
        });
        response.on("error", reject);
      });
      request.on("error", reject);
      if (!body) return void request.end();
      if (Buffer.isBuffer(body)) return void request.end(body);
      let sent = 0;
      const stream = fs.createReadStream(body.file, { highWaterMark: 256 * 1024 });
      stream.on("data", (chunk) => {
        sent += chunk.length;
        body.onProgress?.(sent, body.size);
        if (!request.write(chunk)) {
          stream.pause();
          request.once("drain", () => stream.resume());
        }
      });
      stream.on("end", () => request.end());
      stream.on("error", (error) => request.destroy(error));
      // The printer may answer (or close) before taking everything.
      request.on("close", () => stream.destroy());
    });
  }

  async info(): Promise<Record<string, unknown>> {
    this.infoCalls++;
    const response = await this.send("GET", "/privet/info", { "X-Privet-Token": "\"\"" });
    this.token = String(response.json["x-privet-token"]);
    return response.json;
  }

  // An API call with the token, refreshed once if the printer says it is stale.
  private async call(method: string, path: string, headers: Record<string, string> = {}, body?: Parameters<PrivetClient["send"]>[3]): Promise<Record<string, unknown>> {
    if (this.token === undefined) await this.info();
    for (let attempt = 0; ; attempt++) {
      const response = await this.send(method, path, { ...headers, "X-Privet-Token": this.token! }, body);
      const error = response.json.error;
      if (error === "invalid_x_privet_token" && attempt === 0) {
        this.log("token refused; getting a new one from /privet/info");
        await this.info();
        continue;
      }
      if (typeof error === "string") throw new PrivetError(error, response.json.description as string | undefined, response.json);
      return response.json;
    }
  }

  // Privet 4.6: wait `timeout` seconds, randomized up to 20 % more.
  private jittered(timeoutS: number): number {
    return Math.round(timeoutS * 1000 * (1 + 0.2 * this.random()));
  }

  // Retries printer_busy and device_busy as the printer asks.
  private async patiently<T>(what: string, action: () => Promise<T>): Promise<T> {
    const attempts = this.options.busyAttempts ?? 10;
    for (let attempt = 1; ; attempt++) {
      try {
        return await action();
      } catch (error) {
        if (!(error instanceof PrivetError) || (error.code !== "printer_busy" && error.code !== "device_busy") || attempt >= attempts) throw error;
        const wait = this.jittered(Number(error.body.timeout ?? 5));
        this.log(`${what}: ${error.code}, retrying in ${(wait / 1000).toFixed(1)} s`);
        await this.sleep(wait);
      }
    }
  }

  // /privet/register (Privet 4.3); device_busy is not retried here: it means
  // someone else is registering the printer, which the user should hear.
  register(action: string, user: string): Promise<Record<string, unknown>> {
    return this.call("POST", `/privet/register?action=${encodeURIComponent(action)}&user=${encodeURIComponent(user)}`);
  }

  accessToken(user: string): Promise<Record<string, unknown>> {
    return this.call("GET", `/privet/accesstoken?user=${encodeURIComponent(user)}`);
  }

  // start, then getClaimToken until the person at the printer has pressed
  // OK (pending_user_action, retried after its timeout plus up to 20 %),
  // then the caller claims, then complete.
  async registerWith(user: string, hooks: { waiting(secondsLeft: number): void; claim(answer: Record<string, unknown>): Promise<void> }, confirmWindowS = 60): Promise<Record<string, unknown>> {
    await this.register("start", user);
    const started = performance.now();
    let claim: Record<string, unknown>;
    for (;;) {
      try {
        claim = await this.register("getClaimToken", user);
        break;
      } catch (error) {
        if (!(error instanceof PrivetError) || error.code !== "pending_user_action") throw error;
        hooks.waiting(Math.max(0, Math.ceil(confirmWindowS - (performance.now() - started) / 1000)));
        await this.sleep(this.jittered(Number(error.body.timeout ?? 5)));
      }
    }
    await hooks.claim(claim);
    return this.register("complete", user);
  }

  capabilities(): Promise<Record<string, unknown>> {
    return this.call("GET", "/privet/capabilities");
  }

  jobState(jobId: string): Promise<Record<string, unknown>> {
    return this.call("GET", `/privet/printer/jobstate?job_id=${encodeURIComponent(jobId)}`);
  }

  createJob(ticket: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.patiently("createjob", () => this.call("POST", "/privet/printer/createjob", { "Content-Type": "application/json" }, Buffer.from(JSON.stringify(ticket))));
  }

  // submitdoc with the socket-closed / 503 rule of Privet 5.2.
  private async submit(options: PrintOptions, jobId: string | undefined): Promise<Record<string, unknown>> {
    const size = fs.statSync(options.file).size;
    const query = new URLSearchParams();
    if (jobId) query.set("job_id", jobId);
    if (options.jobName) query.set("job_name", options.jobName);
    query.set("client_name", "privet reference client");
    const path = `/privet/printer/submitdoc?${query}`;
    const closedAttempts = this.options.closedAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.patiently("submitdoc", () => this.call("POST", path, { "Content-Type": options.contentType ?? "image/pwg-raster", "Content-Length": String(size) }, { file: options.file, size, onProgress: options.onProgress }));
      } catch (error) {
        const closed = error instanceof HttpFailure ? error.status === 503 : !(error instanceof PrivetError);
        if (!closed || attempt >= closedAttempts) throw error;
        const wait = this.jittered(15);
        this.log(`submitdoc: ${error instanceof HttpFailure ? "HTTP 503" : "the connection closed"}; treating it as printer_busy, retrying in ${(wait / 1000).toFixed(1)} s`);
        await this.sleep(wait);
      }
    }
  }

  // Prints a file: createjob first when the printer offers it, then submitdoc.
  async print(options: PrintOptions): Promise<{ jobId: string; advanced: boolean; answer: Record<string, unknown> }> {
    const info = await this.info();
    const api = (info.api as string[]) ?? [];
    if (!api.includes("/privet/printer/submitdoc")) throw new PrivetError("not_available", "this printer does not offer /privet/printer/submitdoc right now", {});
    const advanced = api.includes("/privet/printer/createjob");
    const restarts = this.options.restartAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      const jobId = advanced ? String((await this.createJob(options.ticket ?? { version: "1.0", print: {} })).job_id) : undefined;
      try {
        const answer = await this.submit(options, jobId);
        return { jobId: String(answer.job_id), advanced, answer };
      } catch (error) {
        if (!(error instanceof PrivetError) || error.code !== "invalid_print_job" || !advanced || attempt >= restarts) throw error;
        const wait = Math.round(this.random() * 5000);
        this.log(`submitdoc: invalid_print_job; starting over from createjob in ${(wait / 1000).toFixed(1)} s`);
        await this.sleep(wait);
      }
    }
  }

  // Polls jobstate until the job is done or aborted.
  async waitForJob(jobId: string, onState?: (state: Record<string, unknown>) => void, limitMs = 10 * 60_000): Promise<Record<string, unknown>> {
    const end = Date.now() + limitMs;
    let last: Record<string, unknown> = {};
    while (Date.now() < end) {
      last = await this.jobState(jobId);
      onState?.(last);
      if (last.state === "done" || last.state === "aborted") return last;
      await realSleep(250);
    }
    return last;
  }
}
