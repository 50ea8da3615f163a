import type { IncomingMessage } from "node:http";
import type { Params } from "./decode.js";
import type { PrinterRecord, Store, Subject } from "./store.js";

export type DeletionShape = "success-false" | "empty-printers";

export interface ServiceOptions {
  // Seconds an access token lives (Google: 3600).
  tokenLifetimeSeconds: number;
  // Seconds an anonymous registration may wait for its claim (token_duration; real answers said "898").
  registrationLifetimeSeconds: number;
  authCodeLifetimeSeconds: number;
  proximityTokenLifetimeSeconds: number;
  // How /printer answers for a deleted printer: Privet 4.1.5's success:false, or the empty list SavaPage saw.
  deletionShape: DeletionShape;
  // Refuse /cloudprint/ calls without X-CloudPrint-Proxy (HTTP 400), to catch device bugs.
  requireProxyHeader: boolean;
  // A printer away from the XMPP channel longer than this is DORMANT rather than OFFLINE.
  dormantAfterSeconds: number;
  // Seconds a web sign-in (the My printers pages) lasts.
  sessionLifetimeSeconds: number;
  // Anonymous registrations waiting for a claim at once; more are refused (errorCode 429).
  maxUnclaimedRegistrations: number;
  // Seconds one document conversion may take before the renderer is killed and the download answers 415.
  conversionTimeoutSeconds: number;
  // Client secrets the token endpoint checks, by client id. A device's id and secret were baked
  // into its firmware and the emulator knows none of them, so a client not listed is believed.
  oauthClients: Record<string, string>;
}

export interface Context {
  store: Store;
  options: ServiceOptions;
  now(): number;
  // http://host:port, and the Cloud Print base under it (<root>/cloudprint).
  root(): string;
  base(): string;
  // Writes the state now: every handler that changed it calls this before answering.
  commit(): void;
  // Learns of changes a device should hear about: the XMPP push, and the embedder's onNotify.
  // ownerId is given when the printer is already gone from the state (deletion), so its owner's sessions still hear of it.
  notify(printerId: string, payload: string, ownerId?: string): void;
  // Ends the XMPP streams of a deleted printer's robot, after its delete push went out.
  disconnect(printerId: string): void;
  // Whether a subscribed XMPP session speaks for the printer now (its robot's, or its connector's): the service's presence.
  xmppOnline(printer: PrinterRecord): boolean;
}

export interface Principal { subject: Subject; token: string }

export interface ApiCall {
  req: IncomingMessage;
  params: Params;
  principal?: Principal;
  iface: string;
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
  // /ticket answers the raw CJT without the success envelope.
  raw?: boolean;
  contentType?: string;
  bytes?: Buffer;
  headers?: Record<string, string>;
}

// Google's refusal shape. errorCode 413 is the only one devices rely on (fetch with no jobs);
// the others are the emulator's own, modelled on HTTP's meaning.
export const ERR = {
  badRequest: 400,
  forbidden: 403,
  notFound: 404,
  conflict: 409,
  expired: 410,
  notClaimed: 428,
  noJobs: 413,
  unsupported: 415,
  tooMany: 429,
} as const;

export function ok(fields: Record<string, unknown> = {}, message = ""): Answer {
  return { status: 200, body: { success: true, message, ...fields } };
}

export function fail(errorCode: number, message: string, status = 200): Answer {
  return { status, body: { success: false, message, errorCode } };
}

export function emailOf(subject: Subject): string {
  return subject.kind === "user" ? subject.email : subject.jid;
}
