import { createLambdaDispatcher } from "@victoria/core/adapters/aws/lambda-dispatcher";
import { createJsonLogger } from "@victoria/core/logging/json-logger";
import { createApp } from "../app";
import { authenticateRoute } from "../routes/authenticate";
import { requireSetting } from "../settings";
import { createDedupeStore } from "../storage-from-env";
import { functionUrlHandler } from "./lambda-app";

const logger = createJsonLogger();

/**
 * Acknowledges Slack and hands the work to the worker function by asynchronous invocation, which
 * outlives this container's freeze. Deliveries are deduplicated across containers in DEDUPE_BUCKET.
 */
export const handler = functionUrlHandler(
  "authenticate",
  ["SLACK_SIGNING_SECRET", "VICTORIA_WORKER_FUNCTION"],
  logger,
  (env) => {
    const router = authenticateRoute({
      signingSecret: requireSetting(env, "SLACK_SIGNING_SECRET"),
      botUserId: env.SLACK_BOT_USER_ID || undefined,
      // One attempt: a retried Invoke whose first response was lost would queue the job twice.
      // A failed hand-off is answered with an error so the caller (Slack, Azure) retries instead.
      dispatcher: createLambdaDispatcher({
        functionName: requireSetting(env, "VICTORIA_WORKER_FUNCTION"),
        clientConfig: { maxAttempts: 1, requestHandler: { requestTimeout: 1_000 } },
      }),
      dedupe: createDedupeStore(env),
      logger,
    });
    return createApp({ logger, routes: [{ path: "/authenticate", method: "POST", router }] });
  },
);
