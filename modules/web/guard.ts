import type { Random } from "../hal/random.js";
import type { HostPolicy } from "../http/host-policy.js";
import type { HttpRequest } from "../http/request.js";

// What keeps other sites in the same browser out of the printer's pages.
// Reading: a page from another origin cannot read ours (no CORS header is
// ever sent), and a name that resolves to the printer through DNS rebinding
// is refused by the Host check (the printer's one HostPolicy, which the
// router applies to every front end too), so the page's secret stays ours.
// Changing: every POST must carry the per-boot secret from a form we served
// and come from our own origin (Origin, or Referer when a browser omits it).
// There are no cookies, so there is no ambient credential to ride on.

export const TOKEN_FIELD = "csrf";

export class RequestGuard {
  readonly token: string;

  constructor(random: Random, private readonly hosts: HostPolicy) {
    const bytes = new Uint8Array(16);
    random.fill(bytes);
    let token = "";
    for (const b of bytes) token += (b < 16 ? "0" : "") + b.toString(16);
    this.token = token;
  }

  // The pages hold a form's Origin against the Host, so unlike the other
  // front ends they have always refused a request without one, and still do.
  hostAllowed(request: HttpRequest): boolean {
    const host = request.header("host");
    return host !== undefined && this.hosts.allows(host);
  }

  // Why a POST is refused, or undefined when it may go ahead.
  refusal(request: HttpRequest, form: Record<string, string>): string | undefined {
    if (!this.hostAllowed(request)) return "the Host header is not this printer's address";
    const host = (request.header("host") ?? "").toLowerCase();
    const origin = request.header("origin");
    if (origin !== undefined) {
      if (!sameOrigin(origin.toLowerCase(), host)) return "the form was sent from another site";
    } else {
      const referer = request.header("referer");
      if (referer === undefined) return "the request says neither where it comes from (Origin) nor which page sent it (Referer)";
      if (!sameOrigin(referer.toLowerCase(), host, true)) return "the form was sent from another site";
    }
    if (!sameSecret(form[TOKEN_FIELD] ?? "", this.token)) return "the form is from an earlier start of the printer or another site; reload the page and try again";
    return undefined;
  }
}

function sameOrigin(origin: string, host: string, isReferer = false): boolean {
  for (const scheme of ["http://", "https://"]) {
    const own = scheme + host;
    if (origin === own || (isReferer && origin.startsWith(own + "/"))) return true;
  }
  return false;
}

// Compares without stopping at the first difference, so timing says nothing.
function sameSecret(given: string, secret: string): boolean {
  if (given.length !== secret.length) return false;
  let diff = 0;
  for (let i = 0; i < secret.length; i++) diff |= given.charCodeAt(i) ^ secret.charCodeAt(i);
  return diff === 0;
}
