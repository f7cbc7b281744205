import { createExecuteClient } from "@victoria/core/adapters/http/execute-client";
import { connectionFor } from "@victoria/core/deadletter/service-bus-connections";
import { type RetryReport, retryFailedRequests } from "@victoria/core/failed-requests/retry-failed-requests";
import type { Logger } from "@victoria/core/logging/json-logger";
import type { Metrics } from "@victoria/core/observability/metrics";
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
  metrics,
  shared,
}: {
  env: Env;
  logger: Logger;
  metrics: Metrics;
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
      execute: (args, attempt, requestId, requester) =>
        execute.runWithId(args, requestId, { retryAttempt: attempt, ...(requester ? { requester } : {}) }),
      logger,
    });
    logger.info("failed requests retried", { ...report });
    // Retried: run again through `/execute`. Dead-lettered: given up on here (malformed, or a
    // failure no retry fixes); one Service Bus dead-letters itself past its max delivery count is not seen.
    metrics.add("FailedRequestsRetried", report.succeeded + report.failed);
    metrics.add("FailedRequestsDeadLettered", report.invalid + report.notRetryable);
    return report;
  };
}
