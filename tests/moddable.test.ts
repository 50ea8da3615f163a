import test from "ava";
import { spawn, type ChildProcess } from "node:child_process";
import * as net from "node:net";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { closeAfter, get, rawRequest } from "./helpers/client.js";
import { encodeDocument, testPage } from "./helpers/pwg.js";
import { call, userToken } from "./helpers/cloud.js";
import { answersWith, startSntpServer } from "./helpers/sntp-server.js";
import { boot as bootFirmware, buildFirmware, byteCode, dnsServer, freePort, has, makeChain, mcsimMissing as missing, Instruments, ipptool, SERVER_NAME, simPort, sleep, startTlsCloud, waitFor, type Board } from "./helpers/mcsim.js";

// Builds main.ts with the Moddable SDK and runs it in mcsim. The SDK is not on
// npm, so this runs only where MODDABLE points at a built SDK; elsewhere it is
// a visible skip that says why.
//
// The build is of a test manifest (tests/helpers/mcsim.ts) that includes ours
// and adds a config: the outbound check (resolve a name through a DNS server
// of the test's, connect to an openssl s_server, TLS against a CA the test
// made with openssl), the port the printer listens on, a Preference store of
// the run's own, the emulator over TLS (HTTPS and direct-TLS XMPP, as a
// deployment) and, when
// PRIVET_XS_HEAP="chunkBytes,slots[,stackSlots]" is set, another XS heap, to
// try sizes. The committed manifest is not touched.
// IPP is checked with CUPS's ipptool (cups-ipp-utils, which .ci/run installs);
// without it that part is a skip of its own, named below, not a silent pass.
const noIpptool = !missing && !has("ipptool");
const USER = "maker@example.com";

// openssl s_server with a chain; stdin stays open so it keeps the connection.
function tlsServer(dir: string, port: number, prefix: string): { process: ChildProcess; output: () => string } {
  const child = spawn("openssl", ["s_server", "-accept", `127.0.0.1:${port}`, "-cert", `${prefix}.pem`, "-key", `${prefix}.key`, "-cert_chain", `${prefix}-ca.pem`], { cwd: dir, stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (c) => (output += c));
  child.stderr!.on("data", (c) => (output += c));
  return { process: child, output: () => output };
}

if (noIpptool) test.skip("IPP Everywhere in mcsim: Get-Printer-Attributes and a PWG Print-Job from ipptool (skipped: ipptool is not installed; Debian's cups-ipp-utils has it)", () => {});

(missing ? test.skip : test)(`the firmware builds for lin, checks a TLS server through the HAL, starts unregistered with a Preference store of its own, sets its clock by SNTP, registers with the emulator, answers /privet/info, prints a PWG job and settles a cloud job a reset cut short in mcsim${noIpptool ? "" : " and over IPP from ipptool"}${missing ? ` (skipped: ${missing})` : ""}`, async (t) => {
  t.timeout(600_000);
  // PRIVET_MC_DIR keeps the build in one folder, so repeated runs build incrementally.
  const dir = process.env.PRIVET_MC_DIR ?? mkdtempSync(path.join(tmpdir(), "privet-mc-"));
  makeChain(dir, "trusted");
  makeChain(dir, "rogue");
  const dns = await dnsServer();
  const tlsPort = await freePort();
  // The Cloud Print emulator the firmware registers with, over TLS as a
  // deployment reaches it: HTTPS for the API and direct-TLS XMPP.
  const { cloud, privetCloud } = await startTlsCloud(dir);
  // A time server on loopback: a board boots in 1970 and must set its clock
  // from the network before it may register (tokens and certificates expire).
  const sntp = await startSntpServer(answersWith(() => Date.now()));
  t.teardown(() => sntp.close());
  const heap = process.env.PRIVET_XS_HEAP;
  const SIM_PORT = await simPort();
  const firmware = buildFirmware(dir, {
    port: SIM_PORT,
    dns: { servers: [`127.0.0.1:${dns.port}`] },
    sntp: { servers: [`127.0.0.1:${sntp.port}`] },
    outboundCheck: { host: SERVER_NAME, port: tlsPort, trustAnchors: [readFileSync(path.join(dir, "trusted-ca.pem"), "utf8")], timeoutMs: 20_000 },
    cloud: privetCloud,
    // mcsim has no buttons: OK presses itself once the printer asks.
    panel: { auto: true, delayMs: 300 },
    // A trace line per socket the HAL opens and closes, to name a leak.
    debugSockets: true,
  });
  t.is(firmware.status, 0, firmware.buildLog);
  t.true(existsSync(firmware.so));
  const xsb = (folder: string) => byteCode(firmware.out, folder);
  t.log(`byte code: modules/web ${xsb("web")} B, modules/ipp ${xsb("ipp")} B, modules/jpeg ${xsb("jpeg")} B, modules/http ${xsb("http")} B, modules/privet ${xsb("privet")} B, modules/cloud ${xsb("cloud")} B`);

  const started: Board[] = [];
  const boot = () => {
    const board = bootFirmware(firmware);
    started.push(board);
    return board;
  };
  let server = tlsServer(dir, tlsPort, "trusted");
  let current = () => "";
  try {
    // Boot 1: the server's chain leads to the configured CA.
    await waitFor(server.output, "ACCEPT", 5000);
    const first = boot();
    const output = current = first.output;
    t.true(await waitFor(output, `privet: listening on port ${SIM_PORT}`, 10_000), output().slice(-1000));
    t.true(await waitFor(output, /outbound check: (TLS certificate verified|failed)/, 30_000), output().slice(-2000));
    t.regex(output(), new RegExp(`outbound check: ${SERVER_NAME.replace(/\./g, "\\.")} is 127\\.0\\.0\\.1`));
    t.deepEqual(dns.queries.slice(0, 1), [SERVER_NAME]);
    t.regex(output(), new RegExp(`outbound check: TLS certificate verified for ${SERVER_NAME.replace(/\./g, "\\.")}`));
    // The line the device wrote arrived decrypted at the server.
    t.true(await waitFor(server.output, "privet outbound check", 5000), server.output().slice(-1500));
    const cipher = /CIPHER is (\S+)/.exec(server.output())?.[1];
    // And the other way: a line typed into s_server arrives decrypted on the device.
    server.process.stdin!.write("hello from the server\n");
    t.true(await waitFor(output, "outbound check: received 22 bytes over TLS", 5000), output().slice(-1000));

    const keys = /instruments key: (.*)/.exec(output())?.[1].split(",") ?? [];
    const meter = new Instruments(output);
    const samples = (from: number) => meter.samples(from);
    const column = (rows: number[][], name: string) => meter.column(rows, name);

    // The clock first, from the loopback time server, over the SDK's UDP.
    t.true(await waitFor(output, new RegExp(`sntp: clock set from 127\\.0\\.0\\.1:${sntp.port}`), 30_000), output().replace(/instruments: .*\n/g, "").slice(-1500));
    t.true(sntp.requests.length >= 1 && sntp.requests[0].bytes[0] === 0x23, "an SNTP v4 client request reached the server");
    // Out of the box with a cloud URL: only info and register (Privet 6.1).
    // It starts unregistered: its Preference store is this run's, not one a
    // previous run left registered.
    const fresh = JSON.parse((await get(SIM_PORT, "/privet/info", { "X-Privet-Token": "\"\"" })).body);
    t.is(fresh.id, "", "unregistered at first boot: no device id");
    t.deepEqual(fresh.api, ["/privet/register"]);
    t.is(fresh.url, cloud.service.httpsBaseUrl);
    // Registration on XS: start, the (auto) panel's OK, getClaimToken, the
    // user's claim at the emulator, complete; sampled all along.
    const registrationFrom = output().length;
    const register = async (action: string) => JSON.parse((await rawRequest(SIM_PORT,
      `POST /privet/register?action=${action}&user=${encodeURIComponent(USER)} HTTP/1.1\r\nX-Privet-Token: ${fresh["x-privet-token"]}\r\nContent-Length: 0\r\n\r\n`, 30_000)).body);
    t.like(await register("start"), { action: "start", user: USER });
    let claim: any;
    for (let i = 0; i < 60; i++) {
      claim = await register("getClaimToken");
      if (claim.error !== "pending_user_action") break;
      await sleep(500);
    }
    t.truthy(claim.automated_claim_url, JSON.stringify(claim));
    t.regex(output(), /OK pressed by itself/);
    const user = await userToken(cloud.service, USER);
    t.true((await call(cloud.service, claim.automated_claim_url, {}, { encoding: "get", token: user })).json.success);
    const complete = await register("complete");
    t.truthy(complete.device_id, JSON.stringify(complete));
    // The instruments line comes once a second: take the one after complete too.
    await sleep(1200);
    const registration = samples(registrationFrom);
    t.true(registration.length >= 1, "sampled while registering");

    const info = JSON.parse((await get(SIM_PORT, "/privet/info", { "X-Privet-Token": "\"\"" })).body);
    t.is(info.version, "1.0");
    t.is(info.id, complete.device_id);
    t.true(info.api.includes("/privet/printer/submitdoc"), "local printing once registered");
    t.true(info.uptime < 120, "uptime counts from this boot");
    t.is((await get(SIM_PORT, "/privet/info")).status, 400);
    t.is((await get(SIM_PORT, "/privet/other", { "X-Privet-Token": info["x-privet-token"] })).status, 404);
    // A two-page job through the XS decoder into the null engine.
    const doc = Buffer.from(encodeDocument([testPage(600, 200, "srgb_8", 1), testPage(300, 100, "black_1", 2)]));
    const submitted = await rawRequest(SIM_PORT, Buffer.concat([Buffer.from(`POST /privet/printer/submitdoc?job_name=xs HTTP/1.1\r\nX-Privet-Token: ${info["x-privet-token"]}\r\nContent-Type: image/pwg-raster\r\nContent-Length: ${doc.length}\r\n\r\n`), doc]), 30_000);
    const job = JSON.parse(submitted.body);
    t.is(job.job_size, doc.length, submitted.body);
    const state = JSON.parse((await get(SIM_PORT, `/privet/printer/jobstate?job_id=${job.job_id}`, { "X-Privet-Token": info["x-privet-token"] })).body);
    t.like(state, { state: "done", semantic_state: { pages_printed: 2 } });
    // Device memory: the instruments line (once a second) idle, then while a
    // long job prints slowly enough to be sampled, in a heap of fixed size,
    // all with the TLS connection open.
    await sleep(2500);
    const idle = samples(0).slice(-2);
    // The printer's own page, read whole (chunked) while a job prints, on a
    // connection that closes after it, as a person's one page view.
    const pageLoads: Array<Promise<string>> = [];
    const loadPage = () => new Promise<string>((resolve) => {
      const socket = net.connect(SIM_PORT, "127.0.0.1");
      let text = "";
      socket.on("data", (c) => (text += c.toString("latin1")));
      socket.on("error", () => resolve(text));
      socket.on("close", () => resolve(text));
      socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${SIM_PORT}\r\nConnection: close\r\n\r\n`);
    });
    // Short of memory the printer answers 503 with Retry-After (Privet:
    // printer_busy); a client comes back a second later, as these do.
    const again = async <T>(ask: () => Promise<T>, refused: (answer: T) => boolean): Promise<T> => {
      let answer = await ask();
      for (let i = 0; i < 20 && refused(answer); i++) {
        await sleep(1000);
        answer = await ask();
      }
      return answer;
    };
    // Refused, a job's answer (printer_busy) comes early, before its body is all sent.
    const printJob = (pages: number, withPage = false) => again(() => sendJob(pages, withPage), (sent) => sent.answer.includes("printer_busy"));
    const sendJob = async (pages: number, withPage: boolean) => {
      // Small pages: mcsim's Linux sockets hand over 1 KB per main-loop turn.
      const body = Buffer.from(encodeDocument(Array.from({ length: pages }, (_, i) => testPage(240, 60, i % 2 ? "sgray_8" : "srgb_8", i))));
      const from = output().length;
      const socket = net.connect(SIM_PORT, "127.0.0.1");
      socket.on("error", () => {});
      let answer = "";
      socket.on("data", (c) => (answer += c));
      socket.write(`POST /privet/printer/submitdoc HTTP/1.1\r\nX-Privet-Token: ${info["x-privet-token"]}\r\nContent-Type: image/pwg-raster\r\nContent-Length: ${body.length}\r\n\r\n`);
      // About four seconds of sending, so several instruments lines fall inside the job.
      const step = Math.ceil(body.length / 40);
      for (let o = 0, n = 0; o < body.length && !answer.includes("printer_busy"); o += step, n++) {
        socket.write(body.subarray(o, o + step));
        if (withPage && n % 8 === 4) pageLoads.push(loadPage());
        await sleep(100);
      }
      for (let i = 0; i < 600 && !answer.includes("job_id") && !answer.includes("printer_busy"); i++) await sleep(100);
      socket.destroy();
      return { answer, rows: samples(from), bytes: body.length };
    };
    const short = await printJob(4);
    const long = await printJob(16);
    t.regex(short.answer, /"job_id"/);
    t.regex(long.answer, /"job_id"/);
    t.false(output().includes("outbound check: connection closed"), "the TLS connection stayed open while printing");
    t.false(output().includes("memory full"), output().slice(-1000));
    // "used" counts garbage until XS collects, so the peak sits near the
    // limit; the lowest sample is an upper bound on what is live.
    const figures = (rows: number[][]) => meter.figures(rows);
    const all = samples(0);
    t.log(`XS heap in mcsim: chunks ${all[0][keys.indexOf("Chunk available")]} B, slots ${all[0][keys.indexOf("Slot available")]} B (${heap ? `PRIVET_XS_HEAP=${heap}` : "manifest"}); port ${SIM_PORT}; TLS ${cipher ?? "?"} to 127.0.0.1 open throughout`);
    t.log(`registering (start to complete, ${registration.length} samples): ${figures(registration)}`);
    t.log(`idle, registered: ${figures(idle)}`);
    t.log(`printing 4 pages (${(short.bytes / 1024).toFixed(0)} KB): ${figures(short.rows)}`);
    t.log(`printing 16 pages (${(long.bytes / 1024).toFixed(0)} KB): ${figures(long.rows)}`);
    t.true(long.rows.length >= 3, "sampled while printing");


    // A cloud job on XS: the channel online over XMPP, a PWG document
    // submitted on the emulator, pushed, fetched, downloaded and printed.
    t.true(await waitFor(output, /xmpp: online as /, 30_000), output().slice(-2000));
    t.is(JSON.parse((await get(SIM_PORT, "/privet/info", { "X-Privet-Token": "\"\"" })).body).connection_state, "online");
    const cloudDoc = Buffer.from(encodeDocument(Array.from({ length: 16 }, (_, i) => testPage(240, 60, i % 2 ? "sgray_8" : "srgb_8", 40 + i))));
    const cloudFrom = output().length;
    const sent = await call(cloud.service, "submit", { printerid: complete.device_id, title: "from the cloud", contentType: "image/pwg-raster" }, {
      encoding: "multipart", token: user, files: [{ name: "content", filename: "cloud.pwg", contentType: "image/pwg-raster", data: cloudDoc }],
    });
    t.true(sent.json?.success, sent.text);
    const cloudId: string = sent.json.job.id;
    const startedAt = Date.now();
    let cloudJob: any;
    for (let i = 0; i < 600; i++) {
      cloudJob = (await call(cloud.service, "jobs", { printerid: complete.device_id }, { token: user })).json.jobs.find((j: any) => j.id === cloudId);
      const type = cloudJob?.semanticState?.state?.type;
      if (type === "DONE" || type === "ABORTED" || output().includes("memory full")) break;
      await sleep(100);
    }
    const cloudSeconds = (Date.now() - startedAt) / 1000;
    t.is(cloudJob?.semanticState?.state?.type, "DONE", JSON.stringify(cloudJob?.semanticState));
    t.is(cloudJob?.semanticState?.pages_printed, 16);
    const localId = new RegExp(`cloud job ${cloudId}: printing as job (\\w+)`).exec(output())?.[1];
    t.truthy(localId, output().slice(cloudFrom).replace(/instruments: .*\n/g, "").slice(-1500));
    t.regex(output(), new RegExp(`job ${localId}: done, 16 page\\(s\\) printed`));
    await sleep(1200);
    const cloudRows = samples(cloudFrom);
    t.true(cloudRows.length >= 1, "sampled during the cloud job");
    t.false(output().includes("memory full"), output().slice(-1000));
    t.log(`cloud job over XMPP, 16 pages (${(cloudDoc.length / 1024).toFixed(0)} KB), DONE on the service ${cloudSeconds.toFixed(1)} s after /submit (${cloudRows.length} samples): ${figures(cloudRows)}`);
    // The printer's own page while a local job prints (after the cloud job,
    // whose figures stay comparable with the runs before the pages).
    const served = await printJob(16, true);
    const pagesServed = await Promise.all(pageLoads);
    t.true(pagesServed.length >= 4);
    for (const html of pagesServed) t.true(html.startsWith("HTTP/1.1 200") && html.includes("<section id=\"jobs\">") && html.endsWith("</html>\n\r\n0\r\n\r\n"), html.slice(-300));
    t.regex(served.answer, /"job_id"/);
    t.false(output().includes("memory full"), output().slice(-1000));
    t.log(`printing 16 pages while serving / ${pagesServed.length} times (${pagesServed[0].length} B on the wire each): ${figures(served.rows)}`);

    // IPP Everywhere on XS: CUPS's ipptool asks for the printer's attributes,
    // then prints a PWG document through Print-Job. (A JPEG placed on A4 at
    // 150 dpi prints in mcsim without the cloud; on this registered
    // printer's heap it is refused busy while its decoder's room is not
    // there: see the README's memory gate.)
    if (!noIpptool) {
      // At once, while the cloud's report of the last job (/submit) is under
      // way, as CUPS polls throughout: the two must fit the heap together.
      const servedId = /"job_id"\s*:\s*"(\w+)"/.exec(served.answer)?.[1];
      const reportedAlready = new RegExp(`local job ${servedId} reported as`).test(output());
      const uri = `ipp://127.0.0.1:${SIM_PORT}/ipp/print`;
      // A printer short of memory answers server-error-busy; CUPS asks again.
      const askedUntilServed = (args: string[]) => again(() => ipptool(args), (r) => r.code !== 0 && r.out.includes("server-error-busy"));
      const attributes = await askedUntilServed(["-t", uri, "get-printer-attributes.test"]);
      t.is(attributes.code, 0, attributes.out);
      t.true(await waitFor(output, new RegExp(`local job ${servedId} reported as`), 30_000), output().replace(/instruments: .*\n/g, "").slice(-1500));
      t.log(`IPP began ${reportedAlready ? "after" : "while"} the cloud report of the job before it was under way`);
      const pwgFile = path.join(dir, "ipp.pwg");
      writeFileSync(pwgFile, Buffer.from(encodeDocument(Array.from({ length: 4 }, (_, i) => testPage(240, 60, i % 2 ? "sgray_8" : "srgb_8", 80 + i)))));
      const ippFrom = output().length;
      const printed = await askedUntilServed(["-t", "-f", pwgFile, "-d", "filetype=image/pwg-raster", uri, "print-job.test"]);
      t.is(printed.code, 0, printed.out);
      t.true(await waitFor(output, /job \w+: done, 4 page\(s\) printed/, 60_000), output().slice(ippFrom).replace(/instruments: .*\n/g, "").slice(-1500));
      // Each local job is reported to the cloud (/submit) right after it ends.
      t.true(await waitFor(() => output().slice(ippFrom), /local job \w+ reported as/, 30_000));
      const ippRows = samples(ippFrom);
      t.false(output().includes("memory full"), output().slice(-1000));
      t.log(`IPP: Get-Printer-Attributes and a 4-page PWG Print-Job from ipptool (${ippRows.length} samples): ${figures(ippRows)}`);
    }

    // Every socket, its poll timer and what its callbacks reach must be given
    // back when a request, a job or a report ends: the board has no room for
    // a pile of them, and a socket the SDK still holds is invisible to the
    // server's connection limit. The instruments' "Network sockets" and
    // "Timers" of the idle printer after one round of a mix and after several
    // must be the same.
    // Chunks and slots "used" count garbage until XS collects: the lowest
    // sample since `from` is what bounds the live heap.
    const settled = async (what: string, from: number) => {
      // Idle means the same count for three samples in a row (connections the
      // peer just closed are noticed on the SDK's next poll).
      let rows: number[][] = [];
      for (let i = 0; i < 40; i++) {
        await sleep(1000);
        rows = samples(0).slice(-3);
        const same = (name: string) => new Set(column(rows, name)).size === 1;
        if (rows.length === 3 && same("Network sockets") && same("Timers")) break;
      }
      const last = rows[rows.length - 1];
      const value = (name: string) => last[keys.indexOf(name)];
      const since = samples(from);
      const low = (name: string) => Math.min(...column(since, name));
      const reading = { sockets: value("Network sockets"), timers: value("Timers"), chunks: low("Chunk used"), slots: low("Slot used") };
      t.log(`${what}: Network sockets ${reading.sockets}, Timers ${reading.timers}; lowest since the last reading (${since.length} samples, ${column(since, "Garbage collections").reduce((a, b) => a + b, 0)} GCs): chunks ${reading.chunks} B, slots ${reading.slots} B`);
      return reading;
    };
    const is503 = (r: { status: number }) => r.status === 503;
    const token = JSON.parse((await again(() => get(SIM_PORT, "/privet/info", { "X-Privet-Token": "\"\"" }), is503)).body)["x-privet-token"];
    const smallDoc = (seed: number) => Buffer.from(encodeDocument([testPage(120, 30, "sgray_8", seed), testPage(120, 30, "srgb_8", seed + 1)]));
    const round = async (n: number) => {
      // The client closes a kept-alive connection after the answer.
      t.is((await again(() => get(SIM_PORT, "/privet/info", { "X-Privet-Token": "\"\"" }), is503)).status, 200);
      // The printer closes: the status page with Connection: close.
      t.regex(await again(() => closeAfter(SIM_PORT, `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`), (text) => text.startsWith("HTTP/1.1 503")), /^HTTP\/1\.1 200/);
      // A refused request (no token).
      t.is((await again(() => get(SIM_PORT, "/privet/info"), is503)).status, 400);
      // A client that connects and goes away without a word.
      await closeAfter(SIM_PORT, "", 300);
      // A client that goes away in the middle of its head.
      await closeAfter(SIM_PORT, `GET /privet/info HTTP/1.1\r\nX-Priv`, 300);
      // A local job, which the printer then reports to the cloud (outbound HTTP).
      const doc = smallDoc(100 + n * 2);
      const from = output().length;
      const local = JSON.parse((await again(() => rawRequest(SIM_PORT, Buffer.concat([Buffer.from(`POST /privet/printer/submitdoc?job_name=mix${n} HTTP/1.1\r\nX-Privet-Token: ${token}\r\nContent-Type: image/pwg-raster\r\nContent-Length: ${doc.length}\r\n\r\n`), doc]), 30_000),
        (r) => r.body.includes("printer_busy"))).body);
      t.truthy(local.job_id, JSON.stringify(local));
      t.true(await waitFor(() => output().slice(from), new RegExp(`local job ${local.job_id} reported as`), 30_000), output().slice(from).replace(/instruments: .*\n/g, "").slice(-1500));
      // A cloud job: pushed over XMPP, fetched, downloaded and its states reported.
      const sentMix = await call(cloud.service, "submit", { printerid: complete.device_id, title: `mix ${n}`, contentType: "image/pwg-raster" }, {
        encoding: "multipart", token: user, files: [{ name: "content", filename: "mix.pwg", contentType: "image/pwg-raster", data: smallDoc(200 + n * 2) }],
      });
      t.true(sentMix.json?.success, sentMix.text);
      let state = "";
      for (let i = 0; i < 600 && state !== "DONE" && state !== "ABORTED"; i++) {
        await sleep(100);
        state = (await call(cloud.service, "jobs", { printerid: complete.device_id }, { token: user })).json.jobs.find((j: any) => j.id === sentMix.json.job.id)?.semanticState?.state?.type ?? "";
      }
      t.is(state, "DONE");
    };
    // 7 requests or jobs a round: 105 in all, as issue 20 asks (over 100).
    const ROUNDS = 15;
    let mark = output().length;
    const before = await settled("registered, idle, before the mix", mark);
    mark = output().length;
    await round(0);
    const once = await settled("after one round of the mix (7 requests and jobs)", mark);
    mark = output().length;
    for (let n = 1; n < ROUNDS; n++) await round(n);
    const after = await settled(`after ${ROUNDS} rounds (${ROUNDS * 7} requests and jobs)`, mark);
    t.false(output().includes("memory full"), output().slice(-1000));
    const held = [...output().matchAll(/tcp: #(\d+) (open [^\n]*|closed [^\n]*)/g)].reduce((open, m) => {
      if (m[2].startsWith("open")) open.set(m[1], m[2]); else open.delete(m[1]);
      return open;
    }, new Map<string, string>());
    t.log(`sockets the HAL opened and has not closed: ${[...held].map(([id, what]) => `#${id} ${what}`).join("; ") || "none"}`);
    t.is(after.sockets, once.sockets, "Network sockets grow with the number of requests and jobs");
    // A timer or two come and go with the printer's own schedule (the XMPP
    // ping, a finished job's expiry; seen as 7 -> 6 and 6 -> 7 between
    // readings): one either way is that, a timer kept per request or job
    // would be fourteen more after the fourteen rounds since the first reading.
    t.true(after.timers <= once.timers + 1, `Timers grow with the number of requests and jobs: ${once.timers} after one round, ${after.timers} after ${ROUNDS}`);
    t.true(once.sockets <= before.sockets, `one round of the mix left ${once.sockets - before.sockets} socket(s) open`);
    // A reset in the middle of a cloud job, as a power cut would stop the
    // board: the job in hand is in the journal, so the next boot tells the
    // service it was cut short (ABORTED, the restart named) instead of
    // leaving it IN_PROGRESS for ever.
    const cutDoc = Buffer.from(encodeDocument(Array.from({ length: 64 }, (_, i) => testPage(240, 60, "sgray_8", 90 + i))));
    const cutFrom = output().length;
    const cut = await call(cloud.service, "submit", { printerid: complete.device_id, title: "cut by a reset", contentType: "image/pwg-raster" }, {
      encoding: "multipart", token: user, files: [{ name: "content", filename: "cut.pwg", contentType: "image/pwg-raster", data: cutDoc }],
    });
    t.true(cut.json?.success, cut.text);
    const cutId: string = cut.json.job.id;
    t.true(await waitFor(() => output().slice(cutFrom), new RegExp(`cloud job ${cutId}: printing as job`), 30_000), output().slice(cutFrom).replace(/instruments: .*\n/g, "").slice(-1500));
    first.stop("SIGKILL");
    const cutState = async () => (await call(cloud.service, "jobs", { printerid: complete.device_id }, { token: user })).json.jobs.find((j: any) => j.id === cutId);
    t.not((await cutState())?.semanticState?.state?.type, "DONE", "the reset came before the job was done");
    server.process.kill();

    // Boot 2: the same name, but a chain from a CA nobody configured.
    await sleep(500);
    server = tlsServer(dir, tlsPort, "rogue");
    await waitFor(server.output, "ACCEPT", 5000);
    const second = boot();
    current = second.output;
    t.true(await waitFor(second.output, /outbound check: (TLS certificate verified|failed)/, 30_000), second.output().slice(-2000));
    t.regex(second.output(), /outbound check: failed: TLS handshake: certificate: auth err/);
    t.false(server.output().includes("privet outbound check"), "nothing was sent to the untrusted server");
    // The printer itself is unaffected.
    t.is(JSON.parse((await get(SIM_PORT, "/privet/info", { "X-Privet-Token": "\"\"" })).body).version, "1.0");
    // And the job the reset cut short is settled with the service.
    t.true(await waitFor(second.output, new RegExp(`cloud job ${cutId}: interrupted by a restart; reported ABORTED`), 60_000), second.output().replace(/instruments: .*\n/g, "").slice(-1500));
    const cutAfter = await cutState();
    t.deepEqual(cutAfter?.semanticState?.state, { type: "ABORTED", device_action_cause: { error_code: "OTHER" } });
    t.regex(cutAfter?.message ?? "", /restarted/);
  } catch (error) {
    t.log(`mcsim said:\n${current().replace(/instruments: .*\n/g, "").slice(-3000)}`);
    t.log(`last heap readings:\n${(current().match(/instruments: .*\n/g) ?? []).slice(-3).join("")}`);
    throw error;
  } finally {
    for (const board of started) board.stop();
    server.process.kill();
    dns.close();
    await cloud.service.close();
  }
});
