import { accessList } from "./access.js";
import type { Context } from "./context.js";
import type { JobRecord, PrinterRecord } from "./store.js";

// The JSON the service showed for a printer and a job. Times are strings of milliseconds,
// as in captured answers (reference 0.1): devices parse them with GetString + StringToInt64.

// Presence is the push channel, as the service knew it: HTTP calls say nothing of whether a
// push would reach the printer. Away a long time (or never come since it registered), DORMANT.
export function connectionStatus(ctx: Context, printer: PrinterRecord): "ONLINE" | "OFFLINE" | "DORMANT" {
  if (ctx.xmppOnline(printer)) return "ONLINE";
  const since = printer.channelSeenAt ?? printer.createTime;
  return ctx.now() - since > ctx.options.dormantAfterSeconds * 1000 ? "DORMANT" : "OFFLINE";
}

export function queuedJobs(ctx: Context, printerId: string): JobRecord[] {
  return Object.values(ctx.store.state.jobs)
    .filter((j) => j.printerId === printerId && j.semanticState.state.type === "QUEUED")
    .sort((a, b) => a.createTime - b.createTime);
}

export function printerState(printer: PrinterRecord): string {
  const state = (printer.semanticState as { printer?: { state?: unknown } } | undefined)?.printer?.state;
  return typeof state === "string" ? state : "IDLE";
}

export function printerView(ctx: Context, printer: PrinterRecord): Record<string, unknown> {
  const localSettings: Record<string, unknown> = { current: printer.localSettings.current };
  if (printer.localSettings.pending) localSettings.pending = printer.localSettings.pending;
  return {
    id: printer.id,
    name: printer.name,
    defaultDisplayName: printer.defaultDisplayName,
    displayName: printer.displayName || printer.defaultDisplayName || printer.name,
    description: printer.description,
    uuid: printer.uuid,
    manufacturer: printer.manufacturer,
    model: printer.model,
    gcpVersion: printer.gcpVersion,
    setupUrl: printer.setupUrl,
    supportUrl: printer.supportUrl,
    updateUrl: printer.updateUrl,
    firmware: printer.firmware,
    proxy: printer.proxy,
    ownerId: printer.ownerId ?? "",
    access: accessList(printer),
    type: "GOOGLE",
    status: printer.status,
    capsHash: printer.capsHash,
    capabilities: printer.capabilities,
    tags: printer.tags,
    createTime: String(printer.createTime),
    updateTime: String(printer.updateTime),
    accessTime: String(printer.accessTime),
    isTosAccepted: false,
    local_settings: localSettings,
    queuedJobsCount: queuedJobs(ctx, printer.id).length,
    semanticState: printer.semanticState,
    connectionStatus: connectionStatus(ctx, printer),
    notificationChannel: printer.notificationChannel,
  };
}

export function jobView(ctx: Context, job: JobRecord): Record<string, unknown> {
  const base = ctx.base();
  const printer = ctx.store.state.printers[job.printerId];
  const id = encodeURIComponent(job.id);
  return {
    id: job.id,
    title: job.title,
    printerid: job.printerId,
    printerName: printer?.displayName || printer?.name || "",
    ownerId: job.ownerId,
    contentType: job.contentType,
    fileUrl: `${base}/download?id=${id}`,
    ticketUrl: `${base}/ticket?format=xps&output=xml&jobid=${id}`,
    rasterUrl: `${base}/download?id=${id}&forcepwg=1`,
    createTime: String(job.createTime),
    updateTime: String(job.updateTime),
    status: legacyStatus(job.semanticState.state.type as string),
    semanticState: job.semanticState,
    uiState: { summary: String(job.semanticState.state.type) },
    tags: job.tags,
    numberOfPages: job.numberOfPages,
    message: job.message,
    errorCode: job.errorCode,
  };
}

// GCP 1.x status names next to the 2.0 semantic state (ERROR is what 1.x called ABORTED).
export function legacyStatus(type: string): string {
  switch (type) {
    case "ABORTED": return "ERROR";
    case "STOPPED": return "IN_PROGRESS";
    case "DRAFT": return "SUBMITTED";
    default: return type;
  }
}
