import type { IncomingMessage } from "node:http";
import { timingSafeEqual } from "node:crypto";
import { accessList, atLeast, roleOf, type Role } from "./access.js";
import { newSecret } from "./auth.js";
import type { Answer, Context } from "./context.js";
import type { Params } from "./decode.js";
import { settingsKind } from "./fields.js";
import { esc, layout } from "./html.js";
import { removePrinter } from "./printers.js";
import { withdrawn } from "./jobs.js";
import { claim, findUnclaimed } from "./registration.js";
import type { JobRecord, LocalSettingsValues, PrinterRecord, SessionRecord } from "./store.js";
import { ensureUser, validEmail } from "./users.js";
import { connectionStatus, printerState } from "./views.js";

// The pages a person uses: sign in (an email address is enough here), claim a printer,
// see and manage "My printers". A cookie session, and a CSRF token in every form.

export const SESSION_COOKIE = "cloudprint_session";
const MAX_SESSIONS = 1000;

export interface PageRequest { req: IncomingMessage; method: string; path: string; params: Params }

function html(status: number, body: string, headers: Record<string, string> = {}): Answer {
  return { status, body: {}, contentType: "text/html; charset=utf-8", bytes: Buffer.from(body), headers };
}

function redirect(location: string, headers: Record<string, string> = {}): Answer {
  return { status: 303, body: {}, contentType: "text/plain; charset=utf-8", bytes: Buffer.from(`See ${location}\n`), headers: { Location: location, ...headers } };
}

export function sessionExpired(ctx: Context, session: SessionRecord): boolean {
  return ctx.now() - session.createdAt >= ctx.options.sessionLifetimeSeconds * 1000;
}

function sessionOf(ctx: Context, req: IncomingMessage): (SessionRecord & { id: string }) | undefined {
  const cookie = req.headers.cookie ?? "";
  const match = new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([A-Za-z0-9_-]{1,64})`).exec(cookie);
  if (!match) return undefined;
  const sessions = ctx.store.state.sessions;
  if (!Object.hasOwn(sessions, match[1])) return undefined;
  // A session lives a fixed time from sign-in, however busy, as Google's sign-ins did not last for ever.
  if (sessionExpired(ctx, sessions[match[1]])) {
    delete sessions[match[1]];
    ctx.commit();
    return undefined;
  }
  return { id: match[1], ...sessions[match[1]] };
}

function csrfOk(session: SessionRecord, params: Params): boolean {
  const given = Buffer.from(params.get("csrf") ?? "");
  const wanted = Buffer.from(session.csrf);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

// Only paths on this server: an open redirect after sign-in would be a phishing aid. Printable
// ASCII only, since browsers drop tabs and newlines ("/\t/evil" becomes "//evil") and a
// Location header cannot carry anything else.
function safeContinue(value: string | undefined): string {
  return value !== undefined && /^\/(?![/\\])[\x21-\x7e]*$/.test(value) && !value.includes("\\") ? value : "/cloudprint/printers";
}

function toSignIn(req: IncomingMessage): Answer {
  return redirect(`/signin?continue=${encodeURIComponent(safeContinue(req.url))}`);
}

export function handlePage(ctx: Context, page: PageRequest): Answer | undefined {
  const { method, path } = page;
  const route = `${method} ${path}`;
  switch (route) {
    case "GET /": return redirect("/cloudprint/printers");
    case "GET /signin": return signInPage(page.params.get("continue"));
    case "POST /signin": return signIn(ctx, page.params);
    case "POST /signout": return signOut(ctx, page);
    case "GET /cloudprint/regtokenpage": return regTokenPage(ctx, page.params);
    case "GET /cloudprint/regconfirmpage": return html(200, layout("Registered", `<h1>Printer registered</h1><div class="card"><p><b>${esc(page.params.get("printername"))}</b> is now registered to <b>${esc(page.params.get("email"))}</b>.</p></div>`));
  }
  const pages = ["/cloudprint/claimprinter.html", "/cloudprint/printers", "/cloudprint/printers/settings", "/cloudprint/printers/delete", "/cloudprint/printers/deletejob"];
  if (!pages.includes(path)) return undefined;
  const session = sessionOf(ctx, page.req);
  if (!session) return method === "GET" ? toSignIn(page.req) : html(403, layout("Signed out", `<div class="error">Your session has ended. <a href="/signin">Sign in</a> again.</div>`));
  if (method === "POST" && !csrfOk(session, page.params)) {
    return html(403, layout("Refused", `<div class="error">This form is stale or did not come from this site. Go back, reload and try again.</div>`, session));
  }
  switch (route) {
    case "GET /cloudprint/claimprinter.html": return claimPage(ctx, session, page.params.get("token") ?? "");
    case "POST /cloudprint/claimprinter.html": {
      const token = page.params.get("token") ?? "";
      const result = claim(ctx, token, session.email);
      if ("refusal" in result) return claimPage(ctx, session, token, String(result.refusal.body.message));
      return redirect(`/cloudprint/printers?claimed=${encodeURIComponent(result.printer.id)}`);
    }
    case "GET /cloudprint/printers": return printersPage(ctx, session, page.params);
    case "POST /cloudprint/printers/settings": return editSettings(ctx, session, page.params);
    case "POST /cloudprint/printers/deletejob": return deleteJobPage(ctx, session, page.params);
    case "POST /cloudprint/printers/delete": {
      const printer = owned(ctx, session, page.params.get("printerid"));
      if (!printer) return html(404, layout("Not found", `<div class="error">No such printer among yours.</div>`, session));
      removePrinter(ctx, printer);
      return redirect(`/cloudprint/printers?deleted=${encodeURIComponent(printer.name)}`);
    }
  }
  return html(405, layout("Not allowed", `<div class="error">${esc(method)} is not used on this page.</div>`, session), { Allow: "GET, POST" });
}

function signInPage(next: string | undefined, error = ""): Answer {
  return html(error ? 400 : 200, layout("Sign in", `<h1>Sign in</h1>
${error ? `<div class="error">${esc(error)}</div>` : ""}
<div class="card"><p class="muted">This is an emulator: an email address is all it takes. Nothing is sent anywhere.</p>
<form method="post" action="/signin"><input type="hidden" name="continue" value="${esc(safeContinue(next))}">
<div class="row"><label for="email">Email</label><input id="email" type="email" name="email" required autofocus placeholder="you@example.com"><button type="submit">Sign in</button></div></form></div>`));
}

function signIn(ctx: Context, params: Params): Answer {
  const email = (params.get("email") ?? "").trim().toLowerCase();
  if (!validEmail(email)) return signInPage(params.get("continue"), "That is not an email address.");
  ensureUser(ctx, email);
  const sessions = ctx.store.state.sessions;
  const ids = Object.keys(sessions);
  // Oldest first (insertion order): an unattended emulator signs in a lot during tests.
  for (const old of ids.slice(0, Math.max(0, ids.length - MAX_SESSIONS + 1))) delete sessions[old];
  const id = newSecret(24);
  sessions[id] = { email, csrf: newSecret(24), createdAt: ctx.now() };
  ctx.commit();
  return redirect(safeContinue(params.get("continue")), {
    "Set-Cookie": `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${ctx.options.sessionLifetimeSeconds}`,
  });
}

function signOut(ctx: Context, page: PageRequest): Answer {
  const session = sessionOf(ctx, page.req);
  if (session && csrfOk(session, page.params)) {
    delete ctx.store.state.sessions[session.id];
    ctx.commit();
  }
  return redirect("/signin", { "Set-Cookie": `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0` });
}

// Extra rows carry a class, so a test (or a person's stylesheet) can find them.
function details(printer: PrinterRecord, extra: Array<[label: string, value: string, className: string]> = []): string {
  const rows: Array<[string, string]> = [
    ["Name", printer.displayName || printer.defaultDisplayName || printer.name],
    ["Printer id", printer.id],
    ["Manufacturer", printer.manufacturer],
    ["Model", printer.model],
    ["Firmware", printer.firmware],
    ["Description", printer.description],
  ];
  const shown = rows.filter(([, v]) => v !== "").map(([k, v]) => `<dt>${esc(k)}</dt><dd>${k === "Printer id" ? `<code>${esc(v)}</code>` : esc(v)}</dd>`);
  const more = extra.map(([k, v, c]) => `<dt>${esc(k)}</dt><dd class="${esc(c)}">${esc(v)}</dd>`);
  return `<dl>${[...shown, ...more].join("")}</dl>`;
}

function claimPage(ctx: Context, session: SessionRecord, token: string, error = ""): Answer {
  const errorBox = error ? `<div class="error">${esc(error)}</div>` : "";
  const ask = `<form method="get" action="/cloudprint/claimprinter.html"><div class="row"><label for="token">Registration token</label><input id="token" type="text" name="token" value="${esc(token)}" required><button class="secondary" type="submit">Look up</button></div></form>`;
  if (token === "") return html(200, layout("Claim a printer", `<h1>Claim a printer</h1>${errorBox}<div class="card"><p>Type the registration token the printer printed or showed.</p>${ask}</div>`, session));
  const printer = findUnclaimed(ctx, token);
  if (!printer || (printer.registrationExpiresAt ?? 0) <= ctx.now()) {
    return html(error ? 400 : 404, layout("Claim a printer", `<h1>Claim a printer</h1>${errorBox}<div class="error">No printer is waiting for this token: it was already claimed, or it expired. Start the registration on the printer again.</div><div class="card">${ask}</div>`, session));
  }
  const left = Math.max(0, Math.round(((printer.registrationExpiresAt ?? 0) - ctx.now()) / 1000));
  return html(error ? 400 : 200, layout("Claim a printer", `<h1>Claim this printer?</h1>${errorBox}
<div class="card" id="printer"><h2>${esc(printer.displayName || printer.defaultDisplayName || printer.name)}</h2>${details(printer)}
<p class="muted">It will be registered to <b>${esc(session.email)}</b>. The token is good for ${left} more seconds.</p>
<form method="post" action="/cloudprint/claimprinter.html"><input type="hidden" name="csrf" value="${esc(session.csrf)}"><input type="hidden" name="token" value="${esc(token)}"><button type="submit" id="claim">Claim</button></form></div>`, session));
}

// The printer, when the signed-in person holds at least the role an action takes (as the API asks).
function owned(ctx: Context, session: SessionRecord, id: string | undefined, needed: Role = "OWNER"): PrinterRecord | undefined {
  const printers = ctx.store.state.printers;
  const printer = id !== undefined && Object.hasOwn(printers, id) ? printers[id] : undefined;
  return printer && atLeast(roleOf(printer, { kind: "user", email: session.email }), needed) ? printer : undefined;
}

function settingInput(key: string, value: boolean | number | string): string {
  const name = `s:${key}`;
  switch (settingsKind(key)) {
    case "boolean": return `<input type="checkbox" name="${esc(name)}" aria-label="${esc(key)}"${value === true ? " checked" : ""}>`;
    case "number": return `<input type="number" min="1" max="86400" name="${esc(name)}" aria-label="${esc(key)}" value="${esc(value)}">`;
    default: return `<span class="muted">${esc(value)}</span>`;
  }
}

function settingsForm(printer: PrinterRecord, session: SessionRecord): string {
  const { current, pending } = printer.localSettings;
  const rows = Object.entries(current).map(([key, value]) => {
    const asked = pending && Object.hasOwn(pending, key) ? pending[key] : undefined;
    const pendingCell = asked === undefined || asked === value ? "" : `<span class="pending">${esc(asked)}</span>`;
    return `<tr><td><code>${esc(key)}</code></td><td>${esc(value)}</td><td>${pendingCell}</td><td>${settingInput(key, asked ?? value)}</td></tr>`;
  }).join("");
  return `<form method="post" action="/cloudprint/printers/settings" class="settings-form">
<input type="hidden" name="csrf" value="${esc(session.csrf)}"><input type="hidden" name="printerid" value="${esc(printer.id)}">
<table class="settings"><tr><th>Local setting</th><th>Current</th><th>Pending</th><th>Change to</th></tr>${rows}</table>
<div class="row"><button type="submit" class="secondary">Save settings</button><span class="muted">The printer applies them the next time it checks in.</span></div></form>`;
}

function printersPage(ctx: Context, session: SessionRecord, params: Params): Answer {
  const me = { kind: "user" as const, email: session.email };
  const mine = Object.values(ctx.store.state.printers).filter((p) => roleOf(p, me) !== undefined).sort((a, b) => a.createTime - b.createTime);
  const notices: string[] = [];
  const claimed = params.get("claimed");
  if (claimed && Object.hasOwn(ctx.store.state.printers, claimed)) notices.push(`${ctx.store.state.printers[claimed].name} is now yours.`);
  const deleted = params.get("deleted");
  if (deleted) notices.push(`${deleted} was deleted.`);
  if (params.get("saved")) notices.push("Settings saved as pending; the printer will pick them up.");
  const cards = mine.map((printer) => {
    const status = connectionStatus(ctx, printer);
    const role = roleOf(printer, me)!;
    const access = accessList(printer).map((a) => `${a.email} (${a.role})`).join(", ");
    const rows: Array<[string, string, string]> = [["State", printerState(printer), "state"], ["Connection", status, "connection"], ["Your role", role, "role"], ["Access", access, "access"]];
    return `<div class="card printer" data-printer-id="${esc(printer.id)}" data-role="${esc(role)}"><h2>${esc(printer.displayName || printer.defaultDisplayName || printer.name)} <span class="badge ${esc(status)}">${esc(status)}</span></h2>
${details(printer, rows)}
${jobsTable(ctx, printer, session, role)}
${atLeast(role, "MANAGER") ? settingsForm(printer, session) : ""}
${atLeast(role, "OWNER") ? `<form method="post" action="/cloudprint/printers/delete" class="row"><input type="hidden" name="csrf" value="${esc(session.csrf)}"><input type="hidden" name="printerid" value="${esc(printer.id)}"><button type="submit" class="danger">Delete</button></form>` : ""}</div>`;
  }).join("\n");
  const empty = `<div class="card"><p>No printers yet. Start a registration on a printer, then open the link it gives you, or <a href="/cloudprint/claimprinter.html">type its token</a>.</p></div>`;
  return html(200, layout("My printers", `<h1>My printers</h1>${notices.map((n) => `<div class="notice">${esc(n)}</div>`).join("")}${cards || empty}`, session));
}

const RECENT_JOBS = 10;

// The state as a person reads it: the type, and the cause when there is one (ABORTED and STOPPED have one).
function stateText(job: JobRecord): string {
  const state = job.semanticState.state as Record<string, unknown>;
  const causes = ["device_state_cause", "device_action_cause", "user_action_cause", "service_action_cause"];
  const cause = causes.map((c) => state[c] as Record<string, unknown> | undefined).find((c) => c !== undefined);
  const code = cause?.error_code ?? cause?.action_code;
  return code === undefined ? String(state.type) : `${String(state.type)} (${String(code)})`;
}

function jobsTable(ctx: Context, printer: PrinterRecord, session: SessionRecord, role: Role): string {
  // A shared USER sees their own jobs only, as /jobs answers them.
  const all = Object.values(ctx.store.state.jobs).filter((j) => j.printerId === printer.id && (atLeast(role, "MANAGER") || j.ownerId === session.email)).sort((a, b) => b.createTime - a.createTime);
  if (all.length === 0) return `<p class="muted jobs-empty">No jobs yet.</p>`;
  const rows = all.slice(0, RECENT_JOBS).map((job) => {
    const type = job.converted ? `${job.contentType} → ${job.converted.contentType}` : job.contentType;
    const pages = job.semanticState.pages_printed ?? "";
    return `<tr class="job" data-job-id="${esc(job.id)}"><td>${esc(job.title)}</td><td class="job-state">${esc(stateText(job))}</td><td>${esc(pages)}</td><td>${esc(type)}</td><td>${esc(new Date(job.createTime).toISOString().replace("T", " ").slice(0, 19))}</td>`
      + `<td><form class="inline" method="post" action="/cloudprint/printers/deletejob"><input type="hidden" name="csrf" value="${esc(session.csrf)}"><input type="hidden" name="jobid" value="${esc(job.id)}"><button type="submit" class="secondary">Delete</button></form></td></tr>`;
  }).join("");
  const more = all.length > RECENT_JOBS ? `<p class="muted">and ${all.length - RECENT_JOBS} older jobs.</p>` : "";
  return `<table class="settings jobs"><tr><th>Job</th><th>State</th><th>Pages</th><th>Type</th><th>Submitted (UTC)</th><th></th></tr>${rows}</table>${more}`;
}

function deleteJobPage(ctx: Context, session: SessionRecord, params: Params): Answer {
  const jobs = ctx.store.state.jobs;
  const id = params.get("jobid") ?? "";
  const job = Object.hasOwn(jobs, id) ? jobs[id] : undefined;
  // A person may remove the jobs on their own printers, as /deletejob allows the owner.
  if (!job || !owned(ctx, session, job.printerId, "MANAGER")) return html(404, layout("Not found", `<div class="error">No such job on your printers.</div>`, session));
  delete jobs[job.id];
  withdrawn(ctx, job);
  if (job.document) ctx.store.removeDocument(job.document);
  if (job.converted) ctx.store.removeDocument(job.converted.document);
  ctx.commit();
  return redirect("/cloudprint/printers");
}

function editSettings(ctx: Context, session: SessionRecord, params: Params): Answer {
  const printer = owned(ctx, session, params.get("printerid"), "MANAGER");
  if (!printer) return html(404, layout("Not found", `<div class="error">No such printer among yours.</div>`, session));
  const wanted: LocalSettingsValues = {};
  // Only what the device said it supports (keys of current) can be asked for (Privet 4.1.1).
  for (const [key, value] of Object.entries(printer.localSettings.current)) {
    const kind = settingsKind(key);
    if (kind === "boolean") wanted[key] = params.get(`s:${key}`) === "on";
    else if (kind === "number") {
      const text = params.get(`s:${key}`) ?? String(value);
      if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 86400) {
        return html(400, layout("Bad value", `<div class="error">${esc(key)} must be a whole number from 1 to 86400.</div><p><a href="/cloudprint/printers">Back</a></p>`, session));
      }
      wanted[key] = Number(text);
    }
  }
  // The form shows every value, so it replaces what was pending; values equal to current ask for nothing.
  const diff = Object.fromEntries(Object.entries(wanted).filter(([k, v]) => printer.localSettings.current[k] !== v));
  const changed = Object.keys(diff).length > 0 && JSON.stringify({ ...printer.localSettings.current, ...diff }) !== JSON.stringify(printer.localSettings.pending ?? {});
  // Pending is written as a full set, as in Privet 4.1.2's example, so a device may take it whole.
  if (Object.keys(diff).length > 0) printer.localSettings.pending = { ...printer.localSettings.current, ...diff };
  else delete printer.localSettings.pending;
  printer.updateTime = ctx.now();
  ctx.commit();
  if (changed) ctx.notify(printer.id, `${printer.id}/update_settings`);
  return redirect("/cloudprint/printers?saved=1");
}

function regTokenPage(ctx: Context, params: Params): Answer {
  const token = params.get("t") ?? "";
  const printer = findUnclaimed(ctx, token);
  const link = `${ctx.base()}/claimprinter.html?token=${encodeURIComponent(token)}`;
  const body = printer
    ? `<h1>Finish registering ${esc(printer.name)}</h1><div class="card"><p>Open <a href="${esc(link)}">${esc(link)}</a> and sign in to claim this printer.</p><p>Registration token: <code>${esc(token)}</code></p></div>`
    : `<h1>Registration page</h1><div class="error">This registration token is unknown or already used.</div>`;
  return html(printer ? 200 : 404, layout("Registration", body));
}
