import type { Logger } from "../logging/json-logger";
import { formatDuration } from "../policy/duration";
import type { Chat } from "../ports";
import { code, joinMrkdwn, mrkdwn, truncateMrkdwn } from "../slack/slack-text";
import { entityPath } from "./dead-letter";
import type { Vault, VaultRecord } from "./vault";

/** The worker job that posts reminders (EventBridge schedule on AWS, a timer locally). */
export const REMIND_JOB = "remind-dead-letters";

/** Records one run reminds about at most: a backlog is worked off over a few runs. */
export const REMINDERS_PER_RUN = 2_000;

/** Ids a reminder names; the rest are counted. */
const IDS_NAMED = 10;

export interface ReminderDeps {
  vault: Vault;
  chat: Pick<Chat, "postMessage">;
  logger: Logger;
  /** DEAD_LETTER_REMIND_AFTER in milliseconds; 0 turns reminders off. */
  remindAfterMs: number;
  now?: () => Date;
}

export interface ReminderReport {
  /** Records named in a reminder this run. */
  reminded: number;
  /** Thread replies posted. */
  posted: number;
  /** Reminders that could not be posted (their records are claimed back for the next run). */
  failed: number;
}

/**
 * One reminder per notification, in its thread, naming its records still parked after
 * `remindAfterMs` that were not reminded about before. Each record is claimed first (a
 * compare-and-set on `remindedAt`), so overlapping runs never name a record twice; a reminder that
 * cannot be posted gives its claims back, so none is lost.
 */
export async function remindParkedDeadLetters(deps: ReminderDeps): Promise<ReminderReport> {
  const report: ReminderReport = { reminded: 0, posted: 0, failed: 0 };
  if (!(deps.remindAfterMs > 0)) return report;
  const now = (deps.now ?? (() => new Date()))();
  const until = new Date(now.getTime() - deps.remindAfterMs).toISOString();
  // The index answers "notified, not yet reminded" from its summaries, so records already
  // reminded (most old parked ones, after the first run) are never read; at most one run's worth is.
  const { records: overdue } = await deps.vault.search(
    { state: "parked", until, notified: true, reminded: false },
    { limit: REMINDERS_PER_RUN },
  );

  const byNotification = new Map<string, VaultRecord[]>();
  for (const record of overdue) {
    const id = record.notification?.id as string;
    byNotification.set(id, [...(byNotification.get(id) ?? []), record]);
  }
  for (const records of byNotification.values()) {
    const at = now.toISOString();
    const claimed: VaultRecord[] = [];
    for (const record of records) {
      if (await deps.vault.markReminded(record.id, at)) claimed.push(record);
    }
    const first = claimed[0];
    if (!first?.notification) continue;
    try {
      await deps.chat.postMessage({
        channel: first.notification.channel,
        threadTs: first.notification.ts,
        text: reminderText(claimed, now, deps.remindAfterMs),
      });
      report.posted++;
      report.reminded += claimed.length;
    } catch (error) {
      report.failed++;
      deps.logger.error("dead-letter reminder failed", {
        notification: first.notification.id,
        errorMessage: (error as Error).message,
      });
      for (const record of claimed) await deps.vault.markReminded(record.id, null);
    }
  }
  if (report.posted > 0 || report.failed > 0) deps.logger.info("dead-letter reminders", { ...report });
  return report;
}

/** `:alarm_clock: 3 dead letters here are still parked after 1d (the oldest for 2d3h): …`, escaped once. */
export function reminderText(records: readonly VaultRecord[], now: Date, remindAfterMs: number): string {
  const oldest = Math.min(...records.map((r) => Date.parse(r.parkedAt) || now.getTime()));
  const count = records.length;
  const first = records[0] as VaultRecord;
  const ids = records.slice(0, IDS_NAMED).map((r) => code(r.id.slice(0, 12), 20));
  const more = count > IDS_NAMED ? mrkdwn` and ${count - IDS_NAMED} more` : mrkdwn``;
  const lines = [
    mrkdwn`:alarm_clock: *${count} dead ${count === 1 ? "letter" : "letters"}* of this notification ${count === 1 ? "is" : "are"} still parked after ${formatDuration(remindAfterMs)} (the oldest for ${formatDuration(now.getTime() - oldest)}): ${joinMrkdwn(ids, ", ")}${more}.`,
    mrkdwn`Replay, email or delete ${count === 1 ? "it" : "them"} with the buttons above, or list them: ${code(`/victoria deadletter ls --state parked --entity ${entityPath(first.entity)}`, 300)}`,
  ];
  return truncateMrkdwn(joinMrkdwn(lines, "\n"), 3000).text;
}
