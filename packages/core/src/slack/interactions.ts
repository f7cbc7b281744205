import { randomUUID } from "node:crypto";
import type { ApprovalDecisionJob } from "../approvals/approval-flow";
import { APPROVAL_ACTIONS, APPROVAL_DECISION_JOB } from "../approvals/approval-jobs";
import { BULK_DIALOG_ACTION, bulkFilterDialog, prefillOf } from "../deadletter/bulk-dialog";
import { answerBulkSubmission, isBulkDialogSubmission } from "../deadletter/bulk-dialog-submission";
import type { BulkCancelJob } from "../deadletter/bulk-job-jobs";
import { BULK_CANCEL_ACTION, BULK_CANCEL_JOB } from "../deadletter/bulk-job-kinds";
import { isValidEmailAddress } from "../deadletter/email-address";
import { dialogMetadataSchema, EMAIL_CALLBACK_ID, emailDialog } from "../deadletter/email-dialog";
import { DEADLETTER_ACTIONS } from "../deadletter/notification-blocks";
import {
  REPAIR_CALLBACK_ID,
  repairDialog,
  repairSubmission,
  repairUnavailableDialog,
} from "../deadletter/repair-dialog";
import { RESOLVE_JOB, type ResolveJob } from "../deadletter/resolve-job";
import type { Vault } from "../deadletter/vault";
import type { Logger } from "../logging/json-logger";
import { currentRequestId } from "../logging/request-context";
import type { Chat, Dispatcher } from "../ports";
import type { BlockActions, Interaction, InteractionAnswer, ViewSubmission } from "./interaction-payload";
import { cleanPlainText } from "./slack-text";

export interface InteractionDeps {
  dispatcher: Dispatcher;
  /** For opening dialogs, which must happen within 3 s of the click. */
  chat: Chat;
  /** Read-only: the repair dialog is pre-filled from, and its submission checked against, the record. */
  vault?: Pick<Vault, "get">;
  logger: Logger;
}

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

const ACK: InteractionAnswer = { kind: "ack" };

/**
 * Slack interactivity for the dead-letter buttons, the email, repair and bulk dialogs and the
 * approval requests' Approve / Reject, answered within Slack's 3 s: dialogs open here, every
 * action runs later as a dispatched job.
 */
export async function answerInteraction(
  interaction: Interaction,
  deps: InteractionDeps,
): Promise<InteractionAnswer> {
  // The front door's request id (its log context), so the job, its audit and its lines share it.
  const requestId = currentRequestId() ?? randomUUID();
  return interaction.type === "view_submission"
    ? answerViewSubmission(interaction, deps, requestId)
    : answerBlockActions(interaction, deps, requestId);
}

async function answerViewSubmission(
  interaction: ViewSubmission,
  { dispatcher, vault, logger }: InteractionDeps,
  requestId: string,
): Promise<InteractionAnswer> {
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
    return answer ? json(answer) : { kind: "bad-request", message: "The dialog lost its filter" };
  }
  if (callbackId !== EMAIL_CALLBACK_ID && callbackId !== REPAIR_CALLBACK_ID) return ACK;
  let stored: unknown = null;
  try {
    stored = JSON.parse(interaction.view.private_metadata);
  } catch {
    // Falls through to the error below.
  }
  const metadata = dialogMetadataSchema.safeParse(stored);
  if (!metadata.success) return { kind: "bad-request", message: "The dialog lost its dead-letter id" };
  const values = interaction.view.state.values;
  const job = {
    requestId,
    target: metadata.data.recordId,
    userId: interaction.user.id,
    teamId: interaction.team?.id,
    channel: metadata.data.channel,
    messageTs: metadata.data.messageTs,
    responseUrl: metadata.data.responseUrl,
    ...(metadata.data.origin ? { origin: metadata.data.origin } : {}),
  };
  if (callbackId === REPAIR_CALLBACK_ID) {
    // Checked here, so a mistake is shown on its field; the replay checks again when it runs.
    const record = await vault?.get(metadata.data.recordId);
    if (!record)
      return json({
        response_action: "errors",
        errors: { body: "This dead letter is no longer in the vault." },
      });
    const submitted = repairSubmission(record.message, values);
    if (!submitted.ok) return json({ response_action: "errors", errors: submitted.errors });
    await dispatcher.dispatch({
      kind: RESOLVE_JOB,
      payload: { ...job, action: "repair", edits: submitted.edits } satisfies ResolveJob,
    });
    logger.info("dead-letter action accepted", { requestId, action: "repair" });
    return ACK;
  }
  const address = (values.recipient?.address?.value ?? "").trim();
  if (!isValidEmailAddress(address)) {
    return json({
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
  return ACK;
}

async function answerBlockActions(
  interaction: BlockActions,
  { dispatcher, chat, vault, logger }: InteractionDeps,
  requestId: string,
): Promise<InteractionAnswer> {
  const [action] = interaction.actions;
  const channel = interaction.channel?.id ?? interaction.container?.channel_id ?? undefined;
  const messageTs = interaction.message?.ts ?? interaction.container?.message_ts ?? undefined;
  // The App Home tab: a view, not a message, so no channel, message or response_url to answer in.
  const origin = interaction.view?.type === "home" ? ({ origin: "home" } as const) : {};
  if (!action?.value) return ACK;
  if (action.action_id === DEADLETTER_ACTIONS.repair) {
    const metadata = {
      recordId: action.value,
      channel,
      messageTs,
      responseUrl: interaction.response_url,
      ...origin,
    };
    try {
      const record = await vault?.get(action.value);
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
    return ACK;
  }
  if (action.action_id === BULK_DIALOG_ACTION) {
    // The form only: counting and the job pass the gate in the worker.
    await chat
      .openView(interaction.trigger_id, bulkFilterDialog({ ...prefillOf(action.value), channel }))
      .catch((error: Error) =>
        logger.error("could not open the bulk dialog", { requestId, errorMessage: error.message }),
      );
    return ACK;
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
          ...origin,
        }),
      );
    } catch (error) {
      logger.error("could not open the email dialog", {
        requestId,
        errorMessage: (error as Error).message,
      });
    }
    return ACK;
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
    return ACK;
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
    return ACK;
  }
  const kind = ACTIONS[action.action_id];
  if (!kind) return ACK;
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
      ...origin,
    } satisfies ResolveJob,
  });
  logger.info("dead-letter action accepted", { requestId, action: kind });
  return ACK;
}

function json(body: Record<string, unknown>): InteractionAnswer {
  return { kind: "json", body };
}
