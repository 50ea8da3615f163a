import type { HttpRequest, HttpResponse } from "../http/server.js";
import { sendMissingToken, sendNotFound, sendPrivetError } from "./errors.js";
import type { TokenEngine } from "./token.js";

export interface PrivetRoute {
  path: string;
  method: "GET" | "POST";
  // Whether the API is offered right now (Privet 4.1, 6.1); an API that is
  // not offered answers 404 exactly like one that does not exist.
  exposed(): boolean;
  handle(request: HttpRequest, response: HttpResponse): void;
}

export const INFO_PATH = "/privet/info";

// Checks every request the same way, in the order the Privet text implies:
// unknown or hidden API (404), then the header's presence (400), then the
// token itself (invalid_x_privet_token), and only then the API.
export class PrivetApi {
  private readonly routes = new Map<string, PrivetRoute>();
  // local_discovery false hides every local API, /privet/info included (Privet 4.1.1).
  enabled = true;

  constructor(private readonly tokens: TokenEngine) {}

  add(route: PrivetRoute): void {
    this.routes.set(route.path, route);
  }

  // The "api" list of /privet/info: everything exposed except /privet/info.
  exposedApis(): string[] {
    const list: string[] = [];
    for (const route of this.routes.values()) {
      if (route.path !== INFO_PATH && route.exposed()) list.push(route.path);
    }
    return list;
  }

  handle(request: HttpRequest, response: HttpResponse): void {
    const route = this.routes.get(request.path);
    if (!this.enabled || !route || !route.exposed()) return sendNotFound(response, request.path);
    if (request.method !== route.method) {
      return response.send(405, `${route.path} takes ${route.method}\n`, { headers: [["Allow", route.method]] });
    }
    const token = request.header("x-privet-token");
    if (token === undefined) return sendMissingToken(response);
    if (route.path !== INFO_PATH && this.tokens.verify(unquote(token)) !== "valid") {
      return sendPrivetError(response, "invalid_x_privet_token", "X-Privet-Token is missing its value, malformed or expired; get a new one from /privet/info");
    }
    route.handle(request, response);
  }
}

// Some clients send the empty token as the two characters "" (as the Privet
// text writes it) and may quote real ones too.
function unquote(value: string): string {
  return value.length >= 2 && value.startsWith("\"") && value.endsWith("\"") ? value.slice(1, -1) : value;
}
