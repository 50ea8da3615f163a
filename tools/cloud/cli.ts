#!/usr/bin/env node
import { readFileSync, writeSync } from "node:fs";
import { parseArgs } from "node:util";
import { EMULATOR_USER_GRANT } from "./oauth.js";
import { DELETION_SHAPES, startCloudService } from "./service.js";
import type { DeletionShape } from "./context.js";
import type { XmppEndpoints } from "./xmpp-server.js";
import { submitCommand } from "./submit.js";

const USAGE = `cloud: a Cloud Print service emulator for Privet printers

Usage: npm run cloud -- [options]
       npm run cloud -- submit FILE --printer ID [--user EMAIL] [--url URL] [--title T]
                          (send a document to a printer; submit --help for more)

Options:
  --port N                TCP port (default 8632; 0 picks a free one)
  --host ADDR             address to listen on (default 127.0.0.1)
  --state-dir DIR         where users, printers, tokens and jobs are kept (default ./cloud-state)
  --deletion-shape SHAPE  how /printer answers for a deleted printer: success-false (Privet 4.1.5,
                          default) or empty-printers (success:true with no printers, as seen live)
  --token-lifetime S      seconds an access token lives (default 3600)
  --registration-lifetime S  seconds an anonymous registration waits for its claim (default 900)
  --no-proxy-header-check accept /cloudprint/ calls without X-CloudPrint-Proxy
  --conversion-timeout S  seconds one conversion to PWG raster may take (default 120)
  --xmpp-port N           XMPP push channel, plain text (default 5222; 0 picks a free one)
  --no-xmpp               no XMPP listener at all (pushes are only logged with --verbose)
  --tls-cert FILE --tls-key FILE
                          PEM certificate and key: adds the STARTTLS and direct-TLS XMPP listeners
  --https-port N          an HTTPS listener for the API and pages too (needs --tls-cert/--tls-key;
                          0 picks a free one); a printer given its base URL does everything over TLS
  --xmpp-starttls-port N  STARTTLS listener (default 5224; needs --tls-cert/--tls-key)
  --xmpps-port N          direct-TLS listener, as Google's connector used (default 5223; needs --tls-cert/--tls-key)
  --verbose               log every request (method, path, status), every push and each XMPP session's steps
  -h, --help              show this help
`;

function die(message: string): never {
  // Synchronous: process.exit would cut an asynchronous write to a pipe short.
  writeSync(2, `cloud: ${message}\n\n${USAGE}`);
  process.exit(2);
}

// A subcommand is a client of a running emulator, not a service; its
// output is written synchronously, so leaving at once loses none of it.
if (process.argv[2] === "submit") process.exit(await submitCommand(process.argv.slice(3)));

let values;
try {
  ({ values } = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "state-dir": { type: "string" },
      "deletion-shape": { type: "string" },
      "token-lifetime": { type: "string" },
      "registration-lifetime": { type: "string" },
      "no-proxy-header-check": { type: "boolean" },
      "conversion-timeout": { type: "string" },
      "xmpp-port": { type: "string" },
      "no-xmpp": { type: "boolean" },
      "tls-cert": { type: "string" },
      "https-port": { type: "string" },
      "tls-key": { type: "string" },
      "xmpp-starttls-port": { type: "string" },
      "xmpps-port": { type: "string" },
      verbose: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  }));
} catch (error) {
  die((error as Error).message);
}
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

function seconds(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,9}$/.test(text) || Number(text) === 0) die(`--${flag} must be a positive whole number of seconds`);
  return Number(text);
}

function portFlag(flag: string, text: string | undefined, fallback: number): number {
  const value = text ?? String(fallback);
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) die(`--${flag} must be a number from 0 to 65535`);
  return Number(value);
}

const port = portFlag("port", values.port, 8632);
const xmppPort = portFlag("xmpp-port", values["xmpp-port"], 5222);
const starttlsPort = portFlag("xmpp-starttls-port", values["xmpp-starttls-port"], 5224);
const directTlsPort = portFlag("xmpps-port", values["xmpps-port"], 5223);
if ((values["tls-cert"] === undefined) !== (values["tls-key"] === undefined)) die("--tls-cert and --tls-key go together");
if (values["tls-cert"] === undefined && (values["xmpp-starttls-port"] !== undefined || values["xmpps-port"] !== undefined)) die("the TLS listeners need --tls-cert and --tls-key");
if (values["tls-cert"] === undefined && values["https-port"] !== undefined) die("--https-port needs --tls-cert and --tls-key");
if (values["no-xmpp"] && [values["xmpp-port"], values["tls-cert"]].some((v) => v !== undefined)) die("--no-xmpp contradicts the other XMPP flags");
let tls: { key: Buffer; cert: Buffer } | undefined;
try {
  if (values["tls-cert"] !== undefined) tls = { cert: readFileSync(values["tls-cert"]), key: readFileSync(values["tls-key"]!) };
} catch (error) {
  die((error as Error).message);
}
const shape = values["deletion-shape"] ?? "success-false";
if (!DELETION_SHAPES.includes(shape as DeletionShape)) die(`--deletion-shape must be ${DELETION_SHAPES.join(" or ")}`);

try {
  const service = await startCloudService({
    host: values.host ?? "127.0.0.1",
    port,
    stateDir: values["state-dir"] ?? "./cloud-state",
    deletionShape: shape as DeletionShape,
    tokenLifetimeSeconds: seconds("token-lifetime", values["token-lifetime"]),
    registrationLifetimeSeconds: seconds("registration-lifetime", values["registration-lifetime"]),
    conversionTimeoutSeconds: seconds("conversion-timeout", values["conversion-timeout"]),
    requireProxyHeader: !values["no-proxy-header-check"],
    https: tls && values["https-port"] !== undefined ? { ...tls, port: portFlag("https-port", values["https-port"], 0) } : undefined,
    xmpp: values["no-xmpp"] ? undefined : {
      port: xmppPort, tls, starttlsPort, directTlsPort,
      onLog: values.verbose ? (line) => process.stdout.write(`${line}\n`) : undefined,
    },
    onNotify: values.verbose ? (id, payload) => process.stdout.write(`push to ${id}: ${payload}\n`) : undefined,
    onRequest: values.verbose ? (method, path, status) => process.stdout.write(`${method} ${path} ${status}\n`) : undefined,
  });
  process.stdout.write(`Cloud Print emulator listening on ${service.url}/
  Cloud Print base URL (give it to a printer): ${service.baseUrl}${service.httpsBaseUrl ? `\n  Over TLS: ${service.httpsBaseUrl}` : ""}
  OAuth token endpoint: ${service.tokenUrl}
  My printers (sign in with any email address): ${service.url}/cloudprint/printers
  State: ${values["state-dir"] ?? "./cloud-state"}
${xmppLines(service.xmpp)}
Try it:
  curl -H 'X-CloudPrint-Proxy: demo' -F name='Demo printer' -F proxy=demo ${service.baseUrl}/register
  curl -d grant_type=${EMULATOR_USER_GRANT} -d email=you@example.com ${service.tokenUrl}
`);
  const stop = () => { service.close().then(() => process.exit(0)); };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
} catch (error) {
  writeSync(2, `cloud: ${(error as Error).message}\n`);
  process.exit(1);
}

function xmppLines(x: XmppEndpoints | undefined): string {
  if (!x) return "  XMPP: off (--no-xmpp)\n";
  const lines = [`  XMPP push channel (domain ${x.domain}; SASL X-OAUTH2 with the robot's JID and access token):`, `    plain text   ${x.host}:${x.port}`];
  if (x.starttlsPort !== undefined) lines.push(`    STARTTLS     ${x.host}:${x.starttlsPort}`);
  if (x.directTlsPort !== undefined) lines.push(`    direct TLS   ${x.host}:${x.directTlsPort}`);
  return `${lines.join("\n")}\n`;
}
