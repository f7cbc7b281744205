import type { Metrics } from "@victoria/core/observability/metrics";
import type { Dispatcher } from "@victoria/core/ports";
import { SLACK_COMMAND_JOB } from "@victoria/core/slack/slack-command-job";
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";

export interface SlackAcknowledgement {
  /** The front door's router, its one path measured: AckLatency, from arrival to answer. */
  measured(path: string, router: Hono): Hono;
  /**
   * The dispatcher, writing the request's arrival into each command job it hands off: the worker
   * measures EndToEndLatency (received → answer posted) from it, across processes, so wall clock.
   */
  stamping(dispatcher: Dispatcher): Dispatcher;
}

/**
 * AckLatency at a Slack front door (Slack retries what is not answered within 3 s), and the
 * arrival time its hand-offs carry. Arrivals are kept by request id (set by `assignRequestId`,
 * which every app runs first, and written into each job) only while the request is served: no
 * AsyncLocalStorage, whose promise hooks would slow every await of a cold start on Node 20.
 */
export function slackAcknowledgement(metrics: Metrics): SlackAcknowledgement {
  const arrivals = new Map<string, number>();
  const measure = createMiddleware(async (c, next) => {
    const started = performance.now();
    const requestId = c.get("requestId");
    if (requestId !== undefined) arrivals.set(requestId, Date.now());
    try {
      await next();
    } finally {
      if (requestId !== undefined) arrivals.delete(requestId);
      metrics.add("AckLatency", performance.now() - started);
    }
  });
  return {
    measured: (path, router) => new Hono().use(path, measure).route("/", router),
    stamping: (dispatcher) => ({
      dispatch(job) {
        const payload = job.payload as { requestId?: unknown } | null;
        const receivedAt =
          job.kind === SLACK_COMMAND_JOB && typeof payload?.requestId === "string"
            ? arrivals.get(payload.requestId)
            : undefined;
        if (receivedAt === undefined) return dispatcher.dispatch(job);
        return dispatcher.dispatch({ ...job, payload: { ...payload, receivedAt } });
      },
    }),
  };
}
