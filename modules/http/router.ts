import type { Log } from "../hal/log.js";
import type { HostPolicy } from "./host-policy.js";
import type { HttpHandler, HttpRequest, HttpResponse } from "./server.js";

// Sends each request to the front end that owns its path: /privet/ to the
// Privet API, /ipp/ to IPP and / to the printer's own pages. The front ends
// never see each other's requests, nor one whose Host the policy refuses
// (DNS rebinding): that check is here once, so no front end can forget it.

interface Mount {
  prefix: string;
  handler: HttpHandler;
}

export class HttpRouter {
  // Longest prefix first, so "/ipp/" wins over "/".
  private readonly mounts: Mount[] = [];

  // The log says why a client got 403, so its owner knows what --allow-host to add.
  constructor(private readonly hosts?: HostPolicy, private readonly log?: Log) {}

  // A prefix ending in "/" takes every path below it (and the path without
  // the slash); any other prefix is one exact path.
  mount(prefix: string, handler: HttpHandler): void {
    if (!prefix.startsWith("/")) throw new Error(`router: ${prefix} does not start with /`);
    if (this.mounts.some((m) => m.prefix === prefix)) throw new Error(`router: ${prefix} is mounted twice`);
    this.mounts.push({ prefix, handler });
    this.mounts.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  unmount(prefix: string): void {
    const index = this.mounts.findIndex((m) => m.prefix === prefix);
    if (index >= 0) this.mounts.splice(index, 1);
  }

  // A thin arrow, bound once: a closure made at run time takes a copy of its
  // byte code into the heap, so the work is a method, which stays in flash.
  readonly handle: HttpHandler = (request: HttpRequest, response: HttpResponse) => this.route(request, response);

  private route(request: HttpRequest, response: HttpResponse): void {
    if (this.hosts && !this.hosts.allows(request.header("host"))) {
      this.log?.("debug", `http: refused ${request.method} ${request.path} from ${request.remoteAddress}: Host ${request.header("host")} is not one of this printer's names`);
      // Plain text for every front end: an IPP client gets no IPP answer, as
      // the request never became an IPP operation.
      response.send(403, "This printer answers only to its addresses, its .local name and the names its owner added.\n");
      return;
    }
    const mount = this.mounts.find((m) => matches(m.prefix, request.path));
    if (mount) return mount.handler(request, response);
    response.send(404, `${request.path} is not available on this device\n`);
  }
}

function matches(prefix: string, path: string): boolean {
  if (!prefix.endsWith("/")) return path === prefix;
  return path.startsWith(prefix) || path === prefix.slice(0, -1);
}
