import { createLambdaDispatcher } from "@victoria/core/adapters/aws/lambda-dispatcher";
import { createMemoryDedupeStore } from "@victoria/core/idempotency/dedupe-store";
import { createJsonLogger } from "@victoria/core/logging/json-logger";
import { Hono } from "hono";
import { handle } from "hono/aws-lambda";
import { createApp } from "../app";
import { jsonError } from "../http/json-errors";
import { authenticateRoute } from "../routes/authenticate";
import { requireSetting } from "../settings";

const logger = createJsonLogger();

/**
 * Acknowledges Slack and hands the work to the worker function by asynchronous invocation, which
 * outlives this container's freeze. Deduplication is per warm container until the deployment
 * issue adds a shared store.
 */
function buildApp(): Hono {
  try {
    const router = authenticateRoute({
      signingSecret: requireSetting(process.env, "SLACK_SIGNING_SECRET"),
      botUserId: process.env.SLACK_BOT_USER_ID || undefined,
      dispatcher: createLambdaDispatcher({
        functionName: requireSetting(process.env, "VICTORIA_WORKER_FUNCTION"),
        // Inside Slack's 3 s: fail fast and let Slack retry rather than time out.
        clientConfig: { maxAttempts: 2, requestHandler: { requestTimeout: 1_000 } },
      }),
      dedupe: createMemoryDedupeStore(),
      logger,
    });
    return createApp({ logger, routes: [{ path: "/authenticate", method: "POST", router }] });
  } catch (error) {
    logger.error("authenticate function misconfigured", { errorMessage: (error as Error).message });
    const message = `Server misconfigured: ${(error as Error).message}`;
    return new Hono().all("*", (c) => jsonError(c, 500, message));
  }
}

export const handler = handle(buildApp());
