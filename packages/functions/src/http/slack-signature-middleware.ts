import type { Logger } from "@victoria/core/logging/json-logger";
import {
  checkSlackRequestHeaders,
  SLACK_SIGNATURE_HEADER,
  SLACK_TIMESTAMP_HEADER,
  verifySlackRequest,
} from "@victoria/core/security/slack-signature";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { refuseUnreadBody } from "./refuse-unread-body";

export interface SlackSignatureOptions {
  signingSecret: string;
  logger: Logger;
  route: string;
  nowSeconds?: () => number;
}

function refuse(
  c: Context,
  { logger, route }: Pick<SlackSignatureOptions, "logger" | "route">,
  reason: string,
): Response {
  logger.warn("slack request refused", { route, reason });
  return refuseUnreadBody(c, 401, `Slack signature rejected: ${reason}`);
}

/**
 * Refuses (401) a request without Slack's signature headers or with a stale timestamp, before its
 * body is read: put it ahead of the body size limit so unsigned uploads cost nothing.
 */
export function requireSlackSignatureHeaders(options: Omit<SlackSignatureOptions, "signingSecret">) {
  return createMiddleware(async (c, next) => {
    const check = checkSlackRequestHeaders({
      timestamp: c.req.header(SLACK_TIMESTAMP_HEADER),
      signature: c.req.header(SLACK_SIGNATURE_HEADER),
      nowSeconds: options.nowSeconds?.(),
    });
    if (!check.ok) return refuse(c, options, check.reason);
    await next();
  });
}

/** Refuses (401) anything Slack did not sign, before a single field of it is looked at. */
export function requireSlackSignature(options: SlackSignatureOptions) {
  return createMiddleware(async (c, next) => {
    const check = verifySlackRequest({
      signingSecret: options.signingSecret,
      rawBody: await c.req.text(),
      timestamp: c.req.header(SLACK_TIMESTAMP_HEADER),
      signature: c.req.header(SLACK_SIGNATURE_HEADER),
      nowSeconds: options.nowSeconds?.(),
    });
    if (!check.ok) return refuse(c, options, check.reason);
    await next();
  });
}
