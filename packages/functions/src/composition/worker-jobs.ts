import { createLazyWebApiChat } from "@victoria/core/adapters/slack/lazy-web-api-chat";
import type { ApprovalRequest } from "@victoria/core/approvals/approval";
import { approvalDecisionJobSchema, type HeldJobResult } from "@victoria/core/approvals/approval-flow";
import { APPROVAL_DECISION_JOB, APPROVAL_EXPIRY_JOB } from "@victoria/core/approvals/approval-jobs";
import { DRAIN_JOB } from "@victoria/core/deadletter/drain-jobs";
import {
  createApprovedActionRunner,
  createResolveHandler,
  RESOLVE_JOB,
  resolveJobSchema,
} from "@victoria/core/deadletter/resolve-job";
import type { JobHandlers } from "@victoria/core/dispatch/job-router";
import type { Logger } from "@victoria/core/logging/json-logger";
import {
  createApprovedCommandRunner,
  createSlackCommandHandler,
  SLACK_COMMAND_JOB,
  slackCommandJobSchema,
} from "@victoria/core/slack/slack-command-job";
import { wireDrainJobHandler, wireResolveDeps } from "../dead-letter-wiring";
import { loadPolicyFromEnv, wireApprovalFlow, wirePolicyGate } from "../policy-wiring";
import { type Env, readBusSettings, readSlackCommandSettings } from "../settings";
import { wireSlackCommandDeps } from "../slack-command-wiring";
import { createAuditLog } from "../storage-from-env";
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
  // What the Slack-facing jobs share: one Slack client, one gate, one audit log, one approval flow.
  const slack = once(() => {
    const settings = readSlackCommandSettings(env);
    const chat = createLazyWebApiChat({ token: settings.botToken, slackApiUrl: settings.slackApiUrl });
    const gate = wirePolicyGate(env, chat, settings.allowedMembers);
    const audit = createAuditLog(env, settings.auditLogFile);
    const approvals = wireApprovalFlow({
      env,
      chat,
      gate,
      audit,
      logger,
      run: (request) => runHeld(request),
    });
    return { settings, chat, gate, audit, approvals };
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
        ...(drainBudgetMs ? { budgetMs: drainBudgetMs } : {}),
      }),
    eager,
  );
  const resolveDeps = once(() => {
    const { chat, gate, approvals } = slack();
    return wireResolveDeps({
      env,
      bus: shared.bus,
      vault: shared.vault(),
      logger,
      executeUrl,
      chat,
      gate,
      approvals,
    });
  }, eager);
  const resolve = once(async () => createResolveHandler(await resolveDeps()), eager);
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
    await loadPolicyFromEnv(env)?.();
  }
  return {
    [SLACK_COMMAND_JOB]: (payload) => slackCommand()(slackCommandJobSchema.parse(payload)),
    [DRAIN_JOB]: async (payload) => {
      await drain()(payload);
    },
    [RESOLVE_JOB]: async (payload) => (await resolve())(resolveJobSchema.parse(payload)),
    [APPROVAL_DECISION_JOB]: (payload) => slack().approvals.decide(approvalDecisionJobSchema.parse(payload)),
    [APPROVAL_EXPIRY_JOB]: async () => {
      const expired = await slack().approvals.expireDue();
      if (expired > 0) logger.info("approval requests expired", { expired });
    },
  };
}
