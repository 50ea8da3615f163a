import test from "ava";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Operation, integer, attr, GroupTag } from "../modules/ipp-codec/values.js";
import { get, rawRequest } from "./helpers/client.js";
import { call } from "./helpers/cloud.js";
import { encodeDocument, testPage } from "./helpers/pwg.js";
import { ippRequest, send, values } from "./helpers/ipp.js";
import { answersWith, startSntpServer } from "./helpers/sntp-server.js";
import { boot, buildFirmware, dnsServer, has, Instruments, ipptool, mcsimMissing, registerBoard, simPort, sleep, startTlsCloud, waitFor, type Board } from "./helpers/mcsim.js";

// Every front end at once on the board's fixed heap (issue 20): the app in
// mcsim at the manifest's heap, registered with the emulator over TLS (HTTPS
// calls, direct-TLS XMPP) as a deployment is, then for every round, all at
// the same time: a 16-page cloud job pushed over XMPP and downloaded; an
// ipptool Print-Job of 4 PWG pages and one of a JPEG photo on A4; a Privet
// createjob + submitdoc; and throughout, Get-Printer-Attributes every 500 ms
// (as CUPS polls), the status page every second and /privet/info every
// 200 ms. Each round one of the four jobs, in turn, starts 1.5 s ahead.
// The printer takes one job at a time, and on a short heap it refuses what
// it has no room for: a front end that finds it busy is refused in its
// protocol's words (IPP server-error-busy, which ipptool's job sends again
// up to 8 times as CUPS would; Privet printer_busy; HTTP 503) or, for the
// cloud, finds its job left QUEUED to print later. It passes when nothing aborts, every accepted job ends DONE
// with all its pages, every refusal is a protocol answer, and the lowest
// chunks and slots seen in a round do not grow from round to round.
//
// PRIVET_STORM_ROUNDS (default 10), PRIVET_MC_DIR, PRIVET_SIM_PORT and
// PRIVET_XS_HEAP as for tests/moddable.test.ts.

const noIpptool = !has("ipptool") ? "ipptool is not installed (Debian's cups-ipp-utils)" : "";
const noCjpeg = !has("cjpeg") ? "cjpeg is not installed (Debian's libjpeg-turbo-progs)" : "";
const missing = mcsimMissing || noIpptool || noCjpeg;
const ROUNDS = Number(process.env.PRIVET_STORM_ROUNDS ?? 10);
const USER = "storm@example.com";
const BUSY = 0x0507;
const TICKET = JSON.stringify({ version: "1.0", print: {} });
// How far the round's leading job starts ahead of the others.
const LEAD_MS = 1500;
// An IPP job refused busy is sent again, as CUPS would: this often, this many times.
const IPP_RETRY_MS = 2000;
const IPP_ATTEMPTS = 8;

// ipptool's Print-Job that takes either answer a printer may give: the job,
// or server-error-busy while another prints.
function printJobTest(dir: string, name: string, format: string, extra: string): string {
  const file = path.join(dir, `${name}.test`);
  writeFileSync(file, `{
  NAME "${name}"
  OPERATION Print-Job
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR name requesting-user-name storm
  ATTR name job-name ${name}
  ATTR mimeMediaType document-format ${format}
  GROUP job-attributes-tag
${extra}
  FILE $filename
  STATUS successful-ok
  STATUS server-error-busy
  DISPLAY job-id
}
`);
  return file;
}

// A photo-like picture (gradients, a disc, edges) as a 4:2:0 baseline JPEG.
function makePhoto(dir: string, width: number, height: number): string {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const inDisc = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (height / 3) ** 2;
      pixels[o] = inDisc ? 230 : (x * 255 / width) | 0;
      pixels[o + 1] = inDisc ? 180 - ((y * 120 / height) | 0) : (y * 255 / height) | 0;
      pixels[o + 2] = ((x ^ y) & 32) ? 200 : 60;
    }
  }
  const ppm = path.join(dir, "photo.ppm"), jpeg = path.join(dir, "photo.jpg");
  writeFileSync(ppm, Buffer.concat([Buffer.from(`P6\n${width} ${height}\n255\n`), pixels]));
  const made = spawnSync("cjpeg", ["-quality", "85", "-sample", "2x2", "-outfile", jpeg, ppm], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(`cjpeg: ${made.stderr}`);
  return jpeg;
}

// GET / with Connection: close, everything up to the printer's close.
function wholePage(port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let text = "";
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`the status page took over ${timeoutMs} ms: ${text.length} bytes so far`)); }, timeoutMs);
    socket.on("data", (c) => (text += c.toString("utf8")));
    socket.on("error", (error) => { clearTimeout(timer); reject(error); });
    socket.on("close", () => { clearTimeout(timer); resolve(text); });
    socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
  });
}

interface Tally { ok: number; refused: number; failed: string[] }
const tally = (): Tally => ({ ok: 0, refused: 0, failed: [] });

(missing ? test.skip : test)(`storm in mcsim at the manifest's heap: cloud, IPP (PWG and JPEG), Privet and the pages at once, ${ROUNDS} rounds, registered over TLS${missing ? ` (skipped: ${missing})` : ""}`, async (t) => {
  t.timeout(3_600_000);
  const dir = process.env.PRIVET_MC_DIR ?? mkdtempSync(path.join(tmpdir(), "privet-storm-"));
  const dns = await dnsServer();
  t.teardown(() => dns.close());
  const { cloud, privetCloud } = await startTlsCloud(dir);
  t.teardown(() => cloud.service.close());
  const sntp = await startSntpServer(answersWith(() => Date.now()));
  t.teardown(() => sntp.close());
  const port = await simPort();
  const firmware = buildFirmware(dir, {
    port,
    dns: { servers: [`127.0.0.1:${dns.port}`] },
    sntp: { servers: [`127.0.0.1:${sntp.port}`] },
    cloud: privetCloud,
    panel: { auto: true, delayMs: 300 },
  });
  t.is(firmware.status, 0, firmware.buildLog);
  t.true(existsSync(firmware.so));
  const board: Board = boot(firmware);
  t.teardown(() => board.stop());
  const output = board.output;
  const quiet = () => output().replace(/instruments: .*\n/g, "").slice(-2500);
  const meter = new Instruments(output);
  const aborted = () => /memory full|XS abort|stack overflow/.test(output());
  try {
    t.true(await waitFor(output, `privet: listening on port ${port}`, 20_000), quiet());
    t.true(await waitFor(output, /sntp: clock set/, 30_000), quiet());
    const { deviceId, userToken } = await registerBoard(port, cloud, USER);
    t.true(await waitFor(output, /xmpp: online as /, 60_000), quiet());
    // A printer short of memory answers 503 with Retry-After: a client comes back.
    let info = await get(port, "/privet/info", { "X-Privet-Token": "\"\"" });
    for (let i = 0; i < 40 && info.status === 503; i++) {
      await sleep(1000 * Number(info.headers["retry-after"] ?? 1));
      info = await get(port, "/privet/info", { "X-Privet-Token": "\"\"" });
    }
    const token = JSON.parse(info.body)["x-privet-token"];
    const uri = `ipp://127.0.0.1:${port}/ipp/print`;

    // The polls, each in a loop of its own until the rounds end.
    let storming = true;
    const polls = { info: tally(), page: tally(), attributes: tally() };
    const poll = async (every: number, what: Tally, once: () => Promise<"ok" | "refused" | string>) => {
      while (storming && !aborted()) {
        try {
          const verdict = await once();
          if (verdict === "ok") what.ok++;
          else if (verdict === "refused") what.refused++;
          else what.failed.push(verdict);
        } catch (error) {
          what.failed.push(String(error));
        }
        await sleep(every);
      }
    };
    // 503 with Retry-After is the server's polite "not now".
    const httpVerdict = (status: number, headers: Record<string, string>, body: string) =>
      status === 200 ? "ok" : status === 503 && headers["retry-after"] ? "refused" : `HTTP ${status}: ${body.slice(0, 200)}`;
    const pollers = [
      poll(200, polls.info, async () => {
        const r = await rawRequest(port, `GET /privet/info HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Privet-Token: ""\r\n\r\n`, 20_000);
        return httpVerdict(r.status, r.headers, r.body);
      }),
      // Read whole, as a browser does, to the printer's close.
      poll(1000, polls.page, async () => {
        const text = await wholePage(port, 20_000);
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
        if (status === 200 && !/<\/html>/i.test(text)) return `the status page came cut short: ${text.length} bytes`;
        return httpVerdict(status, { "retry-after": /\r\nretry-after: *(\d+)/i.exec(text)?.[1] ?? "" }, text.slice(-200));
      }),
      poll(500, polls.attributes, async () => {
        const answer = await send(port, ippRequest(Operation.getPrinterAttributes, port), undefined, { timeoutMs: 60_000 });
        return answer.code === 0 ? "ok" : answer.code === BUSY ? "refused" : `IPP status 0x${answer.code.toString(16)}`;
      }),
    ];

    const pwgTest = printJobTest(dir, "storm-pwg", "image/pwg-raster", "");
    const jpegTest = printJobTest(dir, "storm-jpeg", "image/jpeg", "  ATTR keyword print-scaling fit\n  ATTR resolution printer-resolution 150dpi\n  ATTR keyword media iso_a4_210x297mm");
    const photo = makePhoto(dir, 800, 600);
    const jobs = { cloud: tally(), pwg: tally(), jpeg: tally(), privet: tally() };
    // An IPP job that was accepted must end completed (9) with all its pages.
    const ippDone = async (id: number, pages: number) => {
      for (let i = 0; i < 1200 && !aborted(); i++) {
        const answer = await send(port, ippRequest(Operation.getJobAttributes, port, [attr("job-id", integer(id))]), undefined, { timeoutMs: 20_000 });
        const state = values(answer, GroupTag.job, "job-state")[0];
        if (state === 9) return values(answer, GroupTag.job, "job-impressions-completed")[0] === pages ? "" : `job ${id} completed with ${values(answer, GroupTag.job, "job-impressions-completed")[0]} of ${pages} pages`;
        if (state === 7 || state === 8) return `job ${id} ended in state ${state}`;
        await sleep(250);
      }
      return `job ${id} did not complete`;
    };
    // As CUPS does, a Print-Job answered server-error-busy is sent again a
    // little later, a bounded number of times within its round.
    const ippJob = async (what: Tally, test: string, file: string, format: string, pages: number) => {
      for (let attempt = 0; attempt < IPP_ATTEMPTS && !aborted(); attempt++) {
        if (attempt > 0) await sleep(IPP_RETRY_MS);
        const r = await ipptool(["-d", `filename=${file}`, "-d", `filetype=${format}`, uri, test]);
        // The test passes only for the two statuses; DISPLAY prints the job-id column, empty when busy.
        if (r.code !== 0) { what.failed.push(r.out.slice(-600)); return; }
        const id = /job-id\s*\n-+\s*\n\s*(\d+)/.exec(r.out)?.[1];
        if (!id) { what.refused++; continue; }
        const verdict = await ippDone(Number(id), pages);
        if (verdict) what.failed.push(verdict); else what.ok++;
        return;
      }
    };
    const privetJob = async (n: number) => {
      const created = JSON.parse((await rawRequest(port, `POST /privet/printer/createjob HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Privet-Token: ${token}\r\nContent-Type: application/json\r\nContent-Length: ${TICKET.length}\r\n\r\n${TICKET}`, 30_000)).body);
      if (created.error === "printer_busy") { jobs.privet.refused++; return; }
      if (!created.job_id) { jobs.privet.failed.push(`createjob: ${JSON.stringify(created)}`); return; }
      const doc = Buffer.from(encodeDocument([testPage(240, 60, "sgray_8", 500 + n), testPage(240, 60, "srgb_8", 600 + n)]));
      const submitted = await rawRequest(port, Buffer.concat([Buffer.from(`POST /privet/printer/submitdoc?job_id=${created.job_id} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Privet-Token: ${token}\r\nContent-Type: image/pwg-raster\r\nContent-Length: ${doc.length}\r\n\r\n`), doc]), 60_000);
      const answer = JSON.parse(submitted.body);
      if (answer.error === "printer_busy") { jobs.privet.refused++; return; }
      if (!answer.job_id) { jobs.privet.failed.push(`submitdoc: ${submitted.body}`); return; }
      for (let i = 0; i < 1200 && !aborted(); i++) {
        const state = JSON.parse((await get(port, `/privet/printer/jobstate?job_id=${answer.job_id}`, { "X-Privet-Token": token })).body);
        // Asked while the heap was short: the question is turned away, not the job.
        if (state.error === "printer_busy") { await sleep(250); continue; }
        if (state.state === "done") {
          if (state.semantic_state?.pages_printed === 2) jobs.privet.ok++;
          else jobs.privet.failed.push(`privet job ${answer.job_id}: done with ${state.semantic_state?.pages_printed} pages`);
          return;
        }
        if (state.state === "aborted" || state.error) { jobs.privet.failed.push(`privet job ${answer.job_id}: ${JSON.stringify(state)}`); return; }
        await sleep(250);
      }
      jobs.privet.failed.push(`privet job ${answer.job_id} did not finish`);
    };
    const cloudJob = async (n: number) => {
      const doc = Buffer.from(encodeDocument(Array.from({ length: 16 }, (_, i) => testPage(240, 60, i % 2 ? "sgray_8" : "srgb_8", 1000 + n * 16 + i))));
      const sent = await call(cloud.service, "submit", { printerid: deviceId, title: `storm ${n}`, contentType: "image/pwg-raster" }, {
        encoding: "multipart", token: userToken, files: [{ name: "content", filename: "storm.pwg", contentType: "image/pwg-raster", data: doc }],
      });
      if (!sent.json?.success) { jobs.cloud.failed.push(sent.text); return; }
      // Left QUEUED while the printer is busy, it prints later: accepted means DONE in the end.
      for (let i = 0; i < 2400 && !aborted(); i++) {
        const job = (await call(cloud.service, "jobs", { printerid: deviceId }, { token: userToken })).json.jobs.find((j: any) => j.id === sent.json.job.id);
        const state = job?.semanticState?.state?.type;
        if (state === "DONE") {
          if (job.semanticState.pages_printed === 16) jobs.cloud.ok++;
          else jobs.cloud.failed.push(`cloud job done with ${job.semanticState.pages_printed} pages`);
          return;
        }
        if (state === "ABORTED") { jobs.cloud.failed.push(`cloud job ABORTED: ${JSON.stringify(job.semanticState)}`); return; }
        await sleep(250);
      }
      jobs.cloud.failed.push("cloud job did not finish");
    };

    const lows: Array<{ chunks: number; slots: number }> = [];
    const pwgFiles: string[] = [];
    for (let n = 0; n < ROUNDS && !aborted(); n++) {
      const pwg = path.join(dir, `storm-${n % 2}.pwg`);
      if (!pwgFiles.includes(pwg)) {
        writeFileSync(pwg, Buffer.from(encodeDocument(Array.from({ length: 4 }, (_, i) => testPage(240, 60, i % 2 ? "sgray_8" : "srgb_8", 300 + n * 4 + i)))));
        pwgFiles.push(pwg);
      }
      const from = output().length;
      // A connection the printer reset, or a request it never answered, is a failure of that job.
      const caught = (what: Tally, job: Promise<void>) => job.catch((error) => { what.failed.push(String(error)); });
      // All four at once, but one of them, in turn, a moment ahead: the
      // printer takes one job at a time, and without a lead the quickest
      // front end (the cloud's push) would take the engine every round.
      const starts: Array<() => Promise<void>> = [
        () => caught(jobs.cloud, cloudJob(n)),
        () => caught(jobs.pwg, ippJob(jobs.pwg, pwgTest, pwg, "image/pwg-raster", 4)),
        () => caught(jobs.jpeg, ippJob(jobs.jpeg, jpegTest, photo, "image/jpeg", 1)),
        () => caught(jobs.privet, privetJob(n)),
      ];
      const lead = n % starts.length;
      await Promise.all(starts.map((start, i) => (i === lead ? start() : sleep(LEAD_MS).then(start))));
      const rows = meter.samples(from);
      const chunks = meter.column(rows, "Chunk used"), slots = meter.column(rows, "Slot used");
      lows.push({ chunks: Math.min(...chunks), slots: Math.min(...slots) });
      t.log(`round ${n + 1}: ${meter.figures(rows)}; jobs so far ${JSON.stringify(Object.fromEntries(Object.entries(jobs).map(([k, v]) => [k, `${v.ok} done, ${v.refused} refused`])))}`);
    }
    storming = false;
    await Promise.all(pollers);
    t.false(aborted(), quiet());
    t.log(`polls: ${JSON.stringify(Object.fromEntries(Object.entries(polls).map(([k, v]) => [k, `${v.ok} answered, ${v.refused} refused`])))}`);
    for (const [name, what] of [...Object.entries(jobs), ...Object.entries(polls)]) {
      t.deepEqual(what.failed, [], `${name}: every answer is a job done whole or a protocol refusal`);
    }
    // Every kind of job got through at least once: refusing everything is not a pass.
    for (const [name, what] of Object.entries(jobs)) t.true(what.ok >= 1, `${name}: no job printed in ${ROUNDS} rounds`);
    t.true(polls.attributes.ok >= ROUNDS, "Get-Printer-Attributes answered");
    // No growth: the lowest figures of the last third of the rounds against the first third's.
    const third = Math.max(1, Math.floor(lows.length / 3));
    const min = (list: typeof lows, key: "chunks" | "slots") => Math.min(...list.map((l) => l[key]));
    const early = lows.slice(0, third), late = lows.slice(-third);
    t.log(`lowest per round, chunks: ${lows.map((l) => l.chunks).join(" ")}; slots: ${lows.map((l) => l.slots).join(" ")}`);
    t.true(min(late, "chunks") <= min(early, "chunks") + 4096, "chunks grow from round to round");
    t.true(min(late, "slots") <= min(early, "slots") + 2048, "slots grow from round to round");
  } catch (error) {
    // The whole output, instruments lines and all, for the figures around a failure.
    writeFileSync(path.join(dir, "mcsim.log"), output());
    t.log(`mcsim said (whole output in ${path.join(dir, "mcsim.log")}):\n${quiet()}`);
    throw error;
  }
});
