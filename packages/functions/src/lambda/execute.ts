import { createJsonLogger } from "@victoria/core/logging/json-logger";
import { createApp } from "../app";
import { composeExecuteRoute } from "../composition/execute";
import { functionUrlHandler } from "./lambda-app";

const logger = createJsonLogger();

/** Runs Victoria for signed callers; failed commands go to the failed-requests queue. */
export const handler = functionUrlHandler("execute", ["VICTORIA_SHARED_SECRET"], logger, (env, metrics) =>
  createApp({ logger, routes: [composeExecuteRoute({ env, logger, metrics })] }),
);
