import {
  METRICS_NAMESPACE,
  type MetricName,
  SERVICE_DIMENSION,
} from "../packages/core/src/observability/metric-names";
import { authenticate, execute, listener, resolve, worker } from "./functions";
import { workerFailures } from "./hand-off";
import { retryFailedRequests } from "./schedule";

/**
 * CloudWatch alarms on Victoria itself, all to one SNS topic the operator subscribes to (email,
 * PagerDuty, Chatbot; see the README's "Alarms and what to do"). Each alarm notifies when it fires
 * and when it clears; its description starts with the README anchor of its runbook.
 *
 * Every alarm watches a count or an age that is 0 (or absent) when all is well, so one breaching
 * period is enough (`evaluationPeriods: 1`), and a period with no data is "not breaching": Lambda,
 * SQS and our EMF lines publish a datapoint only when something happened.
 */

/** Unencrypted on purpose: CloudWatch cannot publish to a topic under the AWS-managed SNS key. */
export const alarmsTopic = new aws.sns.Topic("Alarms", {
  name: `${$app.name}-${$app.stage}-alarms`,
});

/**
 * Hours a dead letter may stay parked before the OldestParkedDeadLetter alarm fires: twice the
 * default reminder (DEAD_LETTER_REMIND_AFTER, 24h), so it means "the reminder went unanswered a day".
 */
export const DEFAULT_OLDEST_PARKED_AGE_HOURS = 48;

/** ALARM_OLDEST_PARKED_AGE_HOURS from the deploying shell (per stage), else the default. */
export function oldestParkedAgeHours(value = process.env.ALARM_OLDEST_PARKED_AGE_HOURS): number {
  if (value === undefined || value.trim() === "") return DEFAULT_OLDEST_PARKED_AGE_HOURS;
  const hours = Number(value);
  if (!Number.isFinite(hours) || hours <= 0) {
    throw new Error(`ALARM_OLDEST_PARKED_AGE_HOURS must be a positive number of hours, got "${value}"`);
  }
  return hours;
}

/**
 * Five minutes: a burst of failures gives one ALARM and one OK, within minutes of its start;
 * these are an SRE tool's own failures, not a user-facing latency page.
 */
const COUNT_PERIOD_SECONDS = 300;

/**
 * What every alarm shares: to the topic, both ways; no data is fine. The component is
 * `<name>Alarm` (not to be confused with the queue or function it watches); the alarm in
 * CloudWatch, and in the notification's subject, is `<app>-<stage>-<name>`.
 */
function alarm(name: string, args: Omit<aws.cloudwatch.MetricAlarmArgs, "alarmActions" | "okActions">) {
  return new aws.cloudwatch.MetricAlarm(`${name}Alarm`, {
    name: `${$app.name}-${$app.stage}-${name}`,
    alarmActions: [alarmsTopic.arn],
    okActions: [alarmsTopic.arn],
    treatMissingData: "notBreaching",
    ...args,
  });
}

/** A metric of ours (packages/core/src/observability/metric-names.ts), its total for one function. */
function ours(metricName: MetricName, service: string) {
  return {
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensions: { [SERVICE_DIMENSION]: service },
  };
}

/** Any count of ours above 0 in five minutes. */
function anyOf(metricName: MetricName, service: string) {
  return {
    ...ours(metricName, service),
    statistic: "Sum",
    period: COUNT_PERIOD_SECONDS,
    evaluationPeriods: 1,
    comparisonOperator: "GreaterThanThreshold",
    threshold: 0,
  };
}

/**
 * A message on WorkerFailures: a hand-off the worker could not complete. Maximum, so one message
 * fires it; it stays in ALARM until the queue is emptied (messages are kept 14 days).
 */
export const workerFailuresAlarm = alarm("WorkerFailures", {
  alarmDescription:
    "Runbook: README.md#alarm-worker-failures. A hand-off to the worker failed (it threw, timed out or the event aged out) and its event waits on the WorkerFailures queue.",
  namespace: "AWS/SQS",
  metricName: "ApproximateNumberOfMessagesVisible",
  dimensions: { QueueName: workerFailures.nodes.queue.name },
  statistic: "Maximum",
  period: COUNT_PERIOD_SECONDS,
  evaluationPeriods: 1,
  comparisonOperator: "GreaterThanThreshold",
  threshold: 0,
});

export const drainErrorsAlarm = alarm("DrainErrors", {
  alarmDescription:
    "Runbook: README.md#alarm-drain-errors. A dead-letter drain stopped on an error (receive or vault failure) or found no entity.",
  ...anyOf("DrainErrors", "worker"),
});

export const failedRequestsDeadLetteredAlarm = alarm("FailedRequestsDeadLettered", {
  alarmDescription:
    "Runbook: README.md#alarm-failed-requests-dead-lettered. The retry consumer gave up on a failed /execute request and dead-lettered it.",
  ...anyOf("FailedRequestsDeadLettered", "retry-failed-requests"),
});

export const notificationFailuresAlarm = alarm("NotificationFailures", {
  alarmDescription:
    "Runbook: README.md#alarm-notification-failures. Slack refused or failed a dead-letter notification (post, grouped update or reminder).",
  ...anyOf("NotificationFailures", "worker"),
});

/**
 * Sampled by the reminder sweep every 15 minutes: an hour holds four samples, so one late or
 * skipped sweep cannot leave a period empty and flip the alarm to OK and back; an hour is little
 * next to a threshold of a day. Maximum: the oldest record is what matters.
 */
const PARKED_AGE_PERIOD_SECONDS = 3600;

export const oldestParkedAgeAlarm = alarm("OldestParkedDeadLetter", {
  alarmDescription: `Runbook: README.md#alarm-oldest-parked-dead-letter. A dead letter has been parked for more than ${oldestParkedAgeHours()} hours without being replayed or deleted.`,
  ...ours("OldestParkedAge", "worker"),
  statistic: "Maximum",
  period: PARKED_AGE_PERIOD_SECONDS,
  evaluationPeriods: 1,
  comparisonOperator: "GreaterThanThreshold",
  threshold: oldestParkedAgeHours() * 3600,
});

/** The six functions, by component name, for their Lambda Errors and Throttles alarms. */
const FUNCTIONS = {
  Authenticate: authenticate,
  Execute: execute,
  Listener: listener,
  Resolve: resolve,
  Worker: worker,
  RetryFailedRequests: retryFailedRequests,
};

/**
 * Lambda's own metrics, per function (FunctionName = the deployed name): Errors counts invocations
 * that threw or timed out (not a 4xx/5xx a route answered), Throttles those refused for concurrency.
 */
export const functionAlarms = Object.entries(FUNCTIONS).flatMap(([name, fn]) =>
  (["Errors", "Throttles"] as const).map((metricName) =>
    alarm(`${name}${metricName}`, {
      alarmDescription: `Runbook: README.md#alarm-function-${metricName.toLowerCase()}. The ${name} function had ${metricName === "Errors" ? "invocations that failed (threw or timed out)" : "invocations throttled by Lambda"}.`,
      namespace: "AWS/Lambda",
      metricName,
      dimensions: { FunctionName: fn.name },
      statistic: "Sum",
      period: COUNT_PERIOD_SECONDS,
      evaluationPeriods: 1,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
    }),
  ),
);
