import type { Random } from "../hal/random.js";
import type { HttpRequest } from "../http/request.js";

// What keeps other sites in the same browser out of the printer's pages.
// Reading: a page from another origin cannot read ours (no CORS header is
// ever sent), and a name that resolves to the printer through DNS rebinding
// is refused by the Host check, so the page's secret stays on our pages.
// Changing: every POST must carry the per-boot secret from a form we served
// and come from our own origin (Origin, or Referer when a browser omits it).
// There are no cookies, so there is no ambient credential to ride on.

export const TOKEN_FIELD = "csrf";

export class RequestGuard {
  readonly token: string;

  constructor(random: Random) {
    const bytes = new Uint8Array(16);
    random.fill(bytes);
    let token = "";
    for (const b of bytes) token += (b < 16 ? "0" : "") + b.toString(16);
    this.token = token;
  }

  // A Host a browser on the LAN can have used: an address literal, or an
  // mDNS name (.local) or localhost, which no outside site can point at us.
  hostAllowed(request: HttpRequest): boolean {
    const host = (request.header("host") ?? "").toLowerCase();
    const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0];
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name) || /^\[[0-9a-f:.]+\]$/.test(name)) return true;
    return name === "localhost" || /^[a-z0-9-]+(\.[a-z0-9-]+)*\.local$/.test(name);
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
