import { randomUUID } from "node:crypto";
import type { ApprovalDecisionJob } from "@victoria/core/approvals/approval-flow";
import { APPROVAL_ACTIONS, APPROVAL_DECISION_JOB } from "@victoria/core/approvals/approval-jobs";
import { isValidEmailAddress } from "@victoria/core/deadletter/email-address";
import { DEADLETTER_ACTIONS } from "@victoria/core/deadletter/notification-blocks";
import { RESOLVE_JOB, type ResolveJob } from "@victoria/core/deadletter/resolve-job";
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
    callback_id: z.string(),
    private_metadata: z.string(),
    state: z.object({
      values: z.record(z.string(), z.record(z.string(), z.looseObject({ value: z.nullish(z.string()) }))),
    }),
  }),
});

const interactionSchema = z.discriminatedUnion("type", [blockActionsSchema, viewSubmissionSchema]);

/** What the email dialog carries from the click to the submission. */
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
        if (interaction.view.callback_id !== EMAIL_CALLBACK_ID) return c.body(null, 200);
        let stored: unknown = null;
        try {
          stored = JSON.parse(interaction.view.private_metadata);
        } catch {
          // Falls through to the error below.
        }
        const metadata = emailMetadataSchema.safeParse(stored);
        if (!metadata.success) return jsonError(c, 400, "The email dialog lost its dead-letter id");
        const values = interaction.view.state.values;
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
            requestId,
            action: "email",
            target: metadata.data.recordId,
            userId: interaction.user.id,
            teamId: interaction.team?.id,
            channel: metadata.data.channel,
            messageTs: metadata.data.messageTs,
            responseUrl: metadata.data.responseUrl,
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
