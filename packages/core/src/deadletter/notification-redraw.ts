import type { Chat } from "../ports";
import type { ActionOutcome, DeadLetterActions } from "./dead-letter-actions-types";
import { buildDeadLetterNotification } from "./notification-blocks";
import type { Vault, VaultRecord } from "./vault";

export interface NotificationRedrawDeps {
  vault: Vault;
  chat: Pick<Chat, "updateMessage">;
}

/**
 * Redraws a dead-letter notification (`chat.update`) from what the vault holds now: each resolved
 * dead letter shows its outcome, who, how and when instead of its buttons. False when no record
 * of it was notified (nothing to redraw).
 */
export async function redrawNotification(
  { vault, chat }: NotificationRedrawDeps,
  notificationId: string,
  /**
   * Records about to join it (a drain's, not yet marked): drawn as if marked, so the drain can
   * mark each one only once the message shows it, and complete its dead letter right after.
   */
  joining: readonly VaultRecord[] = [],
): Promise<boolean> {
  const stored = await vault.list({ notificationId });
  const first = stored[0];
  if (!first?.notification) return false;
  const { notification } = first;
  const joiningIds = new Set(joining.map((r) => r.id));
  const records = [
    ...stored.filter((r) => !joiningIds.has(r.id)),
    ...joining.map((r) => ({ ...r, notification })),
  ];
  // Same order as when it was posted (oldest message first), so nothing jumps around.
  records.sort((a, b) =>
    Number(BigInt(a.message.sequenceNumber || "0") - BigInt(b.message.sequenceNumber || "0")),
  );
  const message = buildDeadLetterNotification({
    cluster: first.cluster,
    namespace: first.namespace,
    entity: first.entity,
    records,
    notificationId,
  });
  await chat.updateMessage({ channel: first.notification.channel, ts: first.notification.ts, ...message });
  return true;
}

/**
 * The dead-letter operations for commands (`victoria deadletter`, from a terminal, Slack or
 * `/execute`): after each one, the record's notification is redrawn as a button click redraws
 * it, so its buttons do not stay live for a dead letter the command resolved. An action refused
 * as already done redraws too (a notification left stale by a host without Slack catches up).
 * A redraw that fails does not fail the command: a successful one says so in its detail.
 */
export function withNotificationRedraw(
  actions: DeadLetterActions,
  deps: NotificationRedrawDeps,
): DeadLetterActions {
  async function after(outcome: ActionOutcome): Promise<ActionOutcome> {
    const record = outcome.ok || outcome.reason === "already" ? outcome.record : undefined;
    const notificationId = record?.notification?.id;
    if (!notificationId) return outcome;
    try {
      await redrawNotification(deps, notificationId);
      return outcome;
    } catch (error) {
      if (!outcome.ok) return outcome;
      const note = `(the Slack notification could not be updated: ${(error as Error).message})`;
      return { ...outcome, detail: outcome.detail ? `${outcome.detail}\n${note}` : note };
    }
  }
  return {
    list: (filter) => actions.list(filter),
    search: (filter, page) => actions.search(filter, page),
    show: (ref) => actions.show(ref),
    replay: async (ref, by, options) => after(await actions.replay(ref, by, options)),
    delete: async (ref, by, note, options) => after(await actions.delete(ref, by, note, options)),
    email: async (ref, to, by, note, options) => after(await actions.email(ref, to, by, note, options)),
    // Nothing of a notification to redraw: topic rules.
    ...(actions.rules ? { rules: actions.rules } : {}),
  };
}
