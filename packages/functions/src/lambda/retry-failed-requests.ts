import { createJsonLogger } from "@victoria/core/logging/json-logger";
import { composeRetryConsumer } from "../composition/retry-consumer";
import { createSharedResources } from "../composition/shared-resources";
import { configuredHandler } from "./lambda-app";

const logger = createJsonLogger();

const consumer = configuredHandler(["VICTORIA_EXECUTE_URL", "VICTORIA_SHARED_SECRET"], (env) =>
  composeRetryConsumer({ env, logger, shared: createSharedResources(env) }),
);

/** Scheduled: re-runs the failed commands waiting on FAILED_REQUESTS_QUEUE. */
export async function handler(): Promise<void> {
  await (await consumer())();
}
