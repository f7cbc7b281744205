import {
  clusterOf,
  type ListenerInput,
  ListenerInputError,
  parseListenerInput,
} from "@victoria/core/deadletter/alert-parsing";
import { entityPath } from "@victoria/core/deadletter/dead-letter";
import { DRAIN_JOB, type DrainJob } from "@victoria/core/deadletter/drain-jobs";
import type { Logger } from "@victoria/core/logging/json-logger";
import type { Dispatcher } from "@victoria/core/ports";
import { constantTimeEqual } from "@victoria/core/security/hmac";
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { limitBodySize } from "../http/body-size-limit";
import { jsonError } from "../http/json-errors";
import { refuseUnreadBody } from "../http/refuse-unread-body";
import { requireJsonContentType } from "../http/require-json-content-type";

export const MAX_LISTENER_BODY_BYTES = 1024 * 1024;

export interface ListenerDeps {
  /** LISTENER_TOKEN: Azure cannot sign webhooks, so callers present this shared secret. */
  token: string;
  /** Clusters with a connection in SERVICE_BUS_CONNECTIONS (names only; no secrets here). */
  clusters: ReadonlySet<string>;
  dispatcher: Dispatcher;
  logger: Logger;
}

function requireListenerToken({ token, logger }: ListenerDeps) {
  return createMiddleware(async (c, next) => {
    const given = c.req.query("token") ?? c.req.header("x-listener-token");
    if (!given || !constantTimeEqual(given, token)) {
      logger.warn("listener request refused", {
        route: "/listener",
        reason: given ? "wrong token" : "no token",
      });
      return refuseUnreadBody(c, 401, "Present the listener token as ?token= or the X-Listener-Token header");
    }
    await next();
  });
}

type DeadLetterAlerts = Extract<ListenerInput, { kind: "dead-letters" }>;

/**
 * `POST /listener`: Azure Monitor alerts and Event Grid events about dead letters. Validates,
 * answers at once (202), and drains each entity as a dispatched job with the function's time.
 */
export function listenerRoute(deps: ListenerDeps): Hono {
  const { dispatcher, logger, clusters } = deps;
  return new Hono()
    .options("/listener", requireListenerToken(deps), (c) => {
      // CloudEvents 1.0 webhook validation (Event Grid with the CloudEvents schema) is an OPTIONS handshake.
      const origin = c.req.header("webhook-request-origin");
      if (!origin)
        return jsonError(c, 400, "Expected the WebHook-Request-Origin header of a CloudEvents handshake");
      c.header("WebHook-Allowed-Origin", origin);
      c.header("WebHook-Allowed-Rate", "*");
      return c.body(null, 200);
    })
    .post(
      "/listener",
      // The token and the content type need no body: an upload that fails them is never read.
      requireListenerToken(deps),
      requireJsonContentType,
      limitBodySize(MAX_LISTENER_BODY_BYTES),
      async (c) => {
        let body: unknown;
        try {
          body = JSON.parse(await c.req.text());
        } catch {
          return jsonError(c, 400, "Malformed JSON in request body");
        }
        let input: ListenerInput;
        try {
          input = parseListenerInput(body);
        } catch (error) {
          if (error instanceof ListenerInputError) return jsonError(c, 400, error.message);
          throw error;
        }
        if (input.kind === "validation") return c.json({ validationResponse: input.validationResponse });
        if (input.kind === "resolved")
          return c.json({ status: "ignored", message: "The alert is resolved; nothing to drain" });

        const jobs = uniqueJobs(input);
        for (const job of jobs) await dispatcher.dispatch({ kind: DRAIN_JOB, payload: job });
        const describe = (job: DrainJob) => ({
          cluster: job.cluster,
          namespace: job.namespace,
          entity: entityPath(job.entity),
        });
        const unknown = jobs.filter((job) => !clusters.has(job.cluster));
        logger.info("dead-letter alert accepted", {
          source: input.source,
          entities: jobs.length,
          unknownClusters: unknown.length,
        });
        if (unknown.length === jobs.length) {
          // Still dispatched: the job posts the Slack note that someone must add the connection.
          return jsonError(
            c,
            422,
            `No connection in SERVICE_BUS_CONNECTIONS for cluster ${[...new Set(unknown.map((j) => `'${j.cluster}'`))].join(", ")}`,
          );
        }
        return c.json(
          {
            status: "accepted",
            draining: jobs.filter((j) => clusters.has(j.cluster)).map(describe),
            unknownClusters: unknown.map(describe),
          },
          202,
        );
      },
    );
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
