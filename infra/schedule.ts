import { executeUrl, worker } from "./functions";
import { LAMBDA_DEFAULTS, lambdaHandler } from "./lambda-defaults";
import { readVictoriaSecret, victoriaSecret } from "./secret";

/**
 * The retry consumer of the failed-requests queue (Service Bus, reached with the connection in
 * the secret): re-runs each failed command through /execute every 5 minutes.
 */
export const retryFailedRequests = new sst.aws.Function("RetryFailedRequests", {
  ...LAMBDA_DEFAULTS,
  handler: lambdaHandler("retry-failed-requests"),
  memory: "512 MB",
  timeout: "2 minutes",
  // The schedule invokes asynchronously; a crashed run is not repeated at once (it could re-run
  // commands), the next tick in 5 minutes picks up what is left.
  retries: 0,
  environment: {
    VICTORIA_SECRET_ID: victoriaSecret.arn,
    VICTORIA_EXECUTE_URL: executeUrl,
  },
  permissions: [readVictoriaSecret],
});

/** CronV2 (EventBridge Scheduler): SST 4's replacement for the deprecated `sst.aws.Cron`. */
export const retrySchedule = new sst.aws.CronV2("RetryFailedRequestsSchedule", {
  function: retryFailedRequests,
  schedule: "rate(5 minutes)",
});

/**
 * Expires approval requests left unanswered and tells their requesters: the worker's
 * `expire-approvals` job, every minute, so a 30-minute approval window ends within a minute of its
 * time (a click after expiry is refused at once anyway). With no request pending it lists one S3
 * prefix and stops. Runs that overlap are safe: each expiry is a conditional write, so one run
 * tells each requester. A failed run goes, like any worker event, to WorkerFailures (no retry);
 * the next minute's run picks up what it left.
 */
export const approvalExpirySchedule = new sst.aws.CronV2("ApprovalExpirySchedule", {
  function: worker,
  schedule: "rate(1 minute)",
  event: { kind: "expire-approvals", payload: {} },
});

/**
 * Reminds about dead letters still parked after DEAD_LETTER_REMIND_AFTER (default 24h): the worker's
 * `remind-dead-letters` job, every 15 minutes, one thread reply per notification. Overlapping runs
 * are safe: each record is claimed with a conditional write before it is named.
 */
export const deadLetterReminderSchedule = new sst.aws.CronV2("DeadLetterReminderSchedule", {
  function: worker,
  schedule: "rate(15 minutes)",
  event: { kind: "remind-dead-letters", payload: {} },
});
