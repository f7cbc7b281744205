/**
 * The asynchronous hand-off from the URL functions (authenticate, resolve, listener) to the
 * worker. They acknowledge the caller first, then invoke the worker with InvocationType "Event";
 * Lambda queues the event and runs the worker, and this file decides what happens when that fails.
 */

/** Slack's `response_url` stays valid for 30 minutes; an answer later than that cannot be given. */
export const WORKER_MAX_EVENT_AGE_SECONDS = 1800;

/**
 * Hand-offs the worker could not complete (it threw, timed out, or the event aged out), kept for
 * 14 days (the SQS maximum) with the original event and the error, so nothing is lost silently.
 */
export const workerFailures = new sst.aws.Queue("WorkerFailures", {
  transform: { queue: { messageRetentionSeconds: 14 * 24 * 60 * 60 } },
});

/** What the worker's role needs for Lambda to deliver a failed event to the queue. */
export const sendToWorkerFailures = {
  actions: ["sqs:SendMessage"],
  resources: [workerFailures.arn],
};

/**
 * No automatic retry: a slash command or a replay must never run twice, and Lambda's retries
 * (2 by default) would re-run a command whose first attempt got half-way. A failed event goes to
 * the queue instead, where a human can look at it.
 */
export function configureWorkerHandOff(worker: sst.aws.Function): aws.lambda.FunctionEventInvokeConfig {
  return new aws.lambda.FunctionEventInvokeConfig("WorkerHandOff", {
    functionName: worker.name,
    maximumRetryAttempts: 0,
    maximumEventAgeInSeconds: WORKER_MAX_EVENT_AGE_SECONDS,
    destinationConfig: { onFailure: { destination: workerFailures.arn } },
  });
}
