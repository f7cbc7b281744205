import { createLazyWebApiChat } from "@victoria/core/adapters/slack/lazy-web-api-chat";
import {
  createAppHomePublisher,
  PUBLISH_APP_HOME_JOB,
  publishAppHomeJobSchema,
} from "@victoria/core/app-home/publish-app-home";
import { recordingRecentCommands } from "@victoria/core/app-home/recent-commands-recorder";
import type { ApprovalRequest } from "@victoria/core/approvals/approval";
import { approvalDecisionJobSchema, type HeldJobResult } from "@victoria/core/approvals/approval-flow";
import { APPROVAL_DECISION_JOB, APPROVAL_EXPIRY_JOB } from "@victoria/core/approvals/approval-jobs";
import { BULK_DIALOG_JOB } from "@victoria/core/deadletter/bulk-dialog";
import { BULK_CANCEL_JOB, BULK_JOB, BULK_RESUME_JOB } from "@victoria/core/deadletter/bulk-job-kinds";
import { REMIND_JOB, remindParkedDeadLetters } from "@victoria/core/deadletter/dead-letter-reminders";
import { DRAIN_JOB } from "@victoria/core/deadletter/drain-jobs";
import {
  createApprovedActionRunner,
  createResolveHandler,
  RESOLVE_JOB,
  resolveJobSchema,
} from "@victoria/core/deadletter/resolve-job";
import type { JobHandlers } from "@victoria/core/dispatch/job-router";
import type { Logger } from "@victoria/core/logging/json-logger";
import { countingCommands } from "@victoria/core/observability/command-metrics";
import type { Metrics } from "@victoria/core/observability/metrics";
import { oldestParkedAgeSeconds } from "@victoria/core/observability/oldest-parked-age";
import type { Dispatcher } from "@victoria/core/ports";
import {
  createApprovedCommandRunner,
  createSlackCommandHandler,
  SLACK_COMMAND_JOB,
  slackCommandJobSchema,
} from "@victoria/core/slack/slack-command-job";
import { wireBulkJobs } from "../bulk-job-wiring";
import { wireDrainJobHandler, wireResolveDeps } from "../dead-letter-wiring";
import { loadPolicyFromEnv, wireApprovalFlow, wirePolicyGate } from "../policy-wiring";
import {
  DEFAULT_DRAIN_BUDGET_SECONDS,
  type Env,
  readBusSettings,
  readDeadLetterNoiseSettings,
  readSlackCommandSettings,
} from "../settings";
import { wireSlackCommandDeps } from "../slack-command-wiring";
import { createAuditLog, createRecentCommandStore } from "../storage-from-env";
import type { SharedResources } from "./shared-resources";

export interface WorkerJobsComposition {
  env: Env;
  logger: Logger;
  /** Commands by outcome, end-to-end latency, drains, notifications, dead-letter actions, parked age. */
  metrics: Metrics;
  shared: SharedResources;
  /** Where `/execute` is when VICTORIA_EXECUTE_URL is not set (the local server's own). */
  selfExecuteUrl?: () => string;
  /** Milliseconds a drain may take: the Lambda's remaining time, or the default locally. */
  drainBudgetMs?: () => number;
  /**
   * This process's own dispatcher (the local server's): a bulk job out of time is handed to it at
   * once. The worker Lambda has none (it may not invoke itself): the schedule's tick resumes it.
   */
  selfDispatcher?: () => Dispatcher;
  /**
   * Read every job's settings now (the local server: a bad one fails the start) rather than on the
   * job's first run (the worker Lambda: one kind's missing setting fails only that kind).
   */
  eager?: boolean;
}

/** The app's slash command, as slack/manifest.yaml declares it (the Home's help names it). */
const SLASH_COMMAND = "/victoria";

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
  metrics,
  shared,
  selfExecuteUrl,
  drainBudgetMs,
  selfDispatcher,
  eager = false,
}: WorkerJobsComposition): Promise<JobHandlers> {
  const executeUrl = env.VICTORIA_EXECUTE_URL || selfExecuteUrl;
  // What the Slack-facing jobs share: one Slack client, one gate, one audit log, one approval flow.
  const slack = once(() => {
    const settings = readSlackCommandSettings(env);
    const chat = createLazyWebApiChat({ token: settings.botToken, slackApiUrl: settings.slackApiUrl });
    const gate = wirePolicyGate(env, chat, settings.allowedMembers);
    const recent = createRecentCommandStore(env);
    // Every finished or refused command also lands in its person's recent list (their App Home).
    // Every command's end is audited once, here in the worker (`/execute` audits nothing): counted here too.
    const audit = countingCommands(
      recordingRecentCommands(createAuditLog(env, settings.auditLogFile), recent, logger),
      metrics,
    );
    const approvals = wireApprovalFlow({
      env,
      chat,
      gate,
      audit,
      logger,
      run: (request) => runHeld(request),
    });
    return { settings, chat, gate, audit, approvals, recent };
  }, eager);
  const appHome = once(() => {
    const { chat, gate, recent } = slack();
    return createAppHomePublisher({
      chat,
      gate,
      vault: shared.vault(),
      recent,
      // The engine's plugins, loaded only when a Home is built (the worker does not run the engine).
      help: async () =>
        (await import("@victoria/core/victoria/plugins/core-plugins")).corePlugins.map(
          ({ name, summary }) => ({
            name,
            summary,
          }),
        ),
      command: SLASH_COMMAND,
      logger,
    });
  }, eager);
  const commandDeps = once(() => {
    const { settings, chat, gate, audit, approvals } = slack();
    return wireSlackCommandDeps({
      settings,
      env,
      logger,
      chat,
      gate,
      approvals,
      audit,
      ...(selfExecuteUrl ? { defaultExecuteUrl: selfExecuteUrl } : {}),
    });
  }, eager);
  const slackCommand = once(() => createSlackCommandHandler(commandDeps()), eager);
  const drain = once(
    () =>
      wireDrainJobHandler({
        env,
        bus: shared.bus,
        vault: shared.vault(),
        busSettings: readBusSettings(env),
        logger,
        metrics,
        ...(drainBudgetMs ? { budgetMs: drainBudgetMs } : {}),
      }),
    eager,
  );
  const resolveDeps = once(() => {
    const { chat, gate, approvals, audit } = slack();
    return wireResolveDeps({
      env,
      bus: shared.bus,
      vault: shared.vault(),
      logger,
      metrics,
      executeUrl,
      chat,
      gate,
      approvals,
      audit,
    });
  }, eager);
  const resolve = once(async () => createResolveHandler(await resolveDeps()), eager);
  const bulk = once(() => {
    const { chat, gate, audit } = slack();
    return wireBulkJobs({
      env,
      bus: shared.bus,
      vault: shared.vault(),
      logger,
      metrics,
      executeUrl,
      chat,
      gate,
      audit,
      budgetMs: () => drainBudgetMs?.() ?? DEFAULT_DRAIN_BUDGET_SECONDS * 1000,
      ...(selfDispatcher ? { dispatcher: selfDispatcher } : {}),
    });
  }, eager);
  /** An approved request's held job, run once as its requester: a command, or a notification's button. */
  async function runHeld(request: ApprovalRequest): Promise<HeldJobResult> {
    switch (request.job?.kind) {
      case SLACK_COMMAND_JOB:
        return createApprovedCommandRunner(commandDeps())(request);
      case RESOLVE_JOB:
        return createApprovedActionRunner(await resolveDeps())(request);
      default:
        throw new Error(`Approval request ${request.id} holds no job this worker can run`);
    }
  }
  // Settings errors surface now when eager (the resolve wiring is asynchronous), and so does an
  // invalid policy: the local server refuses to start, naming the file, line and field.
  if (eager) {
    await resolve();
    await bulk();
    await loadPolicyFromEnv(env)?.();
  }
  return {
    [SLACK_COMMAND_JOB]: async (payload) => {
      const job = slackCommandJobSchema.parse(payload);
      await slackCommand()(job);
      // The handler's last step is the answer (or the note that it waits for approval).
      if (job.receivedAt !== undefined) metrics.add("EndToEndLatency", Date.now() - job.receivedAt);
    },
    [PUBLISH_APP_HOME_JOB]: (payload) => appHome()(publishAppHomeJobSchema.parse(payload)),
    [DRAIN_JOB]: async (payload) => {
      await drain()(payload);
    },
    [RESOLVE_JOB]: async (payload) => {
      const job = resolveJobSchema.parse(payload);
      await (await resolve())(job);
      // A click on the Home tab changed what the Home shows: publish it again for the clicker.
      if (job.origin === "home")
        await appHome()({
          requestId: job.requestId,
          userId: job.userId,
          ...(job.teamId ? { teamId: job.teamId } : {}),
        });
    },
    [APPROVAL_DECISION_JOB]: (payload) => slack().approvals.decide(approvalDecisionJobSchema.parse(payload)),
    [REMIND_JOB]: async () => {
      // The sweep's tick samples the oldest parked age (0 when none), for its alarm.
      const age = await oldestParkedAgeSeconds(shared.vault(), new Date()).catch((error: Error) => {
        logger.warn("could not sample the oldest parked dead letter", { errorMessage: error.message });
        return undefined;
      });
      if (age !== undefined) metrics.add("OldestParkedAge", age);
      const report = await remindParkedDeadLetters({
        vault: shared.vault(),
        chat: slack().chat,
        logger,
        remindAfterMs: readDeadLetterNoiseSettings(env).remindAfterMs,
      });
      if (report.failed > 0) metrics.add("NotificationFailures", report.failed);
    },
    [BULK_JOB]: async (payload) => {
      await (await bulk()).run(payload);
    },
    [BULK_CANCEL_JOB]: async (payload) => (await bulk()).cancel(payload),
    [BULK_DIALOG_JOB]: async (payload) => (await bulk()).dialog(payload),
    [BULK_RESUME_JOB]: async () => {
      await (await bulk()).resume();
    },
    [APPROVAL_EXPIRY_JOB]: async () => {
      // The one schedule on AWS (every minute) also takes up bulk jobs nobody runs (a crash, a hand-over).
      const resumed = (await bulk()).resume().catch((error: Error) => {
        logger.error("bulk job resume failed", { errorMessage: error.message });
      });
      const expired = await slack().approvals.expireDue();
      await resumed;
      if (expired > 0) logger.info("approval requests expired", { expired });
    },
  };
}
