import type { PrivetRoute } from "./api.js";
import { answerWith, type PrivetAnswer } from "./register.js";

export interface AccessTokenHandler {
  // Exposed once registered, while local_settings allow it (access_token_enabled).
  exposed(): boolean;
  accessToken(user: string | undefined): Promise<PrivetAnswer>;
}

export const ACCESS_TOKEN_PATH = "/privet/accesstoken";

// /privet/accesstoken (Privet 4.4): the service's proximity token for a user.
export function accessTokenRoute(handler: AccessTokenHandler): PrivetRoute {
  return {
    path: ACCESS_TOKEN_PATH,
    method: "GET",
    exposed: () => handler.exposed(),
    handle: (request, response) => answerWith(request, response, "/privet/accesstoken", () => handler.accessToken(request.query.user)),
  };
}
