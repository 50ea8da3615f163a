import type { HttpRequest, HttpResponse } from "../http/server.js";
import { escapeHtml } from "./html.js";

// The captive portal's HTTP side, in one place on purpose: while the setup
// access point is up, a request for any other site (the address the access
// point's DNS gave for it is ours) is sent to the setup page. That is what
// makes each system open it by itself: its connectivity check expects a
// fixed answer and gets a redirect instead —
//   Android, ChromeOS   http://connectivitycheck.gstatic.com/generate_204 (expects 204)
//   Apple               http://captive.apple.com/hotspot-detect.html (expects "Success")
//   Windows             http://www.msftconnecttest.com/connecttest.txt, .../ncsi.txt
//   Firefox             http://detectportal.firefox.com/success.txt
// Requests naming the printer itself (its address or .local name) are not
// touched. With the access point down nothing is answered here, and a
// foreign Host meets the pages' own Host check (DNS rebinding) as before.

// Paths the systems above probe, for the log: a person who typed some other
// site's address is redirected too, but is not a probe.
const PROBES: Record<string, string> = {
  "/generate_204": "Android", "/gen_204": "Android",
  "/hotspot-detect.html": "Apple", "/library/test/success.html": "Apple",
  "/connecttest.txt": "Windows", "/ncsi.txt": "Windows", "/redirect": "Windows",
  "/success.txt": "Firefox", "/canonical.html": "Firefox",
};

export interface CaptivePortalHost {
  // The setup page's absolute URL while the setup access point is up, else undefined.
  setupUrl(): string | undefined;
  // The Host names the printer itself (an address literal, its .local name).
  ownHost(request: HttpRequest): boolean;
}

export class CaptivePortal {
  // For the log and tests: the last probe seen, by which system.
  lastProbe: string | undefined;

  constructor(private readonly host: CaptivePortalHost) {}

  // Answers and returns true when the request is the portal's; false leaves it to the router.
  answer(request: HttpRequest, response: HttpResponse): boolean {
    const setupUrl = this.host.setupUrl();
    if (setupUrl === undefined || this.host.ownHost(request)) return false;
    const system = Object.prototype.hasOwnProperty.call(PROBES, request.path) ? PROBES[request.path] : undefined;
    if (system) this.lastProbe = `${system} ${request.path}`;
    const href = escapeHtml(setupUrl);
    // 302 with a body that is not the expected one: Android wants 204,
    // Apple "Success", Windows "Microsoft Connect Test"; none gets it.
    response.send(302, `<!DOCTYPE html><html><head><title>Printer setup</title></head><body><p>Set up this printer's Wi-Fi at <a href="${href}">${href}</a>.</p></body></html>`, {
      contentType: "text/html; charset=utf-8",
      // Every response already says Cache-Control: no-cache, so a probe after setup is asked afresh.
      headers: [["Location", setupUrl]],
    });
    return true;
  }
}
