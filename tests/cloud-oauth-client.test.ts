import test from "ava";
import { call, registerAndClaim, registerParams, startTestCloud, tokenRequest, userToken, type TestCloud } from "./helpers/cloud.js";

// How a client proves who it is at the token endpoint (RFC 6749 2.3.1): HTTP Basic or the
// body, each checked against the secret the emulator was given for that client id; and a
// refresh token that only the client it was issued to may spend (RFC 6749 6).

// Characters that form-urlencoding changes, so a server that skips the decoding fails.
const SECRET = "s3cr:t +/é%";
const CLIENT = "device client@example";

function basic(id: string, secret: string): string {
  const encode = (text: string) => encodeURIComponent(text).replace(/%20/g, "+");
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`, "utf8").toString("base64")}`;
}

// A claimed printer's authorization code, as the device polls for it under clientId.
async function freshCode(cloud: TestCloud, clientId: string, name: string): Promise<string> {
  const register = (await call(cloud.service, "register", registerParams(name), { encoding: "multipart" })).json;
  const user = await userToken(cloud.service, "owner@example.com");
  const confirmed = await call(cloud.service, register.automated_invite_url, {}, { encoding: "get", token: user });
  if (!confirmed.json?.success) throw new Error(`confirm failed: ${confirmed.text}`);
  const poll = (await call(cloud.service, `${register.polling_url}${encodeURIComponent(clientId)}`, {}, { encoding: "get" })).json;
  if (!poll.success) throw new Error(`poll failed: ${JSON.stringify(poll)}`);
  return poll.authorization_code;
}

function withBasic(cloud: TestCloud, params: Record<string, string>, authorization: string) {
  return call(cloud.service, cloud.service.tokenUrl, params, { proxyHeader: null, authorization });
}

test("client credentials in HTTP Basic or in the body both get tokens; a wrong secret is invalid_client", async (t) => {
  const cloud = await startTestCloud({ oauthClients: { [CLIENT]: SECRET } });
  t.teardown(() => cloud.service.close());

  const viaBasic = await withBasic(cloud, { grant_type: "authorization_code", code: await freshCode(cloud, CLIENT, "Basic printer"), redirect_uri: "oob" }, basic(CLIENT, SECRET));
  t.is(viaBasic.status, 200, viaBasic.text);
  t.is(viaBasic.json.token_type, "Bearer");
  const refreshedBasic = await withBasic(cloud, { grant_type: "refresh_token", refresh_token: viaBasic.json.refresh_token }, basic(CLIENT, SECRET));
  t.is(refreshedBasic.status, 200, refreshedBasic.text);
  // A body client_id that agrees with the header is harmless.
  const agreeing = await withBasic(cloud, { grant_type: "refresh_token", refresh_token: viaBasic.json.refresh_token, client_id: CLIENT }, basic(CLIENT, SECRET));
  t.is(agreeing.status, 200, agreeing.text);

  const viaBody = await tokenRequest(cloud.service, { grant_type: "authorization_code", code: await freshCode(cloud, CLIENT, "Body printer"), client_id: CLIENT, client_secret: SECRET, redirect_uri: "oob" });
  t.is(viaBody.status, 200, viaBody.text);
  t.is((await tokenRequest(cloud.service, { grant_type: "refresh_token", refresh_token: viaBody.json.refresh_token, client_id: CLIENT, client_secret: SECRET }, "multipart")).status, 200);

  const wrongBasic = await withBasic(cloud, { grant_type: "refresh_token", refresh_token: viaBasic.json.refresh_token }, basic(CLIENT, "guess"));
  t.is(wrongBasic.status, 401);
  t.is(wrongBasic.json.error, "invalid_client");
  t.regex(wrongBasic.headers.get("www-authenticate") ?? "", /^Basic\b/);
  // Not urlencoded: "+" stays a plus, so the secret differs.
  const raw = `Basic ${Buffer.from(`${CLIENT}:${SECRET}`).toString("base64")}`;
  t.is((await withBasic(cloud, { grant_type: "refresh_token", refresh_token: viaBasic.json.refresh_token }, raw)).json.error, "invalid_client");
  for (const header of ["Basic !!!", `Basic ${Buffer.from("no colon").toString("base64")}`, `Basic ${Buffer.from(":nameless").toString("base64")}`]) {
    const malformed = await withBasic(cloud, { grant_type: "refresh_token", refresh_token: viaBasic.json.refresh_token }, header);
    t.is(malformed.status, 401, header);
    t.is(malformed.json.error, "invalid_client", header);
    t.regex(malformed.headers.get("www-authenticate") ?? "", /^Basic\b/, header);
  }

  const wrongBody = await tokenRequest(cloud.service, { grant_type: "refresh_token", refresh_token: viaBody.json.refresh_token, client_id: CLIENT, client_secret: "guess" });
  t.is(wrongBody.status, 401);
  t.is(wrongBody.json.error, "invalid_client");
  t.is(wrongBody.headers.get("www-authenticate"), null, "no challenge for a client that did not use Basic");
  t.is((await tokenRequest(cloud.service, { grant_type: "refresh_token", refresh_token: viaBody.json.refresh_token, client_id: CLIENT })).json.error, "invalid_client", "a known client must send its secret");

  // RFC 6749 2.3: one method per request.
  const both = await withBasic(cloud, { grant_type: "refresh_token", refresh_token: viaBasic.json.refresh_token, client_secret: SECRET }, basic(CLIENT, SECRET));
  t.is(both.status, 400);
  t.is(both.json.error, "invalid_request");
  const disagreeing = await withBasic(cloud, { grant_type: "refresh_token", refresh_token: viaBasic.json.refresh_token, client_id: "someone-else" }, basic(CLIENT, SECRET));
  t.is(disagreeing.json.error, "invalid_request");
});

test("a client the emulator has no secret for is believed, in Basic as in the body", async (t) => {
  const cloud = await startTestCloud();
  t.teardown(() => cloud.service.close());
  const answer = await withBasic(cloud, { grant_type: "authorization_code", code: await freshCode(cloud, "unlisted", "Unlisted printer"), redirect_uri: "oob" }, basic("unlisted", "anything"));
  t.is(answer.status, 200, answer.text);
  // Before Basic was read, this was invalid_client "client_id is missing".
  t.is((await withBasic(cloud, { grant_type: "refresh_token", refresh_token: answer.json.refresh_token }, basic("unlisted", "other"))).status, 200);
});

test("a refresh token is spent only by the client it was issued to", async (t) => {
  const cloud = await startTestCloud({ oauthClients: { [CLIENT]: SECRET } });
  t.teardown(() => cloud.service.close());
  // registerAndClaim exchanges its code as test-client.
  const r = await registerAndClaim(cloud);
  for (const [what, request] of [
    ["another client in the body", () => tokenRequest(cloud.service, { grant_type: "refresh_token", refresh_token: r.refresh, client_id: "thief", client_secret: "s" })],
    ["another client in Basic", () => withBasic(cloud, { grant_type: "refresh_token", refresh_token: r.refresh }, basic("thief", "s"))],
    ["a listed client with its right secret", () => withBasic(cloud, { grant_type: "refresh_token", refresh_token: r.refresh }, basic(CLIENT, SECRET))],
  ] as const) {
    const answer = await request();
    t.is(answer.status, 400, what);
    t.is(answer.json.error, "invalid_grant", what);
  }
  const own = await tokenRequest(cloud.service, { grant_type: "refresh_token", refresh_token: r.refresh, client_id: "test-client", client_secret: "s" });
  t.is(own.status, 200, own.text);
  t.is((await withBasic(cloud, { grant_type: "refresh_token", refresh_token: r.refresh }, basic("test-client", "s"))).status, 200);
});
