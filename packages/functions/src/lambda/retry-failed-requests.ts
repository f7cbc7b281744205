import { createJsonLogger } from "@victoria/core/logging/json-logger";
import { newRequestId, withRequestContext } from "@victoria/core/logging/request-context";
import { flushingAfter } from "@victoria/core/observability/metrics";
import { composeRetryConsumer } from "../composition/retry-consumer";
import { createSharedResources } from "../composition/shared-resources";
import { configuredHandler, lambdaMetrics } from "./lambda-app";

const logger = createJsonLogger();
const metrics = lambdaMetrics("retry-failed-requests");

const consumer = configuredHandler(
  ["VICTORIA_EXECUTE_URL", "VICTORIA_SHARED_SECRET"],
  (env) => composeRetryConsumer({ env, logger, metrics, shared: createSharedResources(env) }),
  metrics,
);

/** Scheduled: re-runs the failed commands waiting on FAILED_REQUESTS_QUEUE. */
export async function handler(): Promise<void> {
  // One id per tick; each retried request then runs under its own original id (retry-failed-requests.ts).
  await flushingAfter(metrics, () =>
    withRequestContext({ requestId: newRequestId() }, async () => {
      await (await consumer())();
    }),
  );
}
