import { createJsonLogger } from "@victoria/core/logging/json-logger";
import { createApp } from "../app";
import { composeAuthenticateRoute } from "../composition/authenticate";
import { createDedupeStore } from "../storage-from-env";
import { functionUrlHandler } from "./lambda-app";
import { workerDispatcher } from "./lambda-runtime";

const logger = createJsonLogger();

/** Acknowledges Slack and hands the work to the worker; deliveries deduplicated in DEDUPE_BUCKET. */
export const handler = functionUrlHandler(
  "authenticate",
  ["SLACK_SIGNING_SECRET", "VICTORIA_WORKER_FUNCTION"],
  logger,
  (env, metrics) =>
    createApp({
      logger,
      routes: [
        composeAuthenticateRoute({
          env,
          logger,
          metrics,
          dispatcher: workerDispatcher(env),
          dedupe: () => createDedupeStore(env),
        }),
      ],
    }),
);
