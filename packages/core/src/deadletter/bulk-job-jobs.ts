import { randomUUID } from "node:crypto";
import type { Logger } from "../logging/json-logger";
import { gateChannel, type PolicyGate } from "../policy/policy-gate";
import type { Chat, Dispatcher } from "../ports";
import type { AuditLog } from "../security/audit-log";
import { noticeReply } from "../slack/command-reply";
import type { Mrkdwn } from "../slack/slack-text";
import { tellPrivately } from "../slack/tell-privately";
import * as z from "../validation/zod";
import { FINAL_BULK_JOB_STATES } from "./bulk-job";
import { BULK_JOB } from "./bulk-job-kinds";
import { bulkProgressMessage } from "./bulk-job-progress";
import { type BulkRunnerDeps, type BulkRunResult, runBulkJob } from "./bulk-job-runner";
import type { BulkJobs } from "./bulk-jobs";
import { auditInteractionRefusal } from "./interaction-refusal";

export { BULK_CANCEL_JOB, BULK_JOB, BULK_RESUME_JOB } from "./bulk-job-kinds";

export const bulkJobPayloadSchema = z.object({ id: z.string() });

/** A click on the progress message's Cancel button (dispatched by `/resolve`). */
export const bulkCancelJobSchema = z.object({
  requestId: z.string(),
  jobId: z.string(),
  userId: z.string(),
  teamId: z.optional(z.string()),
  channel: z.optional(z.string()),
  responseUrl: z.optional(z.string()),
});
export type BulkCancelJob = z.infer<typeof bulkCancelJobSchema>;

/** Jobs the resume sweep looks at: bulk jobs are few, and a job older than these is long over. */
const SWEEP_RECENT = 50;

export interface BulkWorkerDeps {
  runner: BulkRunnerDeps;
  /** Milliseconds one run may take (the Lambda's remaining time less a margin). */
  budgetMs(): number;
  /** The worker's own dispatcher, to hand a job over at once; absent, the schedule's tick resumes it. */
  dispatcher?: () => Dispatcher;
  logger: Logger;
}

/** Runs one job for the time this invocation has; hands it over (re-dispatch) when that runs out. */
export function createBulkJobHandler(deps: BulkWorkerDeps): (payload: unknown) => Promise<BulkRunResult> {
  return async (payload) => {
    const { id } = bulkJobPayloadSchema.parse(payload);
    const result = await runBulkJob(deps.runner, id, {
      runnerId: `worker-${randomUUID()}`,
      budgetMs: deps.budgetMs(),
    });
    if (result.outcome === "handed-over" && deps.dispatcher) {
      await deps.dispatcher().dispatch({ kind: BULK_JOB, payload: { id } });
    }
    return result;
  };
}

/**
 * The schedule's tick (and the local server's timer): every unfinished job nobody is running — its
 * runner crashed, or handed over with no dispatcher to call — is taken up again. With a dispatcher
 * each runs as its own job; without one (the worker Lambda cannot invoke itself) one after another
 * here, within the budget. Returns the ids taken up.
 */
export async function resumeBulkJobs(deps: BulkWorkerDeps): Promise<string[]> {
  const now = deps.runner.now ?? (() => new Date());
  const due = (await deps.runner.store.recent(SWEEP_RECENT)).filter(
    (job) =>
      !FINAL_BULK_JOB_STATES.has(job.state) &&
      (job.lease === undefined || Date.parse(job.lease.until) <= now().getTime()),
  );
  const started = Date.now();
  for (const job of due) {
    deps.logger.info("bulk job resumed", { job: job.id, counts: job.counts });
    if (deps.dispatcher) {
      await deps.dispatcher().dispatch({ kind: BULK_JOB, payload: { id: job.id } });
      continue;
    }
    const left = deps.budgetMs() - (Date.now() - started);
    if (left <= 1_000) break;
    await runBulkJob(deps.runner, job.id, { runnerId: `sweep-${randomUUID()}`, budgetMs: left });
  }
  return due.map((job) => job.id);
}

export interface BulkCancelDeps {
  jobs: Pick<BulkJobs, "cancel">;
  /** The button passes the gate `deadletter cancel` passes. */
  gate: PolicyGate;
  chat: Chat;
  audit: AuditLog;
  logger: Logger;
  now?: () => Date;
}

/** The Cancel button: gated as `deadletter cancel <job>`, then the same cancel the command does. */
export function createBulkCancelHandler(deps: BulkCancelDeps): (payload: unknown) => Promise<void> {
  const { chat, logger, now = () => new Date() } = deps;
  return async (payload) => {
    const job = bulkCancelJobSchema.parse(payload);
    const words = ["deadletter", "cancel", job.jobId];
    const tell = (text: string | Mrkdwn) => tellPrivately(chat, logger, job, noticeReply(text));
    const outcome = await deps.gate.check(job.userId, gateChannel(job.channel ?? ""), words);
    if (outcome.kind !== "allow") {
      await auditInteractionRefusal({ audit: deps.audit, logger, now }, job, {
        command: words.join(" "),
        reason: outcome.kind === "refuse" ? outcome.reason : "approval required",
        email: outcome.email,
      });
      // A cancel is urgent: one that needs approval is not held, the user runs the command instead.
      await tell(
        outcome.kind === "refuse"
          ? outcome.message
          : "Cancelling this job needs an approval: run `/victoria deadletter cancel` with its id.",
      );
      return;
    }
    const cancelled = await deps.jobs.cancel(job.jobId, job.userId);
    if (cancelled.ok && cancelled.job.progress) {
      // Redrawn at once without the button; the runner redraws again when it stops.
      await chat
        .updateMessage({
          channel: cancelled.job.progress.channel,
          ts: cancelled.job.progress.ts,
          ...bulkProgressMessage(cancelled.job),
        })
        .catch((e: Error) =>
          logger.error("could not update the progress message", { errorMessage: e.message }),
        );
    }
    if (!cancelled.ok) await tell(cancelled.message);
  };
}
