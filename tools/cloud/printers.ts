import { atLeast, isDevice, roleOf, SHARE_ROLES, type Role } from "./access.js";
import { revokeRobotRefreshTokens, newSecret } from "./auth.js";
import { ERR, fail, ok, type Answer, type ApiCall, type Context, type Principal } from "./context.js";
import { applyPrinterFields, FieldError, parseLocalSettings, pendingSatisfied } from "./fields.js";
import type { LocalSettingsValues, PrinterRecord, ShareRole } from "./store.js";
import { ensureUser, validEmail } from "./users.js";
import { connectionStatus, printerView } from "./views.js";

// Printer endpoints (reference 1.1): printer, update, list, search, delete, proximitytoken.

// A user sees the printers they own or that are shared with them; a device sees the printers
// it speaks for. Unclaimed printers belong to nobody yet.
export function visiblePrinters(ctx: Context, principal: Principal): PrinterRecord[] {
  return Object.values(ctx.store.state.printers).filter((p) => roleOf(p, principal.subject) !== undefined);
}

export type Lookup = { printer: PrinterRecord } | { refusal: Answer };

// needed is the least role the call takes; what a shared USER may do is named at each call site.
export function lookupPrinter(ctx: Context, call: ApiCall, id: string | undefined, needed: Role = "OWNER"): Lookup {
  if (!id) return { refusal: fail(ERR.badRequest, "Missing parameter: printerid.") };
  const state = ctx.store.state;
  const printer = Object.hasOwn(state.printers, id) ? state.printers[id] : undefined;
  if (!printer || printer.ownerId === undefined) return { refusal: fail(ERR.notFound, "Unknown printer.") };
  const subject = call.principal!.subject;
  if (!atLeast(roleOf(printer, subject), needed)) return { refusal: fail(ERR.forbidden, "User is not authorized.") };
  if (isDevice(subject)) printer.robotSeenAt = ctx.now();
  printer.accessTime = ctx.now();
  return { printer };
}

export function printer(ctx: Context, call: ApiCall): Answer {
  const id = call.params.get("printerid");
  const deleted = id !== undefined && Object.hasOwn(ctx.store.state.deletedPrinters, id);
  if (deleted) {
    // Privet 4.1.5 says success:false with no printer; SavaPage saw success:true with no printers.
    if (ctx.options.deletionShape === "empty-printers") return ok({ printers: [] });
    return fail(ERR.notFound, "Unknown printer.");
  }
  const found = lookupPrinter(ctx, call, id, "USER");
  if ("refusal" in found) return found.refusal;
  return ok({ printers: [printerView(ctx, found.printer)] });
}

export function update(ctx: Context, call: ApiCall): Answer {
  const found = lookupPrinter(ctx, call, call.params.get("printerid"), "MANAGER");
  if ("refusal" in found) return found.refusal;
  const printer = found.printer;
  const fromDevice = isDevice(call.principal!.subject);
  let notifySettings = false;
  try {
    const settingsText = call.params.get("local_settings");
    const settings = settingsText === undefined ? undefined : parseLocalSettings(settingsText);
    if (settings) {
      // Privet 4.1.3: only the device writes current; everyone else writes pending.
      if (fromDevice) {
        if (settings.pending && Object.keys(settings.pending).length > 0) return fail(ERR.badRequest, "A device never sends pending local settings (Privet 4.1.3.1).");
        if (settings.current) printer.localSettings.current = settings.current;
        const pending = printer.localSettings.pending;
        // Chrome's connector sends an empty pending to mean "done with it".
        if (pending && (settings.pending !== undefined || pendingSatisfied(printer.localSettings.current, pending))) delete printer.localSettings.pending;
      } else {
        if (settings.current) return fail(ERR.forbidden, "Only the printer changes current local settings; send pending.");
        if (settings.pending) notifySettings = setPending(printer, settings.pending);
      }
    }
    applyPrinterFields(printer, call.params);
  } catch (error) {
    if (error instanceof FieldError) return fail(ERR.badRequest, error.message);
    throw error;
  }
  printer.updateTime = ctx.now();
  ctx.commit();
  if (notifySettings) ctx.notify(printer.id, `${printer.id}/update_settings`);
  return ok({ printer: printerView(ctx, printer) }, "Printer updated successfully");
}

// What the owner asks for, merged over what is already pending and written as a full set
// (Privet 4.1.2's example), so a device may take it whole; dropped when it asks for nothing new.
export function setPending(printer: PrinterRecord, values: LocalSettingsValues): boolean {
  const pending = { ...printer.localSettings.current, ...(printer.localSettings.pending ?? {}), ...values };
  if (Object.keys(values).length === 0 || pendingSatisfied(printer.localSettings.current, pending)) {
    delete printer.localSettings.pending;
    return false;
  }
  printer.localSettings.pending = pending;
  return true;
}

export function list(ctx: Context, call: ApiCall): Answer {
  const proxy = call.params.get("proxy");
  if (proxy === undefined) return fail(ERR.badRequest, "Missing parameter: proxy.");
  const printers = visiblePrinters(ctx, call.principal!).filter((p) => p.proxy === proxy);
  return ok({ printers: printers.map((p) => printerView(ctx, p)) });
}

export function search(ctx: Context, call: ApiCall): Answer {
  const q = (call.params.get("q") ?? "").toLowerCase();
  const wanted = (call.params.get("connection_status") ?? "ALL").toUpperCase();
  const printers = visiblePrinters(ctx, call.principal!).filter((p) => {
    if (wanted !== "ALL" && connectionStatus(ctx, p) !== wanted) return false;
    if (q === "") return true;
    return [p.name, p.displayName, p.defaultDisplayName, p.description, ...p.tags].some((s) => s.toLowerCase().includes(q));
  });
  return ok({ printers: printers.map((p) => printerView(ctx, p)) });
}

export function removePrinter(ctx: Context, printer: PrinterRecord): void {
  const state = ctx.store.state;
  delete state.printers[printer.id];
  state.deletedPrinters[printer.id] = ctx.now();
  revokeRobotRefreshTokens(ctx, printer.id);
  for (const [code, record] of Object.entries(state.authCodes)) if (record.printerId === printer.id) delete state.authCodes[code];
  for (const job of Object.values(state.jobs)) {
    if (job.printerId !== printer.id) continue;
    delete state.jobs[job.id];
    if (job.document) ctx.store.removeDocument(job.document);
    if (job.converted) ctx.store.removeDocument(job.converted.document);
  }
  ctx.commit();
  ctx.notify(printer.id, `${printer.id}/delete`, printer.ownerId);
  // The robot's session would otherwise stay up on a password that no longer refreshes;
  // the push is queued ahead of the end of the stream, so the device still reads why.
  ctx.disconnect(printer.id);
}

export function deletePrinter(ctx: Context, call: ApiCall): Answer {
  const found = lookupPrinter(ctx, call, call.params.get("printerid"));
  if ("refusal" in found) return found.refusal;
  removePrinter(ctx, found.printer);
  return ok({}, "Printer deleted successfully");
}

export function proximityToken(ctx: Context, call: ApiCall): Answer {
  const found = lookupPrinter(ctx, call, call.params.get("printerid"));
  if ("refusal" in found) return found.refusal;
  const user = (call.params.get("user") ?? "").trim().toLowerCase();
  if (user === "") return fail(ERR.badRequest, "Missing parameter: user.");
  // Only someone the printer is shared with (or its owner) may use it from near it.
  if (roleOf(found.printer, { kind: "user", email: user }) === undefined) return fail(ERR.forbidden, "User is not authorized.");
  const expiresIn = ctx.options.proximityTokenLifetimeSeconds;
  return ok({ proximity_token: { user, token: newSecret(18), expires_in: expiresIn } });
}

// Emulator only: whose a claimed printer is, so the submit command can act as
// its owner without being told. The emulator hands any user a token for the
// asking, so this gives nothing away that was not open already.
export function emulatorOwner(ctx: Context, call: ApiCall): Answer {
  const id = call.params.get("printerid");
  if (!id) return fail(ERR.badRequest, "Missing parameter: printerid.");
  const printers = ctx.store.state.printers;
  const owner = Object.hasOwn(printers, id) ? printers[id].ownerId : undefined;
  if (owner === undefined) return fail(ERR.notFound, "Unknown printer.");
  return ok({ owner });
}

// /share and /unshare (reference 1.1, [G] Share): scope is the user's email. A MANAGER may share
// as USER or MANAGER; only an OWNER (or the printer's device or connector) may hand out OWNER.
// The emulator sends no notifications, so skip_notification changes nothing.
export function share(ctx: Context, call: ApiCall): Answer {
  const found = lookupPrinter(ctx, call, call.params.get("printerid"), "MANAGER");
  if ("refusal" in found) return found.refusal;
  const printer = found.printer;
  if (call.params.get("public") === "true") return fail(ERR.unsupported, "The emulator does not share printers publicly; share with a user's email in scope.");
  const scope = (call.params.get("scope") ?? "").trim().toLowerCase();
  if (!validEmail(scope)) return fail(ERR.badRequest, "scope must be the email address of the user to share with.");
  const role = (call.params.get("role") ?? "USER").toUpperCase() as ShareRole;
  if (!SHARE_ROLES.includes(role)) return fail(ERR.badRequest, `role must be one of ${SHARE_ROLES.join(", ")}.`);
  if (scope === printer.ownerId) return fail(ERR.conflict, "That user owns the printer already.");
  const caller = roleOf(printer, call.principal!.subject);
  const current = printer.shares?.[scope];
  // A manager cannot raise anyone to OWNER, nor lower an OWNER.
  if ((role === "OWNER" || current === "OWNER") && !atLeast(caller, "OWNER")) return fail(ERR.forbidden, "Only an owner may share or change the OWNER role.");
  ensureUser(ctx, scope);
  printer.shares = { ...printer.shares, [scope]: role };
  printer.updateTime = ctx.now();
  ctx.commit();
  return ok({ printer: printerView(ctx, printer) }, "Printer shared successfully.");
}

export function unshare(ctx: Context, call: ApiCall): Answer {
  const subject = call.principal!.subject;
  const scope = (call.params.get("scope") ?? "").trim().toLowerCase();
  // Anyone may leave a printer shared with them; removing others takes a MANAGER.
  const leaving = subject.kind === "user" && scope === subject.email;
  const found = lookupPrinter(ctx, call, call.params.get("printerid"), leaving ? "USER" : "MANAGER");
  if ("refusal" in found) return found.refusal;
  const printer = found.printer;
  if (scope === printer.ownerId) return fail(ERR.conflict, "The owner cannot be unshared; delete the printer instead.");
  const current = printer.shares && Object.hasOwn(printer.shares, scope) ? printer.shares[scope] : undefined;
  if (current === undefined) return fail(ERR.notFound, "The printer is not shared with that user.");
  if (current === "OWNER" && !leaving && !atLeast(roleOf(printer, subject), "OWNER")) return fail(ERR.forbidden, "Only an owner may remove an OWNER.");
  const { [scope]: _removed, ...rest } = printer.shares!;
  printer.shares = rest;
  printer.updateTime = ctx.now();
  ctx.commit();
  return ok({}, "Printer unshared successfully.");
}
