import { createExecuteClient } from "@victoria/core/adapters/http/execute-client";
import { retryFailedRequests } from "@victoria/core/failed-requests/retry-failed-requests";
import { createJsonLogger } from "@victoria/core/logging/json-logger";
import { createBus } from "../dead-letter-wiring";
import { readBusSettings, requireSetting } from "../settings";

const logger = createJsonLogger();
const bus = createBus();

/** Scheduled: re-runs the failed commands waiting on FAILED_REQUESTS_QUEUE. */
export async function handler(): Promise<void> {
  const settings = readBusSettings(process.env);
  const cluster = settings.failedRequestsCluster;
  const connection = cluster === undefined ? undefined : settings.connections[cluster];
  if (connection === undefined) {
    logger.error("no connection for the failed-requests queue", { cluster });
    return;
  }
  const execute = createExecuteClient({
    url: requireSetting(process.env, "VICTORIA_EXECUTE_URL"),
    sharedSecret: requireSetting(process.env, "VICTORIA_SHARED_SECRET"),
    timeoutMs: 60_000,
  });
  const report = await retryFailedRequests({
    bus,
    connection,
    queue: settings.failedRequestsQueue,
    execute: (args, attempt, requestId) => execute.runWithId(args, requestId, { retryAttempt: attempt }),
    logger,
  });
  logger.info("failed requests retried", { ...report });
}
