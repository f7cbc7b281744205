import type { Logger } from "../logging/json-logger";
import { type GateOutcome, gateChannel, type PolicyGate } from "../policy/policy-gate";
import type { Chat } from "../ports";
import type { AuditLog } from "../security/audit-log";
import { noticeReply } from "../slack/command-reply";
import { code, type Mrkdwn, mrkdwn } from "../slack/slack-text";
import { tellPrivately } from "../slack/tell-privately";
import * as z from "../validation/zod";
import {
  type BulkDialogMetadata,
  bulkCommandLine,
  bulkCommandWords,
  bulkDialogRequestSchema,
  bulkPreviewView,
  bulkRefusedView,
} from "./bulk-dialog";
import type { BulkJobs } from "./bulk-jobs";
import { auditInteractionRefusal } from "./interaction-refusal";

export { BULK_DIALOG_JOB } from "./bulk-dialog";

/** A bulk dialog's submission handed to the worker: count for the preview, or start the job. */
export const bulkDialogJobSchema = z.object({
  requestId: z.string(),
  step: z.enum(["preview", "start"]),
  /** The dialog to show the preview in (`preview`). */
  viewId: z.optional(z.string()),
  userId: z.string(),
  teamId: z.optional(z.string()),
  /** Where the dialog was opened from: the clicker is told privately there. */
  channel: z.optional(z.string()),
  request: bulkDialogRequestSchema,
});
export type BulkDialogJob = z.infer<typeof bulkDialogJobSchema>;

export interface BulkDialogDeps {
  jobs: Pick<BulkJobs, "preview" | "start">;
  /** The dialog passes the gate its command (`deadletter replay|delete` with its flags) passes. */
  gate: PolicyGate;
  chat: Chat;
  audit: AuditLog;
  logger: Logger;
  /** Runs a started job in this invocation, where nothing else would start it soon (the worker Lambda). */
  runHere?(id: string): Promise<unknown>;
  now?: () => Date;
}

/** What a user who may not run it reads: the gate's own words, or how to ask for an approval. */
function refusal(outcome: Exclude<GateOutcome, { kind: "allow" }>, job: BulkDialogJob): string | Mrkdwn {
  if (outcome.kind === "refuse") return outcome.message;
  return mrkdwn`This needs an approval, which the dialog cannot ask for: run ${code(`/${bulkCommandLine(job.request)}`, 2000)} in Slack, and it will.`;
}

/**
 * The worker's half of the bulk dialog. Preview: the gate, then count and show three (or why not)
 * in the dialog. Start: the gate again (the submission is the decision; a refusal is audited and
 * told privately), then the job, whose progress message the runner posts.
 */
export function createBulkDialogHandler(deps: BulkDialogDeps): (payload: unknown) => Promise<void> {
  const { chat, logger, now = () => new Date() } = deps;
  return async (payload) => {
    const job = bulkDialogJobSchema.parse(payload);
    const metadata: BulkDialogMetadata = {
      request: job.request,
      ...(job.channel ? { channel: job.channel } : {}),
    };
    const words = bulkCommandWords(job.request);
    const outcome = await deps.gate.check(job.userId, gateChannel(job.channel ?? ""), words);
    const email = outcome.email;
    if (outcome.kind !== "allow") {
      await auditInteractionRefusal({ audit: deps.audit, logger, now }, job, {
        command: words.join(" "),
        reason: outcome.kind === "refuse" ? outcome.reason : "approval required",
        email,
      });
    }
    if (job.step === "preview") {
      const view =
        outcome.kind === "allow"
          ? bulkPreviewView(metadata, await deps.jobs.preview(job.request.filter))
          : bulkRefusedView(metadata, refusal(outcome, job));
      if (!job.viewId) return;
      await chat.updateView(job.viewId, view).catch((e: Error) =>
        // The person closed the dialog meanwhile (not_found): nothing to show it in.
        logger.warn("could not show the bulk preview", { requestId: job.requestId, errorMessage: e.message }),
      );
      return;
    }
    const clicker = {
      requestId: job.requestId,
      userId: job.userId,
      ...(job.channel ? { channel: job.channel } : {}),
    };
    if (outcome.kind !== "allow") {
      await tellPrivately(chat, logger, clicker, noticeReply(refusal(outcome, job)));
      return;
    }
    const started = await deps.jobs.start({
      action: job.request.action,
      filter: job.request.filter,
      ...(job.request.rate === undefined ? {} : { rate: job.request.rate }),
      ...(job.request.canary === undefined ? {} : { canary: job.request.canary }),
      requestedBy: job.userId,
    });
    await tellPrivately(
      chat,
      logger,
      clicker,
      noticeReply(
        mrkdwn`Started bulk job ${code(started.id)}: ${job.request.action} at ${started.rate}/s. Its progress is posted in the alert channel, with a Cancel button.`,
      ),
    );
    if (deps.runHere) await deps.runHere(started.id);
  };
}
