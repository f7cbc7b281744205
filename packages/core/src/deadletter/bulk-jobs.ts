import { randomUUID } from "node:crypto";
import type { Logger } from "../logging/json-logger";
import { currentRequestId } from "../logging/request-context";
import type { AuditLog, AuditRecord } from "../security/audit-log";
import { type BulkJob, type BulkJobRequest, FINAL_BULK_JOB_STATES, newBulkJob } from "./bulk-job";
import { type BulkRunnerDeps, type BulkRunResult, runBulkJob } from "./bulk-job-runner";
import type { BulkJobStore } from "./bulk-job-store";
import type { DeadLetterActions } from "./dead-letter-actions-types";
import type { RecordFilter } from "./record-filter";
import type { VaultRecord } from "./vault";

/** What `--dry-run` and the Slack preview show: how many would be acted on, and a few of them. */
export interface BulkPreview {
  count: number;
  samples: VaultRecord[];
}

export type CancelOutcome =
  | { ok: true; job: BulkJob; message: string }
  | { ok: false; reason: "missing" | "final"; job?: BulkJob; message: string };

/**
 * Bulk replay and delete by filter, as the commands and the Slack buttons use them. Where a job
 * runs is the host's choice: the CLI runs it here (`runHere`); a server hands it to the worker
 * (`start` kicks it, and the worker's schedule resumes any job whose runner went away).
 */
export interface BulkJobs {
  preview(filter: RecordFilter): Promise<BulkPreview>;
  /** Stores the job (running, no runner yet), audits the start, and hands it to the worker if there is one. */
  start(request: BulkJobRequest): Promise<BulkJob>;
  /** Present where jobs run in this process (the CLI): runs one to its end, telling each batch. */
  runHere?(id: string, onProgress: (job: BulkJob) => void): Promise<BulkJob | undefined>;
  /** Asks a job to stop (its runner starts no more acts within about a second); one nobody is running stops at once. */
  cancel(id: string, by: string): Promise<CancelOutcome>;
  get(id: string): Promise<BulkJob | undefined>;
  recent(limit: number): Promise<BulkJob[]>;
}

export interface BulkJobsDeps extends Omit<BulkRunnerDeps, "progress" | "actions"> {
  actions: BulkRunnerDeps["actions"] & Pick<DeadLetterActions, "list">;
  store: BulkJobStore;
  logger: Logger;
  audit?: AuditLog;
  /** Hands a new job to the worker (a dispatch); absent, the schedule's next tick starts it. */
  kick?(id: string): Promise<void>;
  /** Run jobs in this process (the CLI). */
  inline?: boolean;
  now?: () => Date;
}

/** Records a preview shows. */
export const PREVIEW_SAMPLES = 3;

export function createBulkJobs(deps: BulkJobsDeps): BulkJobs {
  const { store, actions, logger } = deps;
  const now = deps.now ?? (() => new Date());

  function audit(phase: AuditRecord["phase"], job: BulkJob, user: string, command: string, output?: string) {
    return deps.audit
      ?.write({
        phase,
        requestId: job.requestId ?? `bulk-job:${job.id}`,
        time: now().toISOString(),
        source: "interaction",
        user: { id: user },
        command,
        ...(output ? { output } : {}),
      })
      .catch((error: Error) =>
        logger.error("audit write failed", { job: job.id, errorMessage: error.message }),
      );
  }

  const jobs: BulkJobs = {
    async preview(filter) {
      const records = await actions.list({ ...filter, state: "parked" });
      return { count: records.length, samples: records.slice(0, PREVIEW_SAMPLES) };
    },

    async start(request) {
      const requestId = request.requestId ?? currentRequestId();
      const job = await store.create(newBulkJob({ ...request, ...(requestId ? { requestId } : {}) }, now()));
      logger.info("bulk job started", {
        job: job.id,
        action: job.action,
        requestedBy: job.requestedBy,
        rate: job.rate,
        canary: job.canary,
      });
      await audit(
        "requested",
        job,
        job.requestedBy,
        `deadletter ${job.action} --job ${job.id}`,
        JSON.stringify(job.filter),
      );
      if (deps.kick) {
        await deps.kick(job.id).catch((error: Error) =>
          // The schedule's tick starts it anyway: a lost kick only delays it.
          logger.error("bulk job could not be handed to the worker", {
            job: job.id,
            errorMessage: error.message,
          }),
        );
      }
      return job;
    },

    ...(deps.inline
      ? {
          async runHere(id: string, onProgress: (job: BulkJob) => void) {
            const runnerId = `cli-${randomUUID()}`;
            let result: BulkRunResult;
            do {
              result = await runBulkJob(
                {
                  ...deps,
                  progress: {
                    async show(job) {
                      onProgress(job);
                      return undefined;
                    },
                  },
                },
                id,
                { runnerId, budgetMs: 60 * 60_000 },
              );
            } while (result.outcome === "handed-over");
            return result.job;
          },
        }
      : {}),

    async cancel(id, by) {
      const at = now().toISOString();
      const updated = await store.update(id, (job) => {
        if (FINAL_BULK_JOB_STATES.has(job.state)) return undefined;
        const running = job.lease !== undefined && Date.parse(job.lease.until) > now().getTime();
        // Nobody holds it: nobody would see the request, so it ends here.
        return running
          ? { ...job, cancelRequested: { by, at }, updatedAt: at }
          : {
              ...job,
              cancelRequested: { by, at },
              state: "cancelled" as const,
              why: `cancelled by ${by}`,
              finishedAt: at,
              inFlight: [],
              updatedAt: at,
            };
      });
      if (!updated.ok) {
        if (!updated.job) return { ok: false, reason: "missing", message: `No bulk job ${id}.` };
        return {
          ok: false,
          reason: "final",
          job: updated.job,
          message: `Bulk job ${id} is already ${updated.job.state}.`,
        };
      }
      const job = updated.job;
      logger.info("bulk job cancel requested", { job: id, by });
      await audit("requested", job, by, `deadletter cancel ${id}`);
      return {
        ok: true,
        job,
        message:
          job.state === "cancelled"
            ? `Cancelled bulk job ${id}.`
            : `Asked bulk job ${id} to stop: it stops within about a second.`,
      };
    },

    get: (id) => store.get(id),
    recent: (limit) => store.recent(limit),
  };
  return jobs;
}
