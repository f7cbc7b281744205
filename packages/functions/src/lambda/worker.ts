import { createJobRouter, requestIdOfJobEvent } from "@victoria/core/dispatch/job-router";
import { createJsonLogger } from "@victoria/core/logging/json-logger";
import { newRequestId, withRequestContext } from "@victoria/core/logging/request-context";
import { flushingAfter } from "@victoria/core/observability/metrics";
import type { LambdaContext } from "hono/aws-lambda";
import { createSharedResources } from "../composition/shared-resources";
import { composeWorkerJobs } from "../composition/worker-jobs";
import { configuredHandler, lambdaMetrics } from "./lambda-app";

const logger = createJsonLogger();
const metrics = lambdaMetrics("worker");
/** Time kept back from the invocation for logging and closing connections. */
const SAFETY_MS = 3_000;
let remainingMs: () => number = () => 60_000;

const router = configuredHandler(
  [],
  async (env) =>
    createJobRouter(
      await composeWorkerJobs({
        env,
        logger,
        metrics,
        shared: createSharedResources(env),
        drainBudgetMs: () => Math.max(1_000, remainingMs() - SAFETY_MS),
      }),
    ),
  metrics,
);

/**
 * The asynchronous half of `/authenticate`, `/listener` and `/resolve`: invoked with `{kind, payload}`.
 * A failed job is logged and rethrown: the hand-off has no retries (a command must never run twice),
 * so Lambda delivers the event and its error to the on-failure destination (WorkerFailures).
 */
export async function handler(event: unknown, context?: Partial<LambdaContext>): Promise<void> {
  const { getRemainingTimeInMillis } = context ?? {};
  if (typeof getRemainingTimeInMillis === "function") remainingMs = () => getRemainingTimeInMillis();
  // The job's request id (a schedule's tick has none: a fresh one), on every line of this invocation.
  const requestId = requestIdOfJobEvent(event) ?? newRequestId();
  const given = (event as { kind?: unknown } | null)?.kind;
  // A malformed event could carry anything: a short string or nothing.
  const kind = typeof given === "string" ? given.slice(0, 128) : undefined;
  const started = Date.now();
  // The invocation's metrics are written once, at its end, also when the job failed.
  await flushingAfter(metrics, () =>
    withRequestContext({ requestId }, async () => {
      try {
        await (await router()).run(event);
        // As the local dispatcher logs it: one line per job, so a request's story has its worker hop.
        logger.info("job finished", { kind, durationMs: Date.now() - started });
      } catch (error) {
        logger.error("worker job failed", {
          kind,
          errorName: (error as Error).name,
          errorMessage: (error as Error).message,
        });
        throw error;
      }
    }),
  );
}
