import { createLambdaDispatcher } from "@victoria/core/adapters/aws/lambda-dispatcher";
import type { Dispatcher } from "@victoria/core/ports";
import type { Env } from "../settings";
import { requireSetting } from "../settings";

/**
 * The AWS choice for front doors: jobs go to the worker function by asynchronous invocation, which
 * outlives this container's freeze. One attempt: a retried Invoke whose first response was lost
 * would queue the job twice; a failed hand-off is answered with an error so the caller (Slack,
 * Azure) retries instead.
 */
export function workerDispatcher(env: Env): (options: { timeoutMs: number }) => Dispatcher {
  return ({ timeoutMs }) =>
    createLambdaDispatcher({
      functionName: requireSetting(env, "VICTORIA_WORKER_FUNCTION"),
      clientConfig: { maxAttempts: 1, requestHandler: { requestTimeout: timeoutMs } },
    });
}
