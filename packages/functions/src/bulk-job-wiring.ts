import { createLazyWebApiChat } from "@victoria/core/adapters/slack/lazy-web-api-chat";
import { createBulkDialogHandler } from "@victoria/core/deadletter/bulk-dialog-jobs";
import {
  type BulkWorkerDeps,
  createBulkCancelHandler,
  createBulkJobHandler,
  resumeBulkJobs,
} from "@victoria/core/deadletter/bulk-job-jobs";
import { BULK_JOB } from "@victoria/core/deadletter/bulk-job-kinds";
import { createSlackBulkProgress } from "@victoria/core/deadletter/bulk-job-progress";
import type { BulkJobStore } from "@victoria/core/deadletter/bulk-job-store";
import { createBulkJobs } from "@victoria/core/deadletter/bulk-jobs";
import type { Bus } from "@victoria/core/deadletter/bus";
import type { Vault } from "@victoria/core/deadletter/vault";
import type { Logger } from "@victoria/core/logging/json-logger";
import type { Metrics } from "@victoria/core/observability/metrics";
import type { PolicyGate } from "@victoria/core/policy/policy-gate";
import type { Chat, Dispatcher } from "@victoria/core/ports";
import type { AuditLog } from "@victoria/core/security/audit-log";
import { wireDeadLetterActions } from "./dead-letter-wiring";
import { type Env, readBusSettings, requireSetting } from "./settings";
import { createBulkJobStore } from "./storage-from-env";

export interface BulkJobWiring {
  env: Env;
  bus: Bus;
  vault: Vault;
  logger: Logger;
  /** Each record a job replays or deletes counts, as a command's would. */
  metrics: Metrics;
  executeUrl: string | (() => string) | undefined;
  chat: Chat;
  gate: PolicyGate;
  audit: AuditLog;
  /** Milliseconds one run may take. */
  budgetMs: () => number;
  /** The worker's own dispatcher (locally); absent on Lambda, where the schedule's tick resumes jobs. */
  dispatcher?: () => Dispatcher;
  store?: BulkJobStore;
}

/**
 * The worker's side of bulk jobs: running one (progress in one message in SLACK_ALERT_CHANNEL),
 * resuming those nobody runs, and the Cancel button. Records are acted on through the commands'
 * operations, so each record's notification is redrawn as a command redraws it.
 */
export async function wireBulkJobs(wiring: BulkJobWiring) {
  const { env, bus, vault, logger, chat, gate, audit } = wiring;
  const store = wiring.store ?? createBulkJobStore(env);
  const actions = await wireDeadLetterActions({
    env,
    bus,
    vault,
    executeUrl: wiring.executeUrl,
    metrics: wiring.metrics,
  });
  const progressChat = createLazyWebApiChat({
    token: requireSetting(env, "SLACK_BOT_TOKEN"),
    slackApiUrl: env.SLACK_API_URL || undefined,
  });
  const deps: BulkWorkerDeps = {
    runner: {
      store,
      actions,
      vault,
      bus,
      connections: readBusSettings(env).connections,
      logger,
      audit,
      progress: createSlackBulkProgress({
        chat: progressChat,
        channel: requireSetting(env, "SLACK_ALERT_CHANNEL"),
      }),
    },
    budgetMs: wiring.budgetMs,
    logger,
    ...(wiring.dispatcher ? { dispatcher: wiring.dispatcher } : {}),
  };
  const jobs = createBulkJobs({ ...deps.runner, actions, audit });
  const run = createBulkJobHandler(deps);
  return {
    run,
    resume: () => resumeBulkJobs(deps),
    cancel: createBulkCancelHandler({ jobs, gate, chat, audit, logger }),
    // The Bulk… dialog: a job it starts is handed to this process's dispatcher (locally), or run
    // in this invocation (the worker Lambda may not invoke itself; the tick would start it later).
    dialog: createBulkDialogHandler({
      jobs: wiring.dispatcher
        ? createBulkJobs({
            ...deps.runner,
            actions,
            audit,
            kick: async (id) => wiring.dispatcher?.().dispatch({ kind: BULK_JOB, payload: { id } }),
          })
        : jobs,
      gate,
      chat,
      audit,
      logger,
      ...(wiring.dispatcher ? {} : { runHere: (id: string) => run({ id }) }),
    }),
  };
}
