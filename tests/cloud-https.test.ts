import test from "ava";
import * as tls from "node:tls";
import { constants } from "node:crypto";
import { MemoryStorage } from "../hosts/node/hal.js";
import { startTestCloud } from "./helpers/cloud.js";
import { registerPrinter, serviceJob, startCloudPrinter, submitJob, until } from "./helpers/cloud-printer.js";
import { encodeDocument, testPage } from "./helpers/pwg.js";
import { TestEngine } from "./helpers/test-engine.js";
import { testCertificate } from "./helpers/xmpp.js";

// The emulator as a real deployment reaches it: the API, the claim and the
// downloads over its HTTPS listener, the channel over direct-TLS XMPP, with
// the test's certificate as the printer's only trust anchor.

test("a printer given the HTTPS base URL registers, goes online over direct TLS and prints a cloud job, every call on the TLS listener", async (t) => {
  const certificate = testCertificate();
  const seen: Array<{ path: string; scheme: string }> = [];
  const cloud = await startTestCloud({
    https: { ...certificate },
    xmpp: { port: 0, tls: certificate },
    onRequest: (_method, path, _status, scheme) => seen.push({ path, scheme }),
  });
  t.teardown(() => cloud.service.close());
  t.regex(cloud.service.httpsBaseUrl ?? "", /^https:\/\/127\.0\.0\.1:\d+\/cloudprint$/);
  t.not(cloud.service.httpsPort, cloud.service.port);
  const anchors = [certificate.cert.toString("utf8")];
  const engine = new TestEngine();
  const p = await startCloudPrinter({
    url: cloud.service.httpsBaseUrl!, storage: new MemoryStorage(), engine,
    cloud: {
      http: { trustAnchors: anchors },
      xmpp: { host: "127.0.0.1", port: cloud.service.xmpp!.directTlsPort!, transport: "direct-tls", trustAnchors: anchors, backoffInitialMs: 100 },
    },
  });
  t.teardown(() => p.stop());
  const registered = await registerPrinter(cloud, p);
  // The claim link the printer handed over names the TLS origin.
  t.true(registered.claim.automated_claim_url.startsWith(cloud.service.httpsBaseUrl!), registered.claim.automated_claim_url);
  await until("the channel is online", () => p.printer.cloud!.connectionState === "online", 10_000);
  const from = seen.length;
  const id = await submitJob({ cloud, deviceId: registered.deviceId, user: registered.userToken }, "over tls",
    encodeDocument([testPage(120, 40, "sgray_8", 3), testPage(120, 40, "black_1", 4)]));
  await until("the cloud job is DONE", async () => (await serviceJob({ cloud, deviceId: registered.deviceId, user: registered.userToken }, id))?.semanticState?.state?.type === "DONE", 15_000);
  t.is(engine.pages.length, 2);
  // The printer's calls: register, poll, token, fetch, download, control.
  const printer = seen.filter((r) => r.scheme === "https").map((r) => r.path.split("/").pop());
  for (const name of ["register", "token", "fetch", "control"]) t.true(printer.includes(name), `${name} over HTTPS: ${printer.join(" ")}`);
  t.true(seen.slice(from).some((r) => r.scheme === "https" && r.path.includes("download")), "the document was downloaded over HTTPS");
  // Only the person's calls, which the test plays (sign-in, claim, submit, job list), came in plain text.
  const plain = seen.filter((r) => r.scheme === "http").map((r) => r.path.split("/").pop());
  t.deepEqual([...new Set(plain)].filter((name) => !["token", "confirm", "submit", "jobs"].includes(name!)), [], plain.join(" "));
});

// A device's TLS (the Moddable SDK's) resumes by session ID, never by ticket:
// a second connection that offers the first one's session is resumed, so its
// handshake parses no certificate and computes no key exchange again.
test("the HTTPS listener resumes a TLS 1.2 session by its ID, without tickets", async (t) => {
  const certificate = testCertificate();
  const cloud = await startTestCloud({ https: { ...certificate } });
  t.teardown(() => cloud.service.close());
  const connect = (session?: Buffer) => new Promise<{ reused: boolean; session: Buffer | undefined }>((resolve, reject) => {
    let saved: Buffer | undefined;
    const socket = tls.connect({
      host: "127.0.0.1", port: cloud.service.httpsPort!, ca: certificate.cert, servername: "localhost",
      maxVersion: "TLSv1.2", secureOptions: constants.SSL_OP_NO_TICKET, session,
    });
    socket.on("session", (data: Buffer) => { saved = data; });
    socket.once("secureConnect", () => {
      // The session is handed over once the handshake is complete.
      setTimeout(() => { const reused = socket.isSessionReused(); socket.end(); resolve({ reused, session: saved ?? socket.getSession() }); }, 50);
    });
    socket.on("error", reject);
  });
  const first = await connect();
  t.false(first.reused);
  t.truthy(first.session);
  const second = await connect(first.session);
  t.true(second.reused, "the second connection resumed the first one's session");
});
