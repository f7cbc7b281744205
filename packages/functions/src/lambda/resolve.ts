import { createJsonLogger } from "@victoria/core/logging/json-logger";
import { createApp } from "../app";
import { composeResolveRoute } from "../composition/resolve";
import { functionUrlHandler } from "./lambda-app";
import { workerDispatcher } from "./lambda-runtime";

const logger = createJsonLogger();

/** Acknowledges Slack's interaction and hands the action to the worker function. */
export const handler = functionUrlHandler(
  "resolve",
  ["SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "VICTORIA_WORKER_FUNCTION"],
  logger,
  (env, metrics) =>
    createApp({
      logger,
      routes: [composeResolveRoute({ env, logger, metrics, dispatcher: workerDispatcher(env) })],
    }),
);
