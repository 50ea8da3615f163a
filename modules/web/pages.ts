import type { ResponseWriter } from "../http/response.js";
import type { Job } from "../jobs/job.js";
import type { WifiNetwork } from "../hal/network.js";
import { escapeHtml, lookup, safeHref } from "./html.js";
import type { WebHost } from "./host.js";
import type { WebRegistrationView } from "./registration.js";
import type { WifiView } from "../wifi/setup.js";
import { TOKEN_FIELD } from "./guard.js";
import { WrittenSection, type Section } from "./page.js";

// The sections of the printer's pages. Each writes a few hundred bytes;
// everything a person or the network can have typed goes through escapeHtml.
//
// A section is a WrittenSection (page.ts): the module function that writes
// it and what it was given, not a closure.

const STATE_WORDS: Record<string, string> = { idle: "Ready", processing: "Printing", stopped: "Stopped" };
const JOB_WORDS: Record<string, string> = {
  draft: "Waiting for its document", queued: "Queued", in_progress: "Printing", stopped: "Stopped", done: "Done", aborted: "Aborted",
};
const CONNECTION_WORDS: Record<string, string> = {
  online: "Online", offline: "Offline", connecting: "Connecting", "not-configured": "Not configured (local only)",
};

function hidden(token: string): string {
  return `<input type="hidden" name="${TOKEN_FIELD}" value="${escapeHtml(token)}">`;
}

function badge(kind: string, text: string): string {
  return `<span class="badge ${escapeHtml(kind)}">${escapeHtml(text)}</span>`;
}

function jobLabel(job: Job): string {
  return job.jobName ?? job.description ?? `Job ${job.id}`;
}

export function notices(notice: string | undefined, error: string | undefined): Section {
  return new WrittenSection(writeNotices, notice, error, undefined);
}

function writeNotices(w: ResponseWriter, notice: string | undefined, error: string | undefined): void {
  if (notice) w.write(`<p class="notice" role="status">${escapeHtml(notice)}</p>`);
  if (error) w.write(`<p class="error" role="alert">${escapeHtml(error)}</p>`);
}

export function statusSection(host: WebHost): Section {
  return new WrittenSection(writeStatusSection, host, undefined, undefined);
}

function writeStatusSection(w: ResponseWriter, host: WebHost): void {
  const status = host.status();
  w.write(`<section id="status"><h2>Status</h2><dl><dt>Printer</dt><dd>${badge(status.deviceState, lookup(STATE_WORDS, status.deviceState) ?? status.deviceState)}`);
  if (status.fault) w.write(` <span class="fault">${escapeHtml(status.fault)}</span>`);
  w.write(`</dd><dt>Printing</dt><dd class="current">`);
  if (status.job) w.write(`${escapeHtml(jobLabel(status.job))}, ${status.job.pagesPrinted} page${status.job.pagesPrinted === 1 ? "" : "s"} printed`);
  else w.write("Nothing");
  w.write(`</dd><dt>Cloud</dt><dd>${badge(status.connection, lookup(CONNECTION_WORDS, status.connection) ?? status.connection)}</dd>`);
  if (status.clock) w.write(`<dt>Clock</dt><dd class="clock${status.clock.set ? "" : " setting"}">${escapeHtml(status.clock.text)}</dd>`);
  w.write(`</dl></section>`);
}

export function jobsSection(host: WebHost): Section {
  return new WrittenSection(writeJobsSection, host, undefined, undefined);
}

function writeJobsSection(w: ResponseWriter, host: WebHost): void {
  const jobs = host.jobs();
  w.write(`<section id="jobs"><h2>Jobs</h2>`);
  if (jobs.length === 0) {
    w.write(`<p class="note">No jobs yet.</p></section>`);
    return;
  }
  w.write(`<table><thead><tr><th>Job</th><th>State</th><th>Pages</th></tr></thead><tbody>`);
  for (const job of jobs) {
    w.write(`<tr data-job-id="${escapeHtml(job.id)}"><td>${escapeHtml(jobLabel(job))}</td><td>${badge(job.state, lookup(JOB_WORDS, job.state) ?? job.state)}${job.description !== undefined ? ` ${escapeHtml(job.description)}` : ""}</td><td>${job.pagesPrinted}</td></tr>`);
  }
  w.write(`</tbody></table></section>`);
}

export function registrationSection(host: WebHost, view: WebRegistrationView, token: string): Section {
  return new WrittenSection(writeRegistrationSection, host, view, token);
}

function writeRegistrationSection(w: ResponseWriter, host: WebHost, view: WebRegistrationView, token: string): void {
  const reg = host.registration();
  w.write(`<section id="registration"><h2>Cloud registration</h2>`);
  if (!reg.available) {
    w.write(`<p class="note">This printer runs on the local network only; there is no Cloud Print service to register with.</p></section>`);
    return;
  }
  if (reg.registered) {
    w.write(`<dl><dt>State</dt><dd class="reg-state">Registered</dd><dt>Owner</dt><dd>${escapeHtml(reg.owner)}</dd><dt>Printer id</dt><dd>${escapeHtml(reg.printerId)}</dd></dl>`);
    w.write(`<p class="note">Factory reset (Settings) removes the registration.</p></section>`);
    return;
  }
  if (view.user !== undefined) {
    w.write(`<dl><dt>For</dt><dd>${escapeHtml(view.user)}</dd><dt>State</dt><dd class="reg-state">`);
    const href = view.claimUrl !== undefined ? safeHref(view.claimUrl) : undefined;
    if (href) {
      w.write(`Waiting for the claim</dd></dl><p>Open the claim page, sign in as ${escapeHtml(view.user)} and claim the printer:</p>`);
      w.write(`<p><a id="claim-link" href="${href}" target="_blank" rel="noopener noreferrer">${href}</a></p>`);
    } else if (reg.phase === "confirming") {
      w.write(`Waiting for you at the printer</dd></dl><p><strong>Press OK on the printer</strong> to allow this registration (or Cancel to refuse).</p>`);
    } else {
      w.write(`Registering with the service…</dd></dl>`);
    }
    w.write(`<form method="post" action="/register/cancel">${hidden(token)}<button class="secondary" type="submit">Cancel registration</button></form></section>`);
    return;
  }
  if (reg.waitingForClock) {
    w.write(`<p class="reg-state">Not registered. Registration opens once the printer has set its clock from the network (it needs the date to trust the service); this page refreshes by itself.</p></section>`);
    return;
  }
  w.write(`<p class="reg-state">Not registered.${reg.phase === "idle" ? "" : ` Another client is registering it (${escapeHtml(reg.phase)}).`}</p>`);
  w.write(`<form method="post" action="/register">${hidden(token)}<label for="user">Your email address</label>`);
  w.write(`<input id="user" type="email" name="user" required maxlength="254" autocomplete="email">`);
  w.write(`<p class="note">Register, then press OK on the printer and claim it on the page that appears here.</p><button type="submit">Register</button></form></section>`);
}

function uptime(seconds: number): string {
  const d = Math.floor(seconds / 86400), h = Math.floor(seconds / 3600) % 24, m = Math.floor(seconds / 60) % 60;
  return d > 0 ? `${d} d ${h} h` : h > 0 ? `${h} h ${m} min` : `${m} min`;
}

export function identitySection(host: WebHost): Section {
  return new WrittenSection(writeIdentitySection, host, undefined, undefined);
}

function writeIdentitySection(w: ResponseWriter, host: WebHost): void {
  const id = host.identity();
  w.write(`<section id="identity"><h2>This printer</h2><dl><dt>Name</dt><dd class="name">${escapeHtml(id.name)}</dd>`);
  if (id.description) w.write(`<dt>Description</dt><dd>${escapeHtml(id.description)}</dd>`);
  w.write(`<dt>Model</dt><dd>${escapeHtml(id.manufacturer)} ${escapeHtml(id.model)}</dd><dt>Serial</dt><dd>${escapeHtml(id.serialNumber)}</dd>`);
  w.write(`<dt>Firmware</dt><dd>${escapeHtml(id.firmware)}</dd><dt>Address</dt><dd>${id.addresses.map(escapeHtml).join("<br>")}</dd><dt>Up</dt><dd>${uptime(id.uptimeSeconds)}</dd></dl></section>`);
}

export function settingsSection(host: WebHost, token: string): Section {
  return new WrittenSection(writeSettingsSection, host, token, undefined);
}

function writeSettingsSection(w: ResponseWriter, host: WebHost, token: string): void {
  const s = host.settings();
  w.write(`<section id="settings"><h2>Settings</h2><form method="post" action="/settings">${hidden(token)}`);
  w.write(`<label for="name">Name</label><input id="name" type="text" name="name" required maxlength="64" value="${escapeHtml(s.name)}">`);
  w.write(`<label for="description">Description (where it is)</label><input id="description" type="text" name="description" maxlength="128" value="${escapeHtml(s.description)}">`);
  w.write(`<label class="check"><input type="checkbox" name="local_discovery" value="1"${s.localDiscovery ? " checked" : ""}> Local discovery (announce on the network and offer the local API)</label>`);
  w.write(`<label class="check"><input type="checkbox" name="local_printing" value="1"${s.localPrinting ? " checked" : ""}> Local printing (print from computers on this network)</label>`);
  w.write(`<button type="submit">Save</button></form></section>`);
}

export function resetSection(token: string): Section {
  return new WrittenSection(writeResetSection, token, undefined, undefined);
}

function writeResetSection(w: ResponseWriter, token: string): void {
  w.write(`<section id="reset"><h2>Factory reset</h2><p class="note">Forgets the cloud registration, the name, the settings and the Wi-Fi network, as a long press of the printer's button does.</p>`);
  w.write(`<form method="post" action="/reset">${hidden(token)}<label class="check"><input type="checkbox" name="confirm" value="1" required> I want to erase this printer's settings</label>`);
  w.write(`<button class="danger" type="submit">Factory reset</button></form></section>`);
}

export function wifiSection(view: WifiView, identity?: { name: string; port?: number; localName?: string }): Section {
  return new WrittenSection(writeWifiSection, view, identity, undefined);
}

function writeWifiSection(w: ResponseWriter, view: WifiView, identity?: { name: string; port?: number; localName?: string }): void {
  const status = view.status;
  w.write(`<section id="wifi-status"><h2>Wi-Fi</h2><dl><dt>Network</dt><dd class="wifi-state">`);
  if (view.joining) w.write(`Joining ${escapeHtml(view.joining)}…`);
  else if (status.ssid) w.write(`Connected to ${escapeHtml(status.ssid)} as ${escapeHtml(status.address ?? "")}`);
  else w.write("Not connected");
  w.write(`</dd>`);
  if (status.accessPoint) w.write(`<dt>Setup network</dt><dd>${escapeHtml(status.accessPoint.ssid)} (${escapeHtml(status.accessPoint.address)})</dd>`);
  if (view.stored) w.write(`<dt>Remembered</dt><dd>${escapeHtml(view.stored)}</dd>`);
  w.write(`</dl>`);
  if (status.ssid && status.accessPoint) {
    // The last thing the person sees on the setup network: where to find the printer once they leave it.
    const port = identity?.port === undefined || identity.port === 80 ? "" : `:${identity.port}`;
    const byAddress = `http://${status.address ?? ""}${port}/`;
    w.write(`<div class="notice" id="wifi-done"><p>Done: <strong class="printer-name">${escapeHtml(identity?.name ?? "the printer")}</strong> is on ${escapeHtml(status.ssid)}.</p>`);
    w.write(`<p>Reconnect this phone or computer to ${escapeHtml(status.ssid)}, then open <a class="new-address" href="${escapeHtml(byAddress)}">${escapeHtml(byAddress)}</a>`);
    if (identity?.localName) {
      const byName = `http://${identity.localName}${port}/`;
      w.write(` or, by name, <a class="local-name" href="${escapeHtml(byName)}">${escapeHtml(byName)}</a>`);
    }
    w.write(`. This setup network closes in a minute.</p></div>`);
  }
  w.write(`</section>`);
}

export function wifiFormSection(networks: WifiNetwork[], token: string): Section {
  return new WrittenSection(writeWifiFormSection, networks, token, undefined);
}

function writeWifiFormSection(w: ResponseWriter, networks: WifiNetwork[], token: string): void {
  w.write(`<section id="wifi-join"><h2>Join a network</h2><form method="post" action="/wifi">${hidden(token)}`);
  if (networks.length === 0) w.write(`<p class="note">No networks found. Reload to scan again.</p>`);
  for (const n of networks) {
    const bars = n.rssi >= -55 ? "strong" : n.rssi >= -70 ? "good" : "weak";
    w.write(`<label class="check net"><span><input type="radio" name="ssid" value="${escapeHtml(n.ssid)}" required> ${escapeHtml(n.ssid)}</span>`);
    w.write(`<span class="note">${n.secure ? "password" : "open"}, ${bars}</span></label>`);
  }
  w.write(`<label for="password">Password</label><input id="password" type="password" name="password" maxlength="63" autocomplete="off">`);
  w.write(`<button type="submit">Join</button> <a href="/wifi">Scan again</a></form>`);
  w.write(`<p class="note">The printer keeps the network it joins. A long press of its button forgets it and opens the setup network again.</p></section>`);
}
