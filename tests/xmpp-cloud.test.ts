import test from "ava";
import { nodeClock, nodeRandom, nodeResolver, nodeTcp } from "../hosts/node/hal.js";
import { nodeTls } from "../hosts/node/tls.js";
import { XmppClient, type XmppClientOptions, type XmppConnectionState, type XmppError, type XmppPush } from "../modules/xmpp/client.js";
import { call, registerAndClaim, startTestCloud, tokenRequest } from "./helpers/cloud.js";
import { testCertificate } from "./helpers/xmpp.js";

// The device's XMPP client against the project's Cloud Print emulator
// (tools/cloud), the two written apart from the reference's §3: a printer
// registered and claimed the real way, its robot JID and access token from
// the code exchange, then the channel on each of the emulator's listeners
// and the three pushes the service sends.

const certificate = testCertificate();
const PDF = Buffer.from("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n");
const hal = { tcp: nodeTcp, resolver: nodeResolver, tls: nodeTls, clock: nodeClock, random: nodeRandom, log: () => {} };

async function until(what: string, condition: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !condition();) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const listeners = [
  ["plain", (x: { port: number }) => ({ port: x.port, transport: "plain", allowPlainText: true })],
  ["starttls", (x: { starttlsPort?: number }) => ({ port: x.starttlsPort!, transport: "starttls" })],
  ["direct-tls", (x: { directTlsPort?: number }) => ({ port: x.directTlsPort!, transport: "direct-tls" })],
] as const;

for (const [name, endpoint] of listeners) {
  test(`the emulator over ${name}: online, and a push for a new job, a settings change and the deletion`, async (t) => {
    const cloud = await startTestCloud({ xmpp: { port: 0, tls: certificate } });
    t.teardown(() => cloud.service.close());
    const r = await registerAndClaim(cloud);
    const states: XmppConnectionState[] = [];
    const pushes: XmppPush[] = [];
    const errors: XmppError[] = [];
    const client = new XmppClient(hal, {
      host: cloud.service.xmpp!.host, jid: r.poll.xmpp_jid, accessToken: r.access, printerId: r.printerId,
      trustSelfSigned: certificate.cert.toString("utf8"), ...endpoint(cloud.service.xmpp!) as Partial<XmppClientOptions>,
      // Pings every 0.1 s with no missed pong allowed: still online later means every ping was answered.
      pingIntervalSeconds: 0.1, minPingIntervalSeconds: 0, pongTimeoutMs: 1000, missedPongsAllowed: 0,
    }, { state: (s) => states.push(s), push: (p) => pushes.push(p), error: (e) => errors.push(e) });
    t.teardown(() => client.stop());
    client.start();
    await until("online", () => client.state === "online");
    t.true(client.fullJid!.startsWith(`${r.poll.xmpp_jid}/cloud_print`), client.fullJid);

    const submitted = await call(cloud.service, "submit", { printerid: r.printerId, title: "over xmpp", contentType: "application/pdf" },
      { encoding: "multipart", token: r.user, files: [{ name: "content", filename: "a.pdf", contentType: "application/pdf", data: PDF }] });
    t.true(submitted.json.success, submitted.text);
    await until("the job push", () => pushes.length === 1);
    t.true((await call(cloud.service, "update", { printerid: r.printerId, local_settings: JSON.stringify({ pending: { xmpp_timeout_value: 600 } }) }, { token: r.user })).json.success);
    await until("the settings push", () => pushes.length === 2);
    t.true((await call(cloud.service, "delete", { printerid: r.printerId }, { token: r.user })).json.success);
    await until("the delete push", () => pushes.length === 3);
    t.deepEqual(pushes, [
      { kind: "jobs", printerId: r.printerId },
      { kind: "update_settings", printerId: r.printerId },
      { kind: "delete", printerId: r.printerId },
    ]);
    // The deleted printer's robot has its stream ended by the service right after the push: the
    // client reads the end as the server's, goes offline, and every ping before it was answered.
    await until("the end of the stream", () => states.length === 3);
    t.deepEqual(states, ["connecting", "online", "offline"]);
    t.deepEqual(errors.map((e) => [e.kind, e.message]), [["closed", "the server ended the stream"]]);
  });
}

test("the emulator refuses an expired access token; the client asks for a fresh one from the refresh token and comes online", async (t) => {
  const cloud = await startTestCloud({ xmpp: { port: 0 } });
  t.teardown(() => cloud.service.close());
  const r = await registerAndClaim(cloud);
  // Access tokens live an hour; the emulator's clock moves instead of the test waiting.
  cloud.clock.now += 2 * 3600 * 1000;
  let asked = 0;
  const errors: XmppError[] = [];
  const client = new XmppClient(hal, {
    host: "127.0.0.1", port: cloud.service.xmpp!.port, transport: "plain", allowPlainText: true,
    jid: r.poll.xmpp_jid, accessToken: r.access, printerId: r.printerId,
  }, {
    error: (e) => errors.push(e),
    refreshAccessToken: async () => {
      asked++;
      const fresh = await tokenRequest(cloud.service, { grant_type: "refresh_token", refresh_token: r.refresh, client_id: "test-client", client_secret: "s" });
      if (fresh.status !== 200) throw new Error(fresh.text);
      return fresh.json.access_token as string;
    },
  });
  t.teardown(() => client.stop());
  client.start();
  await until("online", () => client.state === "online");
  t.is(asked, 1);
  t.deepEqual(errors.map((e) => e.kind), ["auth"]);
});
