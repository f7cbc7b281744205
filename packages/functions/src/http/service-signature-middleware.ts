import type { Logger } from "@victoria/core/logging/json-logger";
import {
  checkServiceRequestHeaders,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyServiceRequest,
} from "@victoria/core/security/service-signature";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { refuseUnreadBody } from "./refuse-unread-body";

export interface ServiceSignatureOptions {
  /** VICTORIA_SHARED_SECRET; every request must be signed with it. */
  sharedSecret: string;
  logger: Logger;
  route: string;
  nowSeconds?: () => number;
}

function refuse(
  c: Context,
  { logger, route }: Pick<ServiceSignatureOptions, "logger" | "route">,
  reason: string,
): Response {
  // `/execute` is the one route signed with the shared secret: its log lines keep their message.
  logger.warn("execute request refused", { route, reason });
  return refuseUnreadBody(c, 401, `Request signature rejected: ${reason}`);
}

/**
 * Refuses (401) a request without the service signature headers or with a stale timestamp, before
 * its body is read: put it ahead of the body size limit so unsigned uploads cost nothing.
 */
export function requireServiceSignatureHeaders(options: Omit<ServiceSignatureOptions, "sharedSecret">) {
  return createMiddleware(async (c, next) => {
    const check = checkServiceRequestHeaders({
      timestamp: c.req.header(TIMESTAMP_HEADER),
      signature: c.req.header(SIGNATURE_HEADER),
      nowSeconds: options.nowSeconds?.(),
    });
    if (!check.ok) return refuse(c, options, check.reason);
    await next();
  });
}

/** Refuses (401) unsigned, stale or forged requests before anything else looks at the body. */
export function requireServiceSignature(options: ServiceSignatureOptions) {
  return createMiddleware(async (c, next) => {
    const check = verifyServiceRequest({
      secret: options.sharedSecret,
      body: await c.req.text(),
      timestamp: c.req.header(TIMESTAMP_HEADER),
      signature: c.req.header(SIGNATURE_HEADER),
      nowSeconds: options.nowSeconds?.(),
    });
    // The body is read by now, so the refusal keeps the connection (as a plain JSON error would).
    if (!check.ok) return refuse(c, options, check.reason);
    await next();
  });
}
