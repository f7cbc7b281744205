import { createJobRouter } from "@victoria/core/dispatch/job-router";
import { createJsonLogger } from "@victoria/core/logging/json-logger";
import type { LambdaContext } from "hono/aws-lambda";
import { createSharedResources } from "../composition/shared-resources";
import { composeWorkerJobs } from "../composition/worker-jobs";
import { configuredHandler } from "./lambda-app";

const logger = createJsonLogger();
/** Time kept back from the invocation for logging and closing connections. */
const SAFETY_MS = 3_000;
let remainingMs: () => number = () => 60_000;

const router = configuredHandler([], async (env) =>
  createJobRouter(
    await composeWorkerJobs({
      env,
      logger,
      shared: createSharedResources(env),
      drainBudgetMs: () => Math.max(1_000, remainingMs() - SAFETY_MS),
    }),
  ),
);

/**
 * The asynchronous half of `/authenticate`, `/listener` and `/resolve`: invoked with `{kind, payload}`.
 * A failed job is logged and rethrown: the hand-off has no retries (a command must never run twice),
 * so Lambda delivers the event and its error to the on-failure destination (WorkerFailures).
 */
export async function handler(event: unknown, context?: Partial<LambdaContext>): Promise<void> {
  const { getRemainingTimeInMillis } = context ?? {};
  if (typeof getRemainingTimeInMillis === "function") remainingMs = () => getRemainingTimeInMillis();
  try {
    await (await router()).run(event);
  } catch (error) {
    logger.error("worker job failed", {
      errorName: (error as Error).name,
      errorMessage: (error as Error).message,
    });
    throw error;
  }
}
