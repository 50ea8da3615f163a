import test from "ava";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { run, which } from "./helpers/peers.js";
import { call, startTestCloud, userToken } from "./helpers/cloud.js";

// A second, independent client: Python 3 written from seed 000's samples (its own multipart
// encoder, the GoogleLogin header, the samples' text-search Validate) against the emulator.

const client = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "tests", "peers", "cloudprint_client.py");
const PDF = Buffer.from("%PDF-1.4\n% a tiny document\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n");
// Binary on purpose: CR, LF, dashes and high bytes inside a file part.
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from("\r\n--not-a-boundary\r\n"), Buffer.from([0, 255, 13, 10])]);

function files() {
  const dir = mkdtempSync(path.join(tmpdir(), "cloud-python-"));
  writeFileSync(path.join(dir, "doc.pdf"), PDF);
  writeFileSync(path.join(dir, "page.png"), PNG);
  return { pdf: path.join(dir, "doc.pdf"), png: path.join(dir, "page.png") };
}

test("the Python samples' flow: anonymous register, claim, poll, search, list, submit PDF and PNG, jobs, fetch, delete", async (t) => {
  const python = which("python3");
  if (!python) { t.fail("python3 is not installed (CI installs it: .ci/run)"); return; }
  const cloud = await startTestCloud();
  const { service } = cloud;
  t.teardown(() => service.close());
  const { pdf, png } = files();
  const result = await run(python, [client, "--base", service.baseUrl, "--token-url", service.tokenUrl, "--email", "py@example.com", "--pdf", pdf, "--png", png], 30_000);
  t.is(result.code, 0, result.stderr);
  const seen = JSON.parse(result.stdout);
  const id = seen.printer_id;
  t.true(seen.register_valid, "the samples' text search finds \"success\": true in our answer");
  t.is(seen.token_duration, "900");
  t.false(seen.poll_before_claim);
  t.true(seen.claim_valid);
  t.true(seen.authorization_code);
  t.is(seen.user_email, "py@example.com");
  t.is(seen.query_id, id);
  t.deepEqual(seen.list, { [id]: { name: "SelfRegPrinterName", proxy: "SelfRegProxy" } });
  t.deepEqual(seen.search, seen.list);
  t.true(seen.pdf_submit_valid);
  t.true(seen.png_submit_valid);
  t.is(seen.pdf_message, "Print job added.");
  t.deepEqual(seen.jobs, { [seen.pdf_job]: id, [seen.png_job]: id });
  t.deepEqual(seen.fetch, seen.jobs);
  t.true(seen.delete_valid);
  t.deepEqual(seen.search_after_delete, {});
  t.false(seen.delete_again_valid, "a deleted printer cannot be deleted twice");
  t.deepEqual(cloud.pushes.map((p) => p.payload), [id, id, `${id}/delete`]);
});

test("what the Python client submitted is stored byte for byte: a data: URL PDF and a binary PNG file part", async (t) => {
  const python = which("python3");
  if (!python) { t.fail("python3 is not installed (CI installs it: .ci/run)"); return; }
  const { service } = await startTestCloud();
  t.teardown(() => service.close());
  const { pdf, png } = files();
  const result = await run(python, [client, "--base", service.baseUrl, "--token-url", service.tokenUrl, "--email", "bytes@example.com", "--pdf", pdf, "--png", png, "--keep"], 30_000);
  t.is(result.code, 0, result.stderr);
  const seen = JSON.parse(result.stdout);
  const token = await userToken(service, "bytes@example.com");
  const jobs = (await call(service, "jobs", { printerid: seen.printer_id }, { token })).json.jobs as Array<{ id: string; contentType: string; fileUrl: string }>;
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const expect: Array<[string, string, Buffer]> = [[seen.pdf_job, "application/pdf", PDF], [seen.png_job, "image/png", PNG]];
  for (const [jobId, type, bytes] of expect) {
    const job = byId.get(jobId)!;
    t.is(job.contentType, type);
    // Accept names the type, so the stored bytes come back rather than a conversion for the PWG-only CDD.
    const file = await fetch(job.fileUrl, { headers: { Authorization: `OAuth ${token}`, "X-CloudPrint-Proxy": "t", Accept: type } });
    t.is(file.status, 200);
    t.deepEqual(Buffer.from(await file.arrayBuffer()), bytes, type);
  }
});

test("the Python client as a connector: createrobot without HTTP Basic, register as the robot, share, unshare, the legacy ticketUrl, fcm/subscribe", async (t) => {
  const python = which("python3");
  if (!python) { t.fail("python3 is not installed (CI installs it: .ci/run)"); return; }
  const { service } = await startTestCloud();
  t.teardown(() => service.close());
  const { pdf, png } = files();
  const result = await run(python, [client, "--connector", "--base", service.baseUrl, "--token-url", service.tokenUrl, "--email", "conn@example.com", "--friend", "pal@example.com", "--pdf", pdf, "--png", png], 30_000);
  t.is(result.code, 0, result.stderr);
  const seen = JSON.parse(result.stdout);
  t.regex(seen.robot_jid, /@cloudprint\.googleusercontent\.com$/);
  t.is(seen.robot_token_type, "Bearer");
  t.true(seen.robot_refresh);
  t.is(seen.registered_owner, "conn@example.com");
  t.is(seen.registration_token, null, "owned at once: nothing to claim");
  t.is(Object.keys(seen.connector_list).length, 1);
  t.is(seen.friend_submit_before, 403);
  t.true(seen.share_valid);
  t.deepEqual(seen.access, [["conn@example.com", "OWNER"], ["pal@example.com", "USER"]]);
  t.true(seen.friend_submit_valid);
  t.deepEqual(Object.keys(seen.friend_jobs), [seen.friend_job]);
  // The samples submit the 1.x way ({"capabilities":[]}, no CJT), and a 1.x ticket goes back as it came.
  t.deepEqual(seen.legacy_ticket, { json: true, capabilities: [] });
  t.true(seen.unshare_valid);
  t.is(seen.friend_submit_after, 403);
  t.deepEqual(seen.friend_search_after, {});
  t.is(seen.fcm[0], 404);
  t.false(seen.fcm[1]);
  t.regex(seen.fcm[2], /not supported/);
});
