/**
 * The metrics Serverless Victoria emits (CloudWatch Embedded Metric Format) and the alarms in
 * infra/alarms.ts read: one list, so a renamed metric cannot silently leave an alarm watching
 * nothing. Every metric carries the `Service` dimension (the function: authenticate, worker, …);
 * those named in `dimensions` also carry that dimension (a second dimension set, so the alarm on
 * the total and the breakdown both exist).
 */
export const METRICS_NAMESPACE = "ServerlessVictoria";

/** The dimension every metric carries: which function (or `local` for the local server) emitted it. */
export const SERVICE_DIMENSION = "Service";

export const METRICS = {
  /** A command ran to its end (exit status any). Dimension: Plugin (`deadletter`, `config`, …). */
  CommandsRun: { unit: "Count", dimensions: ["Plugin"] },
  /** The gate refused a command (not a member, policy, approval refused). */
  CommandsRefused: { unit: "Count", dimensions: ["Plugin"] },
  /** A command failed (non-zero exit or an error). */
  CommandsFailed: { unit: "Count", dimensions: ["Plugin"] },
  /** Slack request received → acknowledged by the front door. */
  AckLatency: { unit: "Milliseconds", dimensions: [] },
  /** Slack request received → the command's answer delivered. */
  EndToEndLatency: { unit: "Milliseconds", dimensions: [] },
  DeadLettersParked: { unit: "Count", dimensions: [] },
  DeadLettersNotified: { unit: "Count", dimensions: [] },
  DeadLettersReplayed: { unit: "Count", dimensions: [] },
  DeadLettersDeleted: { unit: "Count", dimensions: [] },
  DeadLettersEmailed: { unit: "Count", dimensions: [] },
  /** One drain round's wall time. Dimension: StopReason (empty, budget, max-messages, error, entity-not-found). */
  DrainDuration: { unit: "Milliseconds", dimensions: ["StopReason"] },
  /** A drain that stopped on an error (receive or vault failure) or found no entity. */
  DrainErrors: { unit: "Count", dimensions: [] },
  /** A dead-letter notification (post, grouped update, reminder) that Slack refused or that failed. */
  NotificationFailures: { unit: "Count", dimensions: [] },
  /** A failed `/execute` request published for a later retry. */
  FailedRequestsPublished: { unit: "Count", dimensions: [] },
  /** A published failed request retried by the retry consumer. */
  FailedRequestsRetried: { unit: "Count", dimensions: [] },
  /** A failed request given up on (dead-lettered by the retry consumer). */
  FailedRequestsDeadLettered: { unit: "Count", dimensions: [] },
  /** The configuration secret fetched from Secrets Manager (not served from the cache). */
  SecretCacheMisses: { unit: "Count", dimensions: [] },
  /** Age of the oldest parked dead letter, sampled by the reminder sweep. */
  OldestParkedAge: { unit: "Seconds", dimensions: [] },
} as const satisfies Record<string, { unit: MetricUnit; dimensions: readonly string[] }>;

export type MetricUnit = "Count" | "Milliseconds" | "Seconds";
export type MetricName = keyof typeof METRICS;
