import { randomUUID } from "node:crypto";
import type { ApprovalDecisionJob } from "@victoria/core/approvals/approval-flow";
import { APPROVAL_ACTIONS, APPROVAL_DECISION_JOB } from "@victoria/core/approvals/approval-jobs";
import { BULK_DIALOG_ACTION, bulkFilterDialog, prefillOf } from "@victoria/core/deadletter/bulk-dialog";
import {
  answerBulkSubmission,
  isBulkDialogSubmission,
} from "@victoria/core/deadletter/bulk-dialog-submission";
import type { BulkCancelJob } from "@victoria/core/deadletter/bulk-job-jobs";
import { BULK_CANCEL_ACTION, BULK_CANCEL_JOB } from "@victoria/core/deadletter/bulk-job-kinds";
import { isValidEmailAddress } from "@victoria/core/deadletter/email-address";
import { DEADLETTER_ACTIONS } from "@victoria/core/deadletter/notification-blocks";
import {
  REPAIR_CALLBACK_ID,
  repairDialog,
  repairSubmission,
  repairUnavailableDialog,
} from "@victoria/core/deadletter/repair-dialog";
import { RESOLVE_JOB, type ResolveJob } from "@victoria/core/deadletter/resolve-job";
import type { Vault } from "@victoria/core/deadletter/vault";
import type { Logger } from "@victoria/core/logging/json-logger";
import type { Chat, Dispatcher } from "@victoria/core/ports";
import { cleanPlainText } from "@victoria/core/slack/slack-text";
import { describeIssues } from "@victoria/core/validation/describe-issues";
import * as z from "@victoria/core/validation/zod";
import { Hono } from "hono";
import { limitBodySize } from "../http/body-size-limit";
import { jsonError } from "../http/json-errors";
import { requireSlackSignature, requireSlackSignatureHeaders } from "../http/slack-signature-middleware";

export const MAX_INTERACTION_BODY_BYTES = 256 * 1024;
export const EMAIL_CALLBACK_ID = "deadletter_email";

const blockActionsSchema = z.object({
  type: z.literal("block_actions"),
  user: z.object({ id: z.string() }),
  team: z.nullish(z.object({ id: z.string() })),
  channel: z.nullish(z.object({ id: z.string() })),
  container: z.nullish(
    z.looseObject({ channel_id: z.optional(z.string()), message_ts: z.optional(z.string()) }),
  ),
  message: z.nullish(z.looseObject({ ts: z.string() })),
  response_url: z.optional(z.string()),
  trigger_id: z.string(),
  actions: z
    .array(z.looseObject({ action_id: z.string(), value: z.optional(z.string()) }))
    .check(z.minLength(1)),
});

const viewSubmissionSchema = z.object({
  type: z.literal("view_submission"),
  user: z.object({ id: z.string() }),
  team: z.nullish(z.object({ id: z.string() })),
  view: z.object({
    id: z.optional(z.string()),
    callback_id: z.string(),
    private_metadata: z.string(),
    state: z.object({
      values: z.record(z.string(), z.record(z.string(), z.looseObject({ value: z.nullish(z.string()) }))),
    }),
  }),
});

const interactionSchema = z.discriminatedUnion("type", [blockActionsSchema, viewSubmissionSchema]);

/** What the email and repair dialogs carry from the click to the submission. */
const emailMetadataSchema = z.object({
  recordId: z.string(),
  channel: z.optional(z.string()),
  messageTs: z.optional(z.string()),
  responseUrl: z.optional(z.string()),
});

const ACTIONS: Record<string, ResolveJob["action"]> = {
  [DEADLETTER_ACTIONS.replay]: "replay",
  [DEADLETTER_ACTIONS.delete]: "delete",
  [DEADLETTER_ACTIONS.replayAll]: "replay_all",
  [DEADLETTER_ACTIONS.replayTopic]: "replay_topic",
  [DEADLETTER_ACTIONS.deleteAll]: "delete_all",
};

const APPROVAL_DECISIONS: Record<string, ApprovalDecisionJob["decision"]> = {
  [APPROVAL_ACTIONS.approve]: "approve",
  [APPROVAL_ACTIONS.reject]: "reject",
};

export function emailDialog(metadata: z.infer<typeof emailMetadataSchema>): Record<string, unknown> {
  return {
    type: "modal",
    callback_id: EMAIL_CALLBACK_ID,
    private_metadata: JSON.stringify(metadata),
    title: { type: "plain_text", text: "Email dead letter" },
    submit: { type: "plain_text", text: "Send" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      {
        type: "input",
        block_id: "recipient",
        label: { type: "plain_text", text: "Recipient" },
        element: {
          type: "email_text_input",
          action_id: "address",
          placeholder: { type: "plain_text", text: "team@example.com" },
        },
      },
      {
        type: "input",
        block_id: "note",
        optional: true,
        label: { type: "plain_text", text: "Note" },
        element: { type: "plain_text_input", action_id: "text", multiline: true, max_length: 1000 },
      },
    ],
  };
}

export interface ResolveDeps {
  signingSecret: string;
  dispatcher: Dispatcher;
  /** For opening the email dialog, which must happen within 3 s of the click. */
  chat: Chat;
  /** Read-only: the repair dialog is pre-filled from, and its submission checked against, the record. */
  vault?: Pick<Vault, "get">;
  logger: Logger;
  nowSeconds?: () => number;
}

/**
 * `POST /resolve`: Slack interactivity for the dead-letter buttons, the email dialog and the
 * approval requests' Approve / Reject. Verified
 * like `/authenticate`, acknowledged at once; the action runs as a dispatched job.
 */
export function resolveRoute(deps: ResolveDeps): Hono {
  const { dispatcher, chat, logger } = deps;
  return new Hono().post(
    "/resolve",
    requireSlackSignatureHeaders({ ...deps, route: "/resolve" }),
    limitBodySize(MAX_INTERACTION_BODY_BYTES),
    requireSlackSignature({ ...deps, route: "/resolve" }),
    async (c) => {
      const payloadText = new URLSearchParams(await c.req.text()).get("payload");
      if (payloadText === null)
        return jsonError(c, 400, "Expected a form field 'payload' holding Slack's interaction JSON");
      let raw: unknown;
      try {
        raw = JSON.parse(payloadText);
      } catch {
        return jsonError(c, 400, "The 'payload' field is not JSON");
      }
      const type = (raw as { type?: unknown } | null)?.type;
      if (type !== "block_actions" && type !== "view_submission") {
        // Shortcuts, view_closed and the like are not ours: acknowledge so Slack does not show an error.
        return c.body(null, 200);
      }
      const parsed = interactionSchema.safeParse(raw);
      if (!parsed.success)
        return jsonError(c, 400, `Not a Slack interaction payload: ${describeIssues(parsed.error)}`);
      const interaction = parsed.data;
      const requestId = randomUUID();

      if (interaction.type === "view_submission") {
        const callbackId = interaction.view.callback_id;
        if (isBulkDialogSubmission(callbackId)) {
          const answer = await answerBulkSubmission(
            {
              callbackId,
              viewId: interaction.view.id,
              privateMetadata: interaction.view.private_metadata,
              values: interaction.view.state.values,
              userId: interaction.user.id,
              teamId: interaction.team?.id,
            },
            { dispatcher, requestId },
          );
          return answer ? c.json(answer) : jsonError(c, 400, "The dialog lost its filter");
        }
        if (callbackId !== EMAIL_CALLBACK_ID && callbackId !== REPAIR_CALLBACK_ID) return c.body(null, 200);
        let stored: unknown = null;
        try {
          stored = JSON.parse(interaction.view.private_metadata);
        } catch {
          // Falls through to the error below.
        }
        const metadata = emailMetadataSchema.safeParse(stored);
        if (!metadata.success) return jsonError(c, 400, "The dialog lost its dead-letter id");
        const values = interaction.view.state.values;
        const job = {
          requestId,
          target: metadata.data.recordId,
          userId: interaction.user.id,
          teamId: interaction.team?.id,
          channel: metadata.data.channel,
          messageTs: metadata.data.messageTs,
          responseUrl: metadata.data.responseUrl,
        };
        if (callbackId === REPAIR_CALLBACK_ID) {
          // Checked here, so a mistake is shown on its field; the replay checks again when it runs.
          const record = await deps.vault?.get(metadata.data.recordId);
          if (!record)
            return c.json({
              response_action: "errors",
              errors: { body: "This dead letter is no longer in the vault." },
            });
          const submitted = repairSubmission(record.message, values);
          if (!submitted.ok) return c.json({ response_action: "errors", errors: submitted.errors });
          await dispatcher.dispatch({
            kind: RESOLVE_JOB,
            payload: { ...job, action: "repair", edits: submitted.edits } satisfies ResolveJob,
          });
          logger.info("dead-letter action accepted", { requestId, action: "repair" });
          return c.body(null, 200);
        }
        const address = (values.recipient?.address?.value ?? "").trim();
        if (!isValidEmailAddress(address)) {
          return c.json({
            response_action: "errors",
            errors: { recipient: cleanPlainText(`'${address}' is not an email address`) },
          });
        }
        await dispatcher.dispatch({
          kind: RESOLVE_JOB,
          payload: {
            ...job,
            action: "email",
            address,
            note: values.note?.text?.value ?? undefined,
          } satisfies ResolveJob,
        });
        return c.body(null, 200);
      }

      const [action] = interaction.actions;
      const channel = interaction.channel?.id ?? interaction.container?.channel_id ?? undefined;
      const messageTs = interaction.message?.ts ?? interaction.container?.message_ts ?? undefined;
      if (!action?.value) return c.body(null, 200);
      if (action.action_id === DEADLETTER_ACTIONS.repair) {
        const metadata = {
          recordId: action.value,
          channel,
          messageTs,
          responseUrl: interaction.response_url,
        };
        try {
          const record = await deps.vault?.get(action.value);
          await chat.openView(
            interaction.trigger_id,
            record?.state === "parked"
              ? repairDialog(record, metadata)
              : repairUnavailableDialog(record, action.value),
          );
        } catch (error) {
          logger.error("could not open the repair dialog", {
            requestId,
            errorMessage: (error as Error).message,
          });
        }
        return c.body(null, 200);
      }
      if (action.action_id === BULK_DIALOG_ACTION) {
        // The form only: counting and the job pass the gate in the worker.
        await chat
          .openView(interaction.trigger_id, bulkFilterDialog({ ...prefillOf(action.value), channel }))
          .catch((error: Error) =>
            logger.error("could not open the bulk dialog", { requestId, errorMessage: error.message }),
          );
        return c.body(null, 200);
      }
      if (action.action_id === DEADLETTER_ACTIONS.email) {
        try {
          await chat.openView(
            interaction.trigger_id,
            emailDialog({
              recordId: action.value,
              channel,
              messageTs,
              responseUrl: interaction.response_url,
            }),
          );
        } catch (error) {
          logger.error("could not open the email dialog", {
            requestId,
            errorMessage: (error as Error).message,
          });
        }
        return c.body(null, 200);
      }
      if (action.action_id === BULK_CANCEL_ACTION) {
        // Gated as `deadletter cancel <job>` by the job, as the command is.
        await dispatcher.dispatch({
          kind: BULK_CANCEL_JOB,
          payload: {
            requestId,
            jobId: action.value,
            userId: interaction.user.id,
            teamId: interaction.team?.id,
            channel,
            responseUrl: interaction.response_url,
          } satisfies BulkCancelJob,
        });
        logger.info("bulk job cancel accepted", { requestId });
        return c.body(null, 200);
      }
      const decision = APPROVAL_DECISIONS[action.action_id];
      if (decision) {
        await dispatcher.dispatch({
          kind: APPROVAL_DECISION_JOB,
          payload: {
            requestId,
            approvalId: action.value,
            decision,
            userId: interaction.user.id,
            teamId: interaction.team?.id,
            channel,
            responseUrl: interaction.response_url,
          } satisfies ApprovalDecisionJob,
        });
        logger.info("approval decision accepted", { requestId, decision });
        return c.body(null, 200);
      }
      const kind = ACTIONS[action.action_id];
      if (!kind) return c.body(null, 200);
      await dispatcher.dispatch({
        kind: RESOLVE_JOB,
        payload: {
          requestId,
          action: kind,
          target: action.value,
          userId: interaction.user.id,
          teamId: interaction.team?.id,
          channel,
          messageTs,
          responseUrl: interaction.response_url,
        } satisfies ResolveJob,
      });
      logger.info("dead-letter action accepted", { requestId, action: kind });
      return c.body(null, 200);
    },
  );
}
