import { BULK_JOB } from "@victoria/core/deadletter/bulk-job-kinds";
import type { Logger } from "@victoria/core/logging/json-logger";
import type { Metrics } from "@victoria/core/observability/metrics";
import type { Dispatcher } from "@victoria/core/ports";
import type { RouteMount } from "../app";
import { wireDeadLetterActions, wireFailedRequestPublisher } from "../dead-letter-wiring";
import { createCommandRunner, type EngineAdapters } from "../execute-runner";
import { executeRoute } from "../routes/execute";
import { type Env, readBusSettings, readExecuteSettings } from "../settings";
import { createSharedResources, type SharedResources } from "./shared-resources";

export interface ExecuteComposition {
  env: Env;
  logger: Logger;
  /** Dead letters replayed, deleted, emailed; failed requests published. */
  metrics: Metrics;
  /** Where `/execute` is when VICTORIA_EXECUTE_URL is not set (the local server's own); replays use it. */
  selfExecuteUrl?: () => string;
  /** One bus and vault per process, shared with the jobs where a runtime runs both. */
  shared?: SharedResources;
  /** The in-process engine's providers and default config, where the host chooses them (locally). */
  engine?: EngineAdapters;
  /** Where a bulk job started here is handed at once (the local server's worker); else the schedule starts it. */
  dispatcher?: () => Dispatcher;
}

/**
 * `POST /execute` with everything it needs, for every runtime: the runner (in-process or
 * VICTORIA_BIN) with the dead-letter operations, and the failed-requests publisher on the cluster
 * that holds FAILED_REQUESTS_QUEUE. The local server and the execute Lambda both mount this.
 */
export function composeExecuteRoute({
  env,
  logger,
  metrics,
  selfExecuteUrl,
  shared = createSharedResources(env),
  engine,
  dispatcher,
}: ExecuteComposition): RouteMount {
  const settings = readExecuteSettings(env);
  const busSettings = readBusSettings(env);
  const { bus } = shared;
  const executeUrl = env.VICTORIA_EXECUTE_URL || selfExecuteUrl;
  const router = executeRoute({
    // `victoria deadletter …` works on the vault and bus configured for this function.
    runner: createCommandRunner(
      settings,
      env,
      () =>
        wireDeadLetterActions({
          env,
          bus,
          vault: shared.vault(),
          executeUrl,
          metrics,
          ...(dispatcher
            ? { kickBulkJob: (id: string) => dispatcher().dispatch({ kind: BULK_JOB, payload: { id } }) }
            : {}),
        }),
      engine,
    ),
    sharedSecret: settings.sharedSecret,
    failedRequests: wireFailedRequestPublisher(bus, busSettings, metrics),
    logger,
  });
  return { path: "/execute", method: "POST", router };
}
