import type { Logger } from "../logging/json-logger";
import type { Dispatcher } from "../ports";
import { clusterOf, type ListenerInput, ListenerInputError, parseListenerInput } from "./alert-parsing";
import { entityPath } from "./dead-letter";
import { DRAIN_JOB, type DrainJob } from "./drain-jobs";

export interface AcceptDeadLetterAlertDeps {
  /** Clusters with a connection in SERVICE_BUS_CONNECTIONS (names only; no secrets here). */
  clusters: ReadonlySet<string>;
  dispatcher: Dispatcher;
  logger: Logger;
}

/** What `/listener` answers Azure; the route only maps it to HTTP. */
export type DeadLetterAlertAnswer =
  /** `status` with a JSON body (the Event Grid handshake, a resolved alert, the drains accepted). */
  | { kind: "json"; status: 200 | 202; body: Record<string, unknown> }
  /** `status` with a JSON error naming `message`. */
  | { kind: "error"; status: 400 | 422; message: string };

type DeadLetterAlerts = Extract<ListenerInput, { kind: "dead-letters" }>;

/**
 * Azure Monitor's alerts and Event Grid's events about dead letters (a token-checked body): reads
 * the body, dispatches one drain job per entity named and says what to answer at once; the drain
 * runs as the job. A dispatch that fails throws (the front door answers 500).
 */
export async function acceptDeadLetterAlert(
  rawBody: string,
  { clusters, dispatcher, logger }: AcceptDeadLetterAlertDeps,
): Promise<DeadLetterAlertAnswer> {
  const input = readListenerInput(rawBody);
  if (input.kind === "error") return input;
  if (input.kind === "validation")
    return { kind: "json", status: 200, body: { validationResponse: input.validationResponse } };
  if (input.kind === "resolved")
    return {
      kind: "json",
      status: 200,
      body: { status: "ignored", message: "The alert is resolved; nothing to drain" },
    };

  const jobs = uniqueJobs(input);
  for (const job of jobs) await dispatcher.dispatch({ kind: DRAIN_JOB, payload: job });
  const unknown = jobs.filter((job) => !clusters.has(job.cluster));
  logger.info("dead-letter alert accepted", {
    source: input.source,
    entities: jobs.length,
    unknownClusters: unknown.length,
  });
  if (unknown.length === jobs.length) {
    // Still dispatched: the job posts the Slack note that someone must add the connection.
    const named = [...new Set(unknown.map((j) => `'${j.cluster}'`))].join(", ");
    return {
      kind: "error",
      status: 422,
      message: `No connection in SERVICE_BUS_CONNECTIONS for cluster ${named}`,
    };
  }
  return {
    kind: "json",
    status: 202,
    body: {
      status: "accepted",
      draining: jobs.filter((j) => clusters.has(j.cluster)).map(describe),
      unknownClusters: unknown.map(describe),
    },
  };
}

/** The body as JSON, read by `parseListenerInput`; a body it cannot read is a 400 naming why. */
function readListenerInput(
  rawBody: string,
): ListenerInput | Extract<DeadLetterAlertAnswer, { kind: "error" }> {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return { kind: "error", status: 400, message: "Malformed JSON in request body" };
  }
  try {
    return parseListenerInput(body);
  } catch (error) {
    if (error instanceof ListenerInputError) return { kind: "error", status: 400, message: error.message };
    throw error;
  }
}

/** One drain per entity, however many conditions or events named it. */
function uniqueJobs(input: DeadLetterAlerts): DrainJob[] {
  const jobs = new Map<string, DrainJob>();
  for (const alert of input.alerts) {
    // Azure lowercases resource ids in the common alert schema; cluster names compare in lower case.
    const cluster = clusterOf(alert.namespace).toLowerCase();
    jobs.set(`${cluster}\u0000${alert.namespace}\u0000${entityPath(alert.entity)}`, {
      cluster,
      namespace: alert.namespace,
      entity: alert.entity,
    });
  }
  return [...jobs.values()];
}

function describe(job: DrainJob) {
  return { cluster: job.cluster, namespace: job.namespace, entity: entityPath(job.entity) };
}
