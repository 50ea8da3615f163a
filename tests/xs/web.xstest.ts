import test from "./harness.js";
import { HttpServer } from "../../modules/http/server.js";
import { HostPolicy } from "../../modules/http/host-policy.js";
import type { HttpRequest } from "../../modules/http/request.js";
import { HttpRouter } from "../../modules/http/router.js";
import { decodeForm } from "../../modules/web/form.js";
import type { WebHost } from "../../modules/web/host.js";
import { WebPages } from "../../modules/web/web.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { SeededRandom } from "../helpers/seeded-random.js";
import { ascii, fakeListener } from "./fake-socket.js";

// The printer's pages inside XS: a settings page streamed in chunks over the
// XS-safe TCP fake, the form decoder and the guard's rules.

const host: WebHost = {
  status: () => ({ deviceState: "idle", fault: undefined, job: undefined, connection: "not-configured" }),
  jobs: () => [],
  identity: () => ({ name: "XS <printer>", description: "", manufacturer: "m", model: "x", serialNumber: "s", firmware: "1", addresses: ["192.0.2.1:80"], uptimeSeconds: 5 }),
  registration: () => ({ available: false, registered: false, owner: "", printerId: "", phase: "idle" }),
  register: () => Promise.resolve({}),
  settings: () => ({ name: "XS <printer>", description: "d", localDiscovery: true, localPrinting: false }),
  saveSettings: () => {},
  factoryReset: () => {},
  wifi: undefined,
};

function dechunk(text: string): string {
  let body = "";
  let rest = text;
  for (let i = 0; i < 1000; i++) {
    const line = rest.indexOf("\r\n");
    const size = parseInt(rest.slice(0, line), 16);
    if (size === 0) return body;
    body += rest.slice(line + 2, line + 2 + size);
    rest = rest.slice(line + 4 + size);
  }
  return body;
}

test("the settings page streams in chunks on XS, with the secret and escaped names", (t) => {
  const pages = new WebPages(host, new SeededRandom(7), () => {});
  const listener = fakeListener();
  void new HttpServer(listener.tcp, new FakeClock(), () => {}, {}, pages.handle).start();
  const socket = listener.connect();
  socket.send("GET /settings HTTP/1.1\r\nHost: 192.0.2.1\r\n\r\n");
  const split = socket.out.indexOf("\r\n\r\n");
  t.true(socket.out.slice(0, split).includes("Transfer-Encoding: chunked"));
  const html = dechunk(socket.out.slice(split + 4));
  t.true(html.startsWith("<!doctype html>"));
  t.true(html.endsWith("</html>\n"));
  t.true(html.includes(`value="${pages.guard.token}"`));
  t.true(html.includes("XS &lt;printer&gt;"));
  t.false(html.includes("XS <printer>"));
  t.true(html.includes(`name="local_printing" value="1">`), "local printing unticked");
});

test("the router refuses a rebound Host with 403 before any front end runs, on XS", (t) => {
  let reached = 0;
  const router = new HttpRouter(new HostPolicy(() => ["printer-1.local"]));
  router.mount("/privet/", (_request, response) => { reached++; response.send(200, "info"); });
  const listener = fakeListener();
  void new HttpServer(listener.tcp, new FakeClock(), () => {}, {}, router.handle).start();
  const status = (hostLine: string) => {
    const socket = listener.connect();
    socket.send(`GET /privet/info HTTP/1.0\r\n${hostLine}\r\n`);
    return socket.out.slice(9, 12);
  };
  t.is(status("Host: evil.example:8631\r\n"), "403");
  t.is(status("Host: printer-2.local\r\n"), "403");
  t.is(reached, 0);
  t.is(status("Host: printer-1.local:8631\r\n"), "200");
  t.is(status("Host: [::1]\r\n"), "200");
  t.is(status(""), "200", "no Host: not a browser");
  t.is(reached, 3);
});

test("form decoding and the guard's rules on XS", (t) => {
  t.deepEqual(decodeForm(ascii("name=%C3%A9+x&csrf=1&name=2")), { name: "é x", csrf: "1" });
  // The printer's own mDNS name; any other .local name is a stranger's.
  const pages = new WebPages(host, new SeededRandom(3), () => {}, new HostPolicy(() => ["printer-1.local"]));
  const request = (headers: Record<string, string>) => ({ header: (n: string) => headers[n.toLowerCase()] }) as unknown as HttpRequest;
  const token = pages.guard.token;
  t.is(pages.guard.refusal(request({ host: "192.0.2.1", origin: "http://192.0.2.1" }), { csrf: token }), undefined);
  t.true(pages.guard.refusal(request({ host: "192.0.2.1", origin: "http://evil.example" }), { csrf: token }) !== undefined);
  t.true(pages.guard.refusal(request({ host: "192.0.2.1", origin: "http://192.0.2.1" }), { csrf: token.slice(1) + "0" }) !== undefined);
  t.true(pages.guard.refusal(request({ host: "evil.example", origin: "http://evil.example" }), { csrf: token }) !== undefined);
  t.is(pages.guard.refusal(request({ host: "printer-1.local:8631", referer: "http://printer-1.local:8631/settings" }), { csrf: token }), undefined);
  t.true(pages.guard.refusal(request({ host: "printer-2.local:8631", referer: "http://printer-2.local:8631/settings" }), { csrf: token }) !== undefined);
  t.true(pages.guard.hostAllowed(request({ host: "[fe80::1]:8631" })));
  t.false(pages.guard.hostAllowed(request({})), "the pages still want a Host");
});

export { runAll } from "./harness.js";
