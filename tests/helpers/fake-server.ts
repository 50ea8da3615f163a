import { HttpServer, type HttpHandler, type HttpServerOptions } from "../../modules/http/server.js";
import { FakeClock } from "./fake-clock.js";
import { FakeTcp } from "./fake-tcp.js";

// An HttpServer started on the fake TCP and clock, so a test drives every
// byte and every millisecond. Its log is kept as "level message" lines for
// tests that check why a request was refused.
export async function startFakeServer(handler: HttpHandler, options: Partial<HttpServerOptions> = {}) {
  const tcp = new FakeTcp();
  const clock = new FakeClock();
  const logs: string[] = [];
  const server = new HttpServer(tcp, clock, (level, message) => logs.push(`${level} ${message}`), options, handler);
  await server.start();
  return { tcp, clock, server, logs };
}
