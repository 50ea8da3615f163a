import test from "ava";
import { CloudApi } from "../modules/cloud/api.js";
import { HttpClient } from "../modules/http/client.js";
import { nodeClock } from "../hosts/node/hal.js";
import { FakeTcp, fakeResolver, type FakeConnection } from "./helpers/fake-tcp.js";
import { SeededRandom } from "./helpers/seeded-random.js";

// The service client over an in-memory TCP (fake-tcp's peers): every answer
// variant the reference lists is read, and every malformed one becomes a
// value, never an exception.

type Reply = { status?: number; body: string } | "close";

function service(reply: (request: string) => Reply) {
  const tcp = new FakeTcp();
  const requests: string[] = [];
  tcp.peers.set("127.0.0.1:9000", (connection: FakeConnection) => {
    const answer = () => {
      const text = connection.output();
      const end = text.indexOf("\r\n\r\n");
      const length = Number(/content-length: (\d+)/i.exec(text)?.[1] ?? 0);
      if (connection.isClosed) return;
      if (end < 0 || text.length < end + 4 + length) return void setImmediate(answer);
      requests.push(text);
      const r = reply(text);
      if (r === "close") return connection.closeFromPeer();
      const body = Buffer.from(r.body);
      connection.send(`HTTP/1.1 ${r.status ?? 200} X\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
      connection.send(body);
      // The fake delivers close at once, so wait until the client has taken what it paused on.
      // (A client that gave up has destroyed its end: nothing more to wait for.)
      const closeWhenRead = () => connection.isClosed ? undefined : connection.queuedBytes > 0 ? void setImmediate(closeWhenRead) : connection.closeFromPeer();
      closeWhenRead();
    };
    setImmediate(answer);
  });
  const http = new HttpClient({ tcp, resolver: fakeResolver(), clock: nodeClock, log: () => {} });
  const api = new CloudApi(http, { url: "http://127.0.0.1:9000/cloudprint", tokenUrl: "http://127.0.0.1:9000/o/oauth2/token", clientId: "cid", clientSecret: "sec", proxy: "px" }, new SeededRandom(3));
  return { api, requests, tcp };
}

const REGISTER = {
  success: true, printers: [{ id: "p1" }], registration_token: "tok", token_duration: "898",
  complete_invite_url: "http://goo.gl/printer/aGqk", automated_invite_url: "https://www.google.com/cloudprint/confirm?token=tok",
  polling_url: "https://www.google.com/cloudprint/getauthcode?printerid=p1&oauth_client_id=",
};

test("register: token_duration as a string or a number; multipart with the proxy header; missing fields are a server error", async (t) => {
  for (const duration of ["898", 898]) {
    const { api, requests } = service(() => ({ body: JSON.stringify({ ...REGISTER, token_duration: duration }) }));
    const answer = await api.register([["name", "P"], ["local_settings", "{\"current\":{}}"]]);
    t.true(answer.ok);
    if (answer.ok) t.is(answer.value.tokenDuration, 898);
    t.regex(requests[0], /^POST \/cloudprint\/register HTTP\/1\.1/);
    t.regex(requests[0], /X-CloudPrint-Proxy: px/i);
    t.regex(requests[0], /multipart\/form-data; boundary=/);
    t.regex(requests[0], /name="proxy"\r\n\r\npx\r\n/);
    t.notRegex(requests[0], /Authorization/i, "anonymous");
  }
  const { api } = service(() => ({ body: JSON.stringify({ success: true, printers: [] }) }));
  const missing = await api.register([]);
  t.false(missing.ok);
  if (!missing.ok) t.is(missing.failure.kind, "server");
});

test("getauthcode: success false is 'not yet'; the client id is appended; the claim gives code and JID", async (t) => {
  let claimed = false;
  const { api, requests } = service(() => ({ body: JSON.stringify(claimed
    ? { success: true, authorization_code: "4/x", xmpp_jid: "r@cloudprint.googleusercontent.com", user_email: "a@x" }
    : { success: false, message: "not claimed", errorCode: 428 }) }));
  const url = "http://127.0.0.1:9000/cloudprint/getauthcode?printerid=p1&oauth_client_id=";
  t.deepEqual(await api.pollAuthCode(url), { ok: true, value: undefined });
  claimed = true;
  t.deepEqual(await api.pollAuthCode(url), { ok: true, value: { code: "4/x", xmppJid: "r@cloudprint.googleusercontent.com", userEmail: "a@x" } });
  t.regex(requests[0], /^GET \/cloudprint\/getauthcode\?printerid=p1&oauth_client_id=cid HTTP/);
});

test("token: expires_in as a string; invalid_grant on refresh is 'revoked', on the code exchange only 'refused'", async (t) => {
  const ok = service(() => ({ body: JSON.stringify({ access_token: "a", token_type: "Bearer", expires_in: "3600", refresh_token: "r" }) }));
  t.deepEqual(await ok.api.exchangeCode("4/x"), { ok: true, value: { accessToken: "a", refreshToken: "r", expiresIn: 3600 } });
  t.regex(ok.requests[0], /grant_type=authorization_code&code=4%2Fx&redirect_uri=oob&client_id=cid&client_secret=sec/);
  const bad = service(() => ({ status: 400, body: JSON.stringify({ error: "invalid_grant", error_description: "Token has been expired or revoked." }) }));
  const refresh = await bad.api.refresh("r");
  t.true(!refresh.ok && refresh.failure.kind === "revoked");
  const code = await bad.api.exchangeCode("4/x");
  t.true(!code.ok && code.failure.kind === "refused");
  const client = service(() => ({ status: 401, body: JSON.stringify({ error: "invalid_client" }) }));
  const refused = await client.api.refresh("r");
  t.true(!refused.ok && refused.failure.kind === "refused", "a client problem does not erase credentials");
});

test("printer: both deletion shapes read as deleted; local settings read; 403 is auth; the bearer token is sent", async (t) => {
  const shapes = [{ success: false, message: "Unknown printer.", errorCode: 404 }, { success: true, printers: [] }];
  for (const shape of shapes) {
    const { api } = service(() => ({ body: JSON.stringify(shape) }));
    t.deepEqual(await api.printer("p1", "acc"), { ok: true, value: undefined });
  }
  const { api, requests } = service(() => ({ body: JSON.stringify({ success: true, printers: [{ id: "p1", local_settings: { current: { local_discovery: true }, pending: { local_discovery: false } } }] }) }));
  t.deepEqual(await api.printer("p1", "acc"), { ok: true, value: { current: { local_discovery: true }, pending: { local_discovery: false } } });
  t.regex(requests[0], /Authorization: Bearer acc/);
  const denied = service(() => ({ status: 403, body: JSON.stringify({ success: false, message: "Invalid credentials", errorCode: 403 }) }));
  const answer = await denied.api.printer("p1", "old");
  t.true(!answer.ok && answer.failure.kind === "auth");
});

test("garbage, HTML 500s, a cut connection and an unreachable service are values with the right kind", async (t) => {
  const cases: Array<[Reply, string]> = [
    [{ body: "{\"success\": tru" }, "server"],
    [{ status: 500, body: "<html>oops</html>" }, "server"],
    [{ status: 503, body: JSON.stringify({ success: false, message: "busy" }) }, "server"],
    [{ body: "[1,2]" }, "server"],
    ["close", "offline"],
    // Bounded: an answer over 16 KiB is refused before it is collected.
    [{ body: JSON.stringify({ success: true, proximity_token: { token: "t" }, padding: "x".repeat(20_000) }) }, "server"],
  ];
  for (const [reply, kind] of cases) {
    const { api } = service(() => reply);
    const answer = await api.proximityToken("p1", "a@x", "acc");
    t.true(!answer.ok && answer.failure.kind === kind, `${JSON.stringify(reply)} -> ${JSON.stringify(answer)}`);
  }
  const { api } = service(() => ({ body: JSON.stringify({ success: true, proximity_token: { user: "a@x", token: "t", expires_in: "600", future: [1] } }) }));
  t.deepEqual(await api.proximityToken("p1", "a@x", "acc"), { ok: true, value: { user: "a@x", token: "t", expires_in: "600", future: [1] } }, "passed on whole");
  const nowhere = new CloudApi(new HttpClient({ tcp: new FakeTcp(), resolver: fakeResolver(), clock: nodeClock, log: () => {} }),
    { url: "http://127.0.0.1:9999/cloudprint", tokenUrl: "", clientId: "", clientSecret: "", proxy: "" }, new SeededRandom(1));
  const reachable: boolean[] = [];
  nowhere.onReachable = (r) => reachable.push(r);
  t.false(await nowhere.probe());
  t.deepEqual(reachable, [false]);
});

test("calls made together go to the service one at a time, in the order asked, each whole before the next connects", async (t) => {
  const { api, requests, tcp } = service((request) => ({
    body: JSON.stringify(request.includes("/fetch") ? { success: false, errorCode: 413 } : { success: true, job: { id: "j1" } }),
  }));
  // The peer sees each connection when it opens: by then every earlier
  // request must have had its whole answer.
  const peer = tcp.peers.get("127.0.0.1:9000")!;
  const overlaps: number[] = [];
  let opened = 0;
  tcp.peers.set("127.0.0.1:9000", (connection) => {
    if (requests.length !== opened) overlaps.push(opened);
    opened++;
    peer(connection);
  });
  const answers = await Promise.all([
    api.submitLocal("p1", "acc", [["title", "a"]]),
    api.update("p1", "acc", [["semantic_state", "{}"]]),
    api.fetch("p1", "acc"),
  ]);
  t.deepEqual(answers.map((a) => a.ok), [true, true, true]);
  t.deepEqual(requests.map((r) => /^POST \/cloudprint\/(\w+)/.exec(r)?.[1]), ["submit", "update", "fetch"]);
  t.deepEqual(overlaps, [], "a connection opened while an earlier call was still unanswered");
});
