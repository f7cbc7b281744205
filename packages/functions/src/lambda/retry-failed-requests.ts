import { createExecuteClient } from "@victoria/core/adapters/http/execute-client";
import { connectionFor } from "@victoria/core/deadletter/service-bus-connections";
import { retryFailedRequests } from "@victoria/core/failed-requests/retry-failed-requests";
import { createJsonLogger } from "@victoria/core/logging/json-logger";
import { createBus } from "../dead-letter-wiring";
import { readBusSettings, requireSetting } from "../settings";
import { configuredHandler } from "./lambda-app";

const logger = createJsonLogger();
const bus = createBus();

const configured = configuredHandler(["VICTORIA_EXECUTE_URL", "VICTORIA_SHARED_SECRET"], (env) => ({
  settings: readBusSettings(env),
  execute: createExecuteClient({
    url: requireSetting(env, "VICTORIA_EXECUTE_URL"),
    sharedSecret: requireSetting(env, "VICTORIA_SHARED_SECRET"),
    timeoutMs: 60_000,
  }),
}));

/** Scheduled: re-runs the failed commands waiting on FAILED_REQUESTS_QUEUE. */
export async function handler(): Promise<void> {
  const { settings, execute } = await configured();
  const cluster = settings.failedRequestsCluster;
  const connection = cluster === undefined ? undefined : connectionFor(settings.connections, cluster);
  if (connection === undefined) {
    logger.error("no connection for the failed-requests queue", { cluster });
    return;
  }
  const report = await retryFailedRequests({
    bus,
    connection,
    queue: settings.failedRequestsQueue,
    execute: (args, attempt, requestId) => execute.runWithId(args, requestId, { retryAttempt: attempt }),
    logger,
  });
  logger.info("failed requests retried", { ...report });
}
