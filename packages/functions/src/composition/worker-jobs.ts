import { DRAIN_JOB } from "@victoria/core/deadletter/drain-jobs";
import { RESOLVE_JOB, resolveJobSchema } from "@victoria/core/deadletter/resolve-job";
import type { JobHandlers } from "@victoria/core/dispatch/job-router";
import type { Logger } from "@victoria/core/logging/json-logger";
import { SLACK_COMMAND_JOB, slackCommandJobSchema } from "@victoria/core/slack/slack-command-job";
import { wireDrainJobHandler, wireResolveHandler } from "../dead-letter-wiring";
import { type Env, readBusSettings, readSlackCommandSettings } from "../settings";
import { wireSlackCommandHandler } from "../slack-command-wiring";
import type { SharedResources } from "./shared-resources";

export interface WorkerJobsComposition {
  env: Env;
  logger: Logger;
  shared: SharedResources;
  /** Where `/execute` is when VICTORIA_EXECUTE_URL is not set (the local server's own). */
  selfExecuteUrl?: () => string;
  /** Milliseconds a drain may take: the Lambda's remaining time, or the default locally. */
  drainBudgetMs?: () => number;
  /**
   * Read every job's settings now (the local server: a bad one fails the start) rather than on the
   * job's first run (the worker Lambda: one kind's missing setting fails only that kind).
   */
  eager?: boolean;
}

/** Builds a handler on first use, or at once when eager. */
function once<T>(build: () => T, eager: boolean): () => T {
  let built: T | undefined;
  const get = () => {
    built ??= build();
    return built;
  };
  if (eager) get();
  return get;
}

/**
 * The job table: what runs after an acknowledgement, the same for the in-process dispatcher (local
 * server, tests) and the worker Lambda (AWS). A handler that throws fails the job; on AWS the
 * event then goes to the worker's on-failure destination.
 */
export async function composeWorkerJobs({
  env,
  logger,
  shared,
  selfExecuteUrl,
  drainBudgetMs,
  eager = false,
}: WorkerJobsComposition): Promise<JobHandlers> {
  const executeUrl = env.VICTORIA_EXECUTE_URL || selfExecuteUrl;
  const slackCommand = once(
    () =>
      wireSlackCommandHandler({
        settings: readSlackCommandSettings(env),
        env,
        logger,
        ...(selfExecuteUrl ? { defaultExecuteUrl: selfExecuteUrl } : {}),
      }),
    eager,
  );
  const drain = once(
    () =>
      wireDrainJobHandler({
        env,
        bus: shared.bus,
        vault: shared.vault(),
        busSettings: readBusSettings(env),
        logger,
        ...(drainBudgetMs ? { budgetMs: drainBudgetMs } : {}),
      }),
    eager,
  );
  const resolve = once(
    () => wireResolveHandler({ env, bus: shared.bus, vault: shared.vault(), logger, executeUrl }),
    eager,
  );
  // Settings errors surface now when eager (the resolve wiring is asynchronous).
  if (eager) await resolve();
  return {
    [SLACK_COMMAND_JOB]: (payload) => slackCommand()(slackCommandJobSchema.parse(payload)),
    [DRAIN_JOB]: async (payload) => {
      await drain()(payload);
    },
    [RESOLVE_JOB]: async (payload) => (await resolve())(resolveJobSchema.parse(payload)),
  };
}
