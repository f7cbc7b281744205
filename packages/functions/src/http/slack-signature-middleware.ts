import type { Logger } from "@victoria/core/logging/json-logger";
import {
  SLACK_SIGNATURE_HEADER,
  SLACK_TIMESTAMP_HEADER,
  verifySlackRequest,
} from "@victoria/core/security/slack-signature";
import { createMiddleware } from "hono/factory";
import { jsonError } from "./json-errors";

export interface SlackSignatureOptions {
  signingSecret: string;
  logger: Logger;
  route: string;
  nowSeconds?: () => number;
}

/** Refuses (401) anything Slack did not sign, before a single field of it is looked at. */
export function requireSlackSignature({ signingSecret, logger, route, nowSeconds }: SlackSignatureOptions) {
  return createMiddleware(async (c, next) => {
    const check = verifySlackRequest({
      signingSecret,
      rawBody: await c.req.text(),
      timestamp: c.req.header(SLACK_TIMESTAMP_HEADER),
      signature: c.req.header(SLACK_SIGNATURE_HEADER),
      nowSeconds: nowSeconds?.(),
    });
    if (!check.ok) {
      logger.warn("slack request refused", { route, reason: check.reason });
      return jsonError(c, 401, `Slack signature rejected: ${check.reason}`);
    }
    await next();
  });
}
