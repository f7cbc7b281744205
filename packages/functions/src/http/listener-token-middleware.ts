import type { Logger } from "@victoria/core/logging/json-logger";
import { constantTimeEqual } from "@victoria/core/security/hmac";
import { createMiddleware } from "hono/factory";
import { refuseUnreadBody } from "./refuse-unread-body";

export interface ListenerTokenOptions {
  /** LISTENER_TOKEN: Azure cannot sign webhooks, so callers present this shared secret. */
  token: string;
  logger: Logger;
}

/** Refuses (401) a request without the listener token, before its body is read. */
export function requireListenerToken({ token, logger }: ListenerTokenOptions) {
  return createMiddleware(async (c, next) => {
    const given = c.req.query("token") ?? c.req.header("x-listener-token");
    if (!given || !constantTimeEqual(given, token)) {
      logger.warn("listener request refused", {
        route: "/listener",
        reason: given ? "wrong token" : "no token",
      });
      return refuseUnreadBody(c, 401, "Present the listener token as ?token= or the X-Listener-Token header");
    }
    await next();
  });
}
