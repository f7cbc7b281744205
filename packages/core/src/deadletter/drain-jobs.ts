import type { Logger } from "../logging/json-logger";
import { type Metrics, noMetrics } from "../observability/metrics";
import type { Chat } from "../ports";
import { code, mrkdwn } from "../slack/slack-text";
import * as z from "../validation/zod";
import { entityPath } from "./dead-letter";
import { type DrainDeps, type DrainOptions, type DrainReport, drainDeadLetters } from "./drain-dead-letters";
import { connectionFor } from "./service-bus-connections";

export const DRAIN_JOB = "drain-dead-letters";

/** Drains in one job at most (each holds up to `maxMessages`): a bound, should the DLQ refill as fast. */
export const MAX_DRAIN_ROUNDS = 20;

const entitySchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("queue"), queue: z.string().check(z.minLength(1)) }),
  z.object({
    kind: z.literal("subscription"),
    topic: z.string().check(z.minLength(1)),
    subscription: z.string().check(z.minLength(1)),
  }),
]);

/** A drain request as it crosses the dispatcher: no connection strings, only the cluster name. */
export const drainJobSchema = z.object({
  cluster: z.string(),
  namespace: z.string(),
  entity: entitySchema,
});
export type DrainJob = z.infer<typeof drainJobSchema>;

export interface DrainJobDeps extends DrainDeps {
  /** SERVICE_BUS_CONNECTIONS: connection string per cluster. */
  connections: Readonly<Record<string, string>>;
  /** The drain's options; `budgetMs` from the running function's remaining time. */
  drainOptions(): DrainOptions;
  /** Where each round's counts, duration and stop reason go. */
  metrics?: Metrics;
}

/** One round's metrics, from its report: what it parked and notified, how long, why it stopped. */
function emitRound(metrics: Metrics, report: DrainReport, durationMs: number): void {
  metrics.add("DeadLettersParked", report.parked);
  metrics.add("DeadLettersNotified", report.notified);
  metrics.add("DrainDuration", durationMs, { StopReason: report.stoppedBy });
  if (report.stoppedBy === "error" || report.stoppedBy === "entity-not-found") metrics.add("DrainErrors", 1);
}

export function createDrainJobHandler(
  deps: DrainJobDeps,
): (payload: unknown) => Promise<DrainReport | undefined> {
  return async (payload) => {
    const job = drainJobSchema.parse(payload);
    const connection = connectionFor(deps.connections, job.cluster);
    const { metrics = noMetrics } = deps;
    if (connection === undefined) {
      // Nothing can be drained until someone configures the cluster: as much an error as a missing entity.
      metrics.add("DrainErrors", 1);
      await notifyUnknownCluster(deps, job);
      return undefined;
    }
    // A drain holds at most `maxMessages` under lock; a bigger backlog is drained in rounds, each
    // notified (or grouped into the open notification) and completed before the next, for as long
    // as the budget lasts. An alert fires once per incident, so nothing else would come for the rest.
    let report: DrainReport;
    let round = 0;
    do {
      round += 1;
      const started = performance.now();
      try {
        report = await drainDeadLetters(deps, { ...job, connection }, deps.drainOptions());
      } catch (error) {
        // It could not even start (the receiver did not open): the job fails, and counts.
        metrics.add("DrainErrors", 1);
        throw error;
      }
      emitRound(metrics, report, performance.now() - started);
    } while (report.stoppedBy === "max-messages" && report.received > 0 && round < MAX_DRAIN_ROUNDS);
    if (report.stoppedBy === "entity-not-found") await notifyMissingEntity(deps, job);
    return report;
  };
}

/** Tells the alert channel that dead letters exist where we cannot reach them. */
export async function notifyUnknownCluster(
  deps: { chat: Chat; alertChannel: string; logger: Logger; connections: Readonly<Record<string, string>> },
  job: DrainJob,
): Promise<void> {
  const known = Object.keys(deps.connections).join(", ") || "none";
  deps.logger.error("dead letters on an unknown cluster", { cluster: job.cluster, namespace: job.namespace });
  const text =
    mrkdwn`:warning: Dead letters were reported on ${code(entityPath(job.entity), 600)} in namespace ${code(job.namespace, 200)}, but there is no connection for cluster ${code(job.cluster, 200)} in SERVICE_BUS_CONNECTIONS (known clusters: ${known}). They stay on the bus until one is configured.`
      .text;
  await deps.chat.postMessage({
    channel: deps.alertChannel,
    text,
    blocks: [{ type: "section", text: { type: "mrkdwn", text } }],
  });
}

/**
 * Tells the alert channel that an alert named a queue or subscription that does not exist: the
 * listener has already answered 202, so without this nobody would learn that nothing was drained.
 */
export async function notifyMissingEntity(
  deps: { chat: Chat; alertChannel: string; logger: Logger },
  job: DrainJob,
): Promise<void> {
  const path = entityPath(job.entity);
  deps.logger.error("dead letters on an entity that does not exist", {
    cluster: job.cluster,
    namespace: job.namespace,
    entity: path,
  });
  const text =
    mrkdwn`:warning: Dead letters were reported on ${job.entity.kind} ${code(path, 600)} in namespace ${code(job.namespace, 200)} (cluster ${code(job.cluster, 200)}), but Service Bus says it does not exist, so nothing was drained. Check the alert rule or Event Grid subscription that named it.`
      .text;
  await deps.chat.postMessage({
    channel: deps.alertChannel,
    text,
    blocks: [{ type: "section", text: { type: "mrkdwn", text } }],
  });
}
