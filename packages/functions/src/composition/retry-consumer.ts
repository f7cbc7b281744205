import { createExecuteClient } from "@victoria/core/adapters/http/execute-client";
import { connectionFor } from "@victoria/core/deadletter/service-bus-connections";
import { type RetryReport, retryFailedRequests } from "@victoria/core/failed-requests/retry-failed-requests";
import type { Logger } from "@victoria/core/logging/json-logger";
import { type Env, readBusSettings, requireSetting } from "../settings";
import type { SharedResources } from "./shared-resources";

/** How long one retried command may take through `/execute`. */
const RETRY_EXECUTE_TIMEOUT_MS = 60_000;

/**
 * The scheduled retry consumer of FAILED_REQUESTS_QUEUE: re-runs what failed transiently through
 * `/execute`. Resolves to `undefined` (after logging why) when no cluster holds the queue.
 */
export function composeRetryConsumer({
  env,
  logger,
  shared,
}: {
  env: Env;
  logger: Logger;
  shared: SharedResources;
}): () => Promise<RetryReport | undefined> {
  const settings = readBusSettings(env);
  const execute = createExecuteClient({
    url: requireSetting(env, "VICTORIA_EXECUTE_URL"),
    sharedSecret: requireSetting(env, "VICTORIA_SHARED_SECRET"),
    timeoutMs: RETRY_EXECUTE_TIMEOUT_MS,
  });
  return async () => {
    const cluster = settings.failedRequestsCluster;
    const connection = cluster === undefined ? undefined : connectionFor(settings.connections, cluster);
    if (connection === undefined) {
      logger.error("no connection for the failed-requests queue", { cluster });
      return undefined;
    }
    const report = await retryFailedRequests({
      bus: shared.bus,
      connection,
      queue: settings.failedRequestsQueue,
      execute: (args, attempt, requestId) => execute.runWithId(args, requestId, { retryAttempt: attempt }),
      logger,
    });
    logger.info("failed requests retried", { ...report });
    return report;
  };
}
