import { descriptionProblem, nameProblem } from "../device/settings.js";
import type { Log } from "../hal/log.js";
import type { Random } from "../hal/random.js";
import { HostPolicy } from "../http/host-policy.js";
import type { HttpRequest, HttpResponse } from "../http/server.js";
import type { WifiNetwork } from "../hal/network.js";
import { FormError, readForm, type Form } from "./form.js";
import { RequestGuard } from "./guard.js";
import { lookup } from "./html.js";
import type { WebHost } from "./host.js";
import { sendPage, type Section } from "./page.js";
import {
  identitySection, jobsSection, notices, registrationSection, resetSection, settingsSection, statusSection, wifiFormSection, wifiSection,
} from "./pages.js";
import { WebRegistration } from "./registration.js";

// The printer's own pages, mounted at "/": status, jobs, identity and
// registration on the first page, settings and factory reset on the second,
// Wi-Fi setup where the board has Wi-Fi. Reading is GET; every change is a
// POST from one of these forms, checked by the RequestGuard, then a 303 back
// to a page (so a reload never repeats it).


const NOTICES: Record<string, string> = {
  saved: "Settings saved.",
  reset: "The printer was reset to its factory settings.",
  registering: "Registration started.",
  cancelled: "Registration cancelled.",
  joined: "Joined the network.",
};

// Constants rather than arrays made for every page, which a page holds for as long as it is being sent.
const NAV: Array<[string, string]> = [["/", "Status"], ["/settings", "Settings"]];
const NAV_WIFI: Array<[string, string]> = [...NAV, ["/wifi", "Wi-Fi"]];

export class WebPages {
  readonly guard: RequestGuard;
  readonly registration: WebRegistration;

  // Without the printer's policy the pages answer to addresses and localhost only.
  constructor(private readonly host: WebHost, random: Random, private readonly log: Log, hosts = new HostPolicy(() => [])) {
    this.guard = new RequestGuard(random, hosts);
    this.registration = new WebRegistration(host);
  }

  // A thin arrow, bound once: a closure made at run time takes a copy of its
  // byte code into the heap, so the work is a method, which stays in flash.
  readonly handle = (request: HttpRequest, response: HttpResponse): void => this.serve(request, response);

  private serve(request: HttpRequest, response: HttpResponse): void {
    if (!this.guard.hostAllowed(request)) {
      response.send(403, "This printer answers only to its addresses, its .local name and the names its owner added.\n");
      return;
    }
    if (request.method === "GET") return this.get(request, response);
    if (request.method === "POST") return void this.post(request, response);
    response.send(405, "GET or POST\n", { headers: [["Allow", "GET, POST"]] });
  }

  private nav(): Array<[string, string]> {
    return this.host.wifi ? NAV_WIFI : NAV;
  }

  private page(response: HttpResponse, here: string, title: string, sections: Section[], extra: { status?: number; refreshSeconds?: number } = {}): void {
    sendPage(response, { title, here, nav: this.nav(), printerName: this.host.identity().name, ...extra }, sections);
  }

  private get(request: HttpRequest, response: HttpResponse): void {
    const notice = lookup(NOTICES, request.query.done ?? "");
    switch (request.path) {
      case "/":
      case "/index.html":
        return void this.statusPage(response, notice);
      case "/settings":
        return this.settingsPage(response, notice, undefined);
      case "/wifi":
        if (this.host.wifi) return void this.wifiPage(response, notice);
        break;
    }
    this.page(response, "", "Not found", [notices(undefined, `There is no page ${request.path} on this printer.`)], { status: 404 });
  }

  private async statusPage(response: HttpResponse, notice: string | undefined, status = 200, error?: string): Promise<void> {
    await this.registration.advance();
    const view = this.registration.view();
    const now = this.host.status();
    // Refreshing shows the job's progress, the registration's next step, or the clock once set.
    const active = view.user !== undefined || now.job !== undefined || now.clock?.set === false;
    this.page(response, "/", "Status", [
      notices(notice, error ?? view.error),
      statusSection(this.host),
      registrationSection(this.host, view, this.guard.token),
      jobsSection(this.host),
      identitySection(this.host),
    ], { status, refreshSeconds: active ? 3 : undefined });
  }

  private settingsPage(response: HttpResponse, notice: string | undefined, error: string | undefined, status = 200): void {
    this.page(response, "/settings", "Settings", [notices(notice, error), settingsSection(this.host, this.guard.token), resetSection(this.guard.token)], { status });
  }

  private async wifiPage(response: HttpResponse, notice: string | undefined, status = 200): Promise<void> {
    const wifi = this.host.wifi!;
    let networks: WifiNetwork[] = [];
    let scanError: string | undefined;
    try {
      networks = await wifi.scan();
    } catch (error) {
      scanError = `Scanning failed: ${String(error)}`;
    }
    const view = wifi.view();
    this.page(response, "/wifi", "Wi-Fi", [
      notices(notice, view.error ?? scanError), wifiSection(view, this.host.identity()), wifiFormSection(networks, this.guard.token),
    ], { status, refreshSeconds: view.joining ? 2 : undefined });
  }

  private async post(request: HttpRequest, response: HttpResponse): Promise<void> {
    let form: Form;
    try {
      form = await readForm(request);
    } catch (error) {
      const message = error instanceof FormError ? error.message : String(error);
      if (!response.sent) response.send(400, `The form could not be read: ${message}\n`);
      return;
    }
    const refusal = this.guard.refusal(request, form);
    if (refusal !== undefined) {
      this.log("info", `web: refused POST ${request.path} from ${request.remoteAddress}: ${refusal}`);
      response.send(403, `Refused: ${refusal}.\n`);
      return;
    }
    switch (request.path) {
      case "/settings": return this.saveSettings(form, response);
      case "/reset":
        if (form.confirm !== "1") return this.settingsPage(response, undefined, "Tick the box to confirm the factory reset.", 400);
        this.host.factoryReset();
        await this.registration.cancel();
        return redirect(response, "/?done=reset");
      case "/register": {
        if (!this.host.registration().available) break;
        const refused = await this.registration.start(form.user ?? "");
        if (refused !== undefined) return this.statusPage(response, undefined, 400, refused);
        return redirect(response, "/?done=registering");
      }
      case "/register/cancel":
        await this.registration.cancel();
        return redirect(response, "/?done=cancelled");
      case "/wifi": {
        const wifi = this.host.wifi;
        if (!wifi) break;
        const result = await wifi.join(form.ssid ?? "", form.password ?? "");
        return redirect(response, result.ok ? "/wifi?done=joined" : "/wifi");
      }
    }
    response.send(404, `Nothing to post to at ${request.path}\n`);
  }

  private saveSettings(form: Form, response: HttpResponse): void {
    const name = (form.name ?? "").trim();
    const description = (form.description ?? "").trim();
    const problem = nameProblem(name) ?? descriptionProblem(description);
    if (problem) return this.settingsPage(response, undefined, problem, 400);
    // A checkbox that is not ticked is simply absent from the form.
    this.host.saveSettings({ name, description, localDiscovery: form.local_discovery === "1", localPrinting: form.local_printing === "1" });
    redirect(response, "/settings?done=saved");
  }
}

function redirect(response: HttpResponse, location: string): void {
  if (!response.sent) response.send(303, "", { headers: [["Location", location]] });
}
