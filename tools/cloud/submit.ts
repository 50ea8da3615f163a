import { readFileSync, writeSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { emulatorUserToken, json, submitAsUser, UserActionError } from "./as-user.js";

// `npm run cloud -- submit FILE --printer ID`: what a user did from Chrome's
// print dialog, against the emulator: a token for the user (the emulator's
// own grant), /submit with the file, then the job's state until it is done.

export const SUBMIT_USAGE = `cloud submit: send a document to a registered printer through the emulator

Usage: npm run cloud -- submit FILE --printer ID [options]

  FILE                a .pdf, .png, .jpg/.jpeg or .pwg file
  --printer ID        the printer's cloud id (the Privet device id)
  --user EMAIL        submit as this user (default: the printer's owner)
  --url URL           the emulator (default http://127.0.0.1:8632; /cloudprint is added)
  --title T           the job's title (default: the file's name)
  --timeout S         seconds to wait for DONE or ABORTED (default 60)
  -h, --help          show this help

Exit status: 0 done, 1 aborted or refused, 2 usage, 3 no final state in time.
`;

const TYPES: Record<string, string> = {
  ".pdf": "application/pdf",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".pwg": "image/pwg-raster",
};

const PROXY = "cloud-submit-cli";
const POLL_MS = 500;

class Refusal extends Error {
  constructor(message: string, readonly status = 1) { super(message); }
}

function out(line: string): void {
  writeSync(1, `${line}\n`);
}

// The base the API lives under, from an origin or a URL with its path.
function serviceBase(text: string): { base: string; origin: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Refusal(`--url takes a URL such as http://127.0.0.1:8632, not ${text}`, 2);
  }
  const trimmed = url.pathname.replace(/\/+$/, "");
  return { origin: url.origin, base: `${url.origin}${trimmed === "" ? "/cloudprint" : trimmed}` };
}

function api(url: string, init: RequestInit & { token?: string } = {}): Promise<any> {
  const headers: Record<string, string> = { "X-CloudPrint-Proxy": PROXY };
  if (init.token) headers.Authorization = `Bearer ${init.token}`;
  return json(url, { ...init, headers: { ...headers, ...(init.headers as Record<string, string> | undefined) } }, "the emulator");
}

export async function submitCommand(args: string[]): Promise<number> {
  try {
    return await run(args);
  } catch (error) {
    // What the emulator refused, or could not be reached for, is status 1.
    const refusal = error instanceof UserActionError ? new Refusal(error.message) : error;
    if (!(refusal instanceof Refusal)) throw refusal;
    writeSync(2, `cloud submit: ${refusal.message}\n${refusal.status === 2 ? `\n${SUBMIT_USAGE}` : ""}`);
    return refusal.status;
  }
}

async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args, allowPositionals: true,
      options: {
        printer: { type: "string" }, user: { type: "string" }, url: { type: "string" },
        title: { type: "string" }, timeout: { type: "string" }, help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw new Refusal((error as Error).message, 2);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    writeSync(1, SUBMIT_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new Refusal("give exactly one FILE", 2);
  if (!values.printer) throw new Refusal("--printer ID is needed", 2);
  const timeoutText = values.timeout ?? "60";
  if (!/^\d{1,6}$/.test(timeoutText) || Number(timeoutText) === 0) throw new Refusal("--timeout must be a positive whole number of seconds", 2);
  const file = positionals[0];
  const contentType = TYPES[path.extname(file).toLowerCase()];
  if (!contentType) throw new Refusal(`${file}: the type is taken from the extension, one of ${Object.keys(TYPES).join(", ")}`, 2);
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (error) {
    throw new Refusal(`${file}: ${(error as Error).message}`, 2);
  }
  const printerId = values.printer;
  const { base, origin } = serviceBase(values.url ?? "http://127.0.0.1:8632");

  let user = values.user;
  if (user === undefined) {
    const owner = await api(`${base}/emulatorowner?printerid=${encodeURIComponent(printerId)}`);
    if (owner.success !== true || typeof owner.owner !== "string") {
      throw new Refusal(`the emulator knows no owner of printer ${printerId} (${String(owner.message ?? "")}); is it registered? Name the user with --user`, 2);
    }
    user = owner.owner as string;
  }

  const token = await emulatorUserToken(origin, user);
  const jobId = await submitAsUser(base, token, { printerId, title: values.title ?? path.basename(file), contentType, data, fileName: path.basename(file) });
  out(`job ${jobId} submitted to printer ${printerId} as ${user} (${contentType}, ${data.length} bytes)`);

  const deadline = Date.now() + Number(timeoutText) * 1000;
  let last = "";
  for (;;) {
    const answer = await api(`${base}/jobs?printerid=${encodeURIComponent(printerId)}`, { token });
    const job = Array.isArray(answer.jobs) ? answer.jobs.find((j: any) => j?.id === jobId) : undefined;
    if (!job) throw new Refusal(`job ${jobId} is gone from the service (deleted?)`);
    const state = job.semanticState?.state ?? {};
    const type = String(state.type ?? "UNKNOWN");
    const pages = job.semanticState?.pages_printed;
    const line = `state ${type}${pages !== undefined ? `, ${pages} page(s) printed` : ""}${type === "ABORTED" ? ` (${JSON.stringify(state)})` : ""}`;
    if (line !== last) out(line);
    last = line;
    if (type === "DONE") return 0;
    if (type === "ABORTED") return 1;
    if (Date.now() >= deadline) {
      writeSync(2, `cloud submit: job ${jobId} is still ${type} after ${timeoutText} s (is the printer on and connected?)\n`);
      return 3;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
