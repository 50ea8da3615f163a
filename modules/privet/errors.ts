import type { HttpResponse } from "../http/server.js";

// Privet errors travel as HTTP 200 with a JSON body (Privet 4.6); the shape
// lives here so every API reports them the same way.

export type PrivetErrorCode =
  | "invalid_x_privet_token"
  | "invalid_params"
  | "invalid_action"
  | "device_busy"
  | "pending_user_action"
  | "user_cancel"
  | "confirmation_timeout"
  | "device_config_error"
  | "offline"
  | "server_error"
  | "access_denied"
  | "invalid_ticket"
  | "printer_busy"
  | "printer_error"
  | "invalid_print_job"
  | "invalid_document_type"
  | "invalid_document"
  | "document_too_large";

export interface PrivetError {
  error: PrivetErrorCode;
  description?: string;
  timeout?: number;
  server_api?: string;
  server_code?: number;
  server_http_code?: number;
}

export function privetError(code: PrivetErrorCode, description?: string, timeout?: number): PrivetError {
  const error: PrivetError = { error: code };
  if (description !== undefined) error.description = description;
  if (timeout !== undefined) error.timeout = timeout;
  return error;
}

export function sendPrivetError(response: HttpResponse, code: PrivetErrorCode, description?: string, timeout?: number): void {
  response.json(privetError(code, description, timeout));
}

// HTTP-level answers the Privet text fixes word for word.
export const MISSING_TOKEN_REASON = "Missing X-Privet-Token header.";

export function sendMissingToken(response: HttpResponse): void {
  response.send(400, MISSING_TOKEN_REASON + "\n", { reason: MISSING_TOKEN_REASON });
}

export function sendNotFound(response: HttpResponse, path: string): void {
  response.send(404, `${path} is not available on this device\n`);
}
