import { createLambdaDispatcher } from "@victoria/core/adapters/aws/lambda-dispatcher";
import { createJsonLogger } from "@victoria/core/logging/json-logger";
import { Hono } from "hono";
import { handle } from "hono/aws-lambda";
import { createApp } from "../app";
import { jsonError } from "../http/json-errors";
import { listenerRoute } from "../routes/listener";
import { readBusSettings, requireSetting } from "../settings";

const logger = createJsonLogger();

/** Validates the alert, answers at once, and hands each drain to the worker function. */
function buildApp(): Hono {
  try {
    const router = listenerRoute({
      token: requireSetting(process.env, "LISTENER_TOKEN"),
      clusters: new Set(Object.keys(readBusSettings(process.env).connections)),
      dispatcher: createLambdaDispatcher({
        functionName: requireSetting(process.env, "VICTORIA_WORKER_FUNCTION"),
        clientConfig: { maxAttempts: 2, requestHandler: { requestTimeout: 2_000 } },
      }),
      logger,
    });
    return createApp({ logger, routes: [{ path: "/listener", method: "POST", router }] });
  } catch (error) {
    logger.error("listener function misconfigured", { errorMessage: (error as Error).message });
    const message = `Server misconfigured: ${(error as Error).message}`;
    return new Hono().all("*", (c) => jsonError(c, 500, message));
  }
}

export const handler = handle(buildApp());
