import type { HttpRequest, HttpResponse } from "../http/server.js";
import type { PrivetRoute } from "./api.js";

// /privet/register (Privet 4.3) and /privet/accesstoken (4.4) hand their
// parameters to whoever does the work with the cloud; the Printer wires that
// in, so the local API never depends on a particular service.

// An answer is the action's document or a Privet error ({"error": ...});
// either goes out as HTTP 200 JSON (Privet 4.6).
export type PrivetAnswer = Record<string, unknown>;

export interface RegisterHandler {
  // Exposed only while anonymous registration is allowed: a printer with a
  // cloud URL that is not registered yet (Privet 4.3, 6.1).
  exposed(): boolean;
  register(action: string | undefined, user: string | undefined): Promise<PrivetAnswer>;
}

export const REGISTER_PATH = "/privet/register";

export function registerRoute(handler: RegisterHandler): PrivetRoute {
  return {
    path: REGISTER_PATH,
    method: "POST",
    exposed: () => handler.exposed(),
    handle: (request, response) => answerWith(request, response, "/privet/register", () => handler.register(request.query.action, request.query.user)),
  };
}

// The cloud's work may take a while (complete polls the service); the answer
// goes out when it is done, unless the client has gone. A failure inside is
// still an answer on the wire.
export function answerWith(request: HttpRequest, response: HttpResponse, what: string, work: () => Promise<PrivetAnswer>): void {
  let gone = false;
  request.onClose(() => { gone = true; });
  work().then(
    (answer) => { if (!gone && !response.sent) response.json(answer); },
    (error: unknown) => {
      if (!gone && !response.sent) response.json({ error: "server_error", description: `${what} failed inside the printer: ${String(error)}` });
    },
  );
}
