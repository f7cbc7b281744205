import type { Dispatcher } from "../ports";
import {
  BULK_CONFIRM_CALLBACK_ID,
  BULK_DIALOG_JOB,
  BULK_FILTER_CALLBACK_ID,
  bulkCountingView,
  bulkDialogMetadataOf,
  bulkFilterSubmission,
} from "./bulk-dialog";
import type { BulkDialogJob } from "./bulk-dialog-jobs";

/** A submitted bulk dialog, as `/resolve` parsed it. */
export interface BulkSubmission {
  callbackId: string;
  viewId?: string;
  privateMetadata: string;
  values: Record<string, Record<string, { value?: string | null; selected_option?: unknown }>>;
  userId: string;
  teamId?: string;
}

export function isBulkDialogSubmission(callbackId: string): boolean {
  return callbackId === BULK_FILTER_CALLBACK_ID || callbackId === BULK_CONFIRM_CALLBACK_ID;
}

/**
 * Slack's answer to a bulk dialog's submission, within its 3 s: the filter form is checked here
 * (field errors at once) and turned into "Counting…" while the worker counts (the vault may be too
 * big, and this function may not list it); the preview's submit closes the dialog and hands the
 * start to the worker, which gates it as the command. Null: a view that lost its request.
 */
export async function answerBulkSubmission(
  submission: BulkSubmission,
  deps: { dispatcher: Dispatcher; requestId: string; now?: Date },
): Promise<Record<string, unknown> | null> {
  const who = {
    requestId: deps.requestId,
    userId: submission.userId,
    ...(submission.teamId ? { teamId: submission.teamId } : {}),
  };
  if (submission.callbackId === BULK_FILTER_CALLBACK_ID) {
    const checked = bulkFilterSubmission(
      submission.values,
      submission.privateMetadata,
      deps.now ?? new Date(),
    );
    if (!checked.ok) return { response_action: "errors", errors: checked.errors };
    if (!submission.viewId) return null;
    await deps.dispatcher.dispatch({
      kind: BULK_DIALOG_JOB,
      payload: {
        ...who,
        step: "preview",
        viewId: submission.viewId,
        ...checked.metadata,
      } satisfies BulkDialogJob,
    });
    return {
      response_action: "update",
      view: bulkCountingView(checked.metadata, checked.privateMetadata),
    };
  }
  const metadata = bulkDialogMetadataOf(submission.privateMetadata);
  if (!metadata) return null;
  await deps.dispatcher.dispatch({
    kind: BULK_DIALOG_JOB,
    payload: { ...who, step: "start", ...metadata } satisfies BulkDialogJob,
  });
  return { response_action: "clear" };
}
