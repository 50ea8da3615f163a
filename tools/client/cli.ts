#!/usr/bin/env node
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { claimAsUser, UserActionError } from "../cloud/as-user.js";
import { discover } from "./discover.js";
import { HttpFailure, PrivetClient, PrivetError } from "./privet-client.js";
import { settingsFromCdd, toPwg } from "./convert.js";

// Exit codes a script can act on.
const EXIT = { ok: 0, jobFailed: 1, usage: 2, unreachable: 3, refused: 4, conversion: 5 } as const;

const USAGE = `privet: a reference Privet client

Usage: npm run privet -- COMMAND [options]

Commands:
  discover              list Privet printers found with mDNS
  info                  show /privet/info
  caps                  show /privet/capabilities
  print FILE            print a PWG raster, PDF, PostScript, PNG or JPEG file and wait for it
  status JOB_ID         show /privet/printer/jobstate
  register              register the printer with its Cloud Print service for --user: start,
                        wait for OK on the printer, claim, complete
  accesstoken           show /privet/accesstoken for --user

Options:
  --printer URL         the printer (default http://127.0.0.1:8631, or the only one discovered
                        when --discover is given)
  --discover            use the printer found by mDNS (the first, or the one named by --name)
  --name TEXT           with --discover: the printer's instance name
  --interface ADDR      IPv4 address of the interface for mDNS (default 127.0.0.1)
  --job-name TEXT       name of the print job (default: the file name)
  --no-wait             do not wait for the job to finish
  --user EMAIL          register, accesstoken: the user's email address
  --auto-claim          register: claim through automated_claim_url with a user token from
                        the emulator's sign-in grant (without it: open claim_url yourself)
  --json                print raw JSON
  -h, --help            show this help

Exit codes: 0 done, 1 the job was aborted, 2 usage, 3 printer unreachable or not found,
4 the printer refused, 5 the document could not be converted.
`;

function die(code: number, message: string): never {
  process.stderr.write(`privet: ${message}\n`);
  process.exit(code);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      printer: { type: "string" },
      discover: { type: "boolean" },
      name: { type: "string" },
      interface: { type: "string" },
      "job-name": { type: "string" },
      "no-wait": { type: "boolean" },
      json: { type: "boolean" },
      user: { type: "string" },
      "auto-claim": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
} catch (error) {
  die(EXIT.usage, `${(error as Error).message}\n\n${USAGE}`);
}
const { values, positionals } = parsed;
if (values.help || positionals.length === 0) {
  process.stdout.write(USAGE);
  process.exit(values.help ? 0 : EXIT.usage);
}
const [command, argument] = positionals;
const interfaceAddress = values.interface ?? "127.0.0.1";

async function printerUrl(): Promise<string> {
  if (values.printer) return values.printer;
  if (!values.discover) return "http://127.0.0.1:8631";
  const found = (await discover({ interfaceAddress })).filter((p) => !values.name || p.instance === values.name);
  if (found.length === 0) die(EXIT.unreachable, `no Privet printer${values.name ? ` named "${values.name}"` : ""} answered on ${interfaceAddress}`);
  return `http://${found[0].address}:${found[0].port}`;
}

function progressBar(sent: number, total: number, started: number): void {
  if (!process.stderr.isTTY && sent !== total) return;
  const width = 30;
  const filled = Math.round((sent / total) * width);
  const seconds = (performance.now() - started) / 1000;
  const rate = seconds > 0 ? sent / seconds / 1048576 : 0;
  process.stderr.write(`\ruploading [${"#".repeat(filled)}${".".repeat(width - filled)}] ${Math.floor((sent / total) * 100)}% ${(sent / 1048576).toFixed(1)} MB ${rate.toFixed(1)} MB/s${sent === total ? "\n" : ""}`);
}

function show(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

async function main(): Promise<number> {
  if (command === "discover") {
    const found = await discover({ interfaceAddress });
    if (values.json) show(found);
    else if (found.length === 0) process.stdout.write(`no Privet printers answered on ${interfaceAddress}\n`);
    else for (const p of found) process.stdout.write(`${p.instance}\t${p.address}:${p.port}\tid=${p.txt.id ?? ""}\tcs=${p.txt.cs ?? ""}\n`);
    return found.length > 0 ? EXIT.ok : EXIT.unreachable;
  }
  const client = new PrivetClient({ baseUrl: await printerUrl(), log: (m) => process.stderr.write(`privet: ${m}\n`) });
  if (command === "info") { show(await client.info()); return EXIT.ok; }
  if (command === "caps") { show(await client.capabilities()); return EXIT.ok; }
  if (command === "status") {
    if (!argument) die(EXIT.usage, "status needs a job id");
    show(await client.jobState(argument));
    return EXIT.ok;
  }
  if (command === "accesstoken") {
    if (!values.user) die(EXIT.usage, "accesstoken needs --user EMAIL");
    show(await client.accessToken(values.user));
    return EXIT.ok;
  }
  if (command === "register") {
    const user = values.user;
    if (!user) die(EXIT.usage, "register needs --user EMAIL");
    const serviceUrl = String((await client.info()).url ?? "");
    let shownWait = false;
    const done = await client.registerWith(user, {
      waiting: (secondsLeft) => {
        if (!shownWait) process.stderr.write("privet: press OK on the printer to confirm (type ok in the simulator's console)\n");
        shownWait = true;
        process.stderr.write(`\rprivet: waiting for OK on the printer, ${secondsLeft} s left  `);
      },
      claim: async (answer) => {
        if (shownWait) process.stderr.write("\n");
        if (values["auto-claim"]) return claimAutomatically(serviceUrl, user, String(answer.automated_claim_url ?? ""));
        process.stdout.write(`Open ${String(answer.claim_url)} signed in as ${user} and claim the printer; waiting for the claim...\n`);
      },
    });
    if (values.json) show(done);
    else process.stdout.write(`registered: device id ${String(done.device_id)} for ${user}\n`);
    return EXIT.ok;
  }
  if (command === "print") {
    if (!argument) die(EXIT.usage, "print needs a file");
    if (!fs.existsSync(argument)) die(EXIT.usage, `${argument}: no such file`);
    const caps = await client.capabilities();
    let document;
    try {
      document = await toPwg(argument, settingsFromCdd(caps));
    } catch (error) {
      die(EXIT.conversion, (error as Error).message);
    }
    if (document.converted) process.stderr.write(`privet: converted ${path.basename(argument)} to PWG raster at ${settingsFromCdd(caps).dpi} dpi\n`);
    const started = performance.now();
    const { jobId, answer } = await client.print({
      file: document.file,
      jobName: values["job-name"] ?? path.basename(argument),
      onProgress: (sent, total) => progressBar(sent, total, started),
    });
    process.stderr.write(`privet: job ${jobId} accepted (${answer.job_size} bytes)\n`);
    if (values["no-wait"] || !(await client.info() as { api: string[] }).api.includes("/privet/printer/jobstate")) return EXIT.ok;
    let shown = "";
    const final = await client.waitForJob(jobId, (state) => {
      const line = `${state.state}${state.description ? ` (${state.description})` : ""}, ${(state.semantic_state as any)?.pages_printed ?? 0} page(s)`;
      if (line !== shown) process.stderr.write(`privet: job ${jobId}: ${(shown = line)}\n`);
    });
    if (values.json) show(final);
    else process.stdout.write(`job ${jobId} ${final.state}\n`);
    return final.state === "done" ? EXIT.ok : EXIT.jobFailed;
  }
  die(EXIT.usage, `unknown command "${command}"\n\n${USAGE}`);
}

// Claims as Chrome did: the user's own token on automated_claim_url. The
// emulator hands out user tokens for a name (its own grant type); a real
// service would need a real sign-in.
async function claimAutomatically(serviceUrl: string, user: string, automatedUrl: string): Promise<void> {
  try {
    await claimAsUser(new URL(serviceUrl).origin, user, automatedUrl);
  } catch (error) {
    if (error instanceof UserActionError) die(EXIT.refused, error.message);
    throw error;
  }
  process.stderr.write(`privet: claimed for ${user}\n`);
}

main().then((code) => process.exit(code), (error) => {
  if (error instanceof PrivetError) die(EXIT.refused, `the printer refused: ${error.message}`);
  if (error instanceof HttpFailure) die(EXIT.refused, `the printer answered ${error.message}`);
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ECONNREFUSED" || code === "EHOSTUNREACH" || code === "ECONNRESET" || code === "ETIMEDOUT") die(EXIT.unreachable, `cannot reach the printer (${code})`);
  die(EXIT.jobFailed, String((error as Error).message ?? error));
});
