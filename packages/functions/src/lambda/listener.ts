import { createLambdaDispatcher } from "@victoria/core/adapters/aws/lambda-dispatcher";
import { createJsonLogger } from "@victoria/core/logging/json-logger";
import { createApp } from "../app";
import { listenerRoute } from "../routes/listener";
import { readBusSettings, requireSetting } from "../settings";
import { functionUrlHandler } from "./lambda-app";

const logger = createJsonLogger();

/** Validates the alert, answers at once, and hands each drain to the worker function. */
export const handler = functionUrlHandler(
  "listener",
  ["LISTENER_TOKEN", "VICTORIA_WORKER_FUNCTION"],
  logger,
  (env) => {
    const router = listenerRoute({
      token: requireSetting(env, "LISTENER_TOKEN"),
      clusters: new Set(Object.keys(readBusSettings(env).connections)),
      // One attempt: a retried Invoke whose first response was lost would queue the job twice.
      // A failed hand-off is answered with an error so the caller (Slack, Azure) retries instead.
      dispatcher: createLambdaDispatcher({
        functionName: requireSetting(env, "VICTORIA_WORKER_FUNCTION"),
        clientConfig: { maxAttempts: 1, requestHandler: { requestTimeout: 2_000 } },
      }),
      logger,
    });
    return createApp({ logger, routes: [{ path: "/listener", method: "POST", router }] });
  },
);
