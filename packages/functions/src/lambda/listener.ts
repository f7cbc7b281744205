import { createJsonLogger } from "@victoria/core/logging/json-logger";
import { createApp } from "../app";
import { composeListenerRoute } from "../composition/listener";
import { functionUrlHandler } from "./lambda-app";
import { workerDispatcher } from "./lambda-runtime";

const logger = createJsonLogger();

/** Validates the alert, answers at once, and hands each drain to the worker function. */
export const handler = functionUrlHandler(
  "listener",
  ["LISTENER_TOKEN", "VICTORIA_WORKER_FUNCTION"],
  logger,
  (env, metrics) =>
    createApp({
      logger,
      routes: [composeListenerRoute({ env, logger, metrics, dispatcher: workerDispatcher(env) })],
    }),
);
