import type { Chat, ChatMessage } from "../ports";
import { code, type Mrkdwn, mention, mrkdwn } from "../slack/slack-text";
import { type BulkJob, FINAL_BULK_JOB_STATES } from "./bulk-job";
import { BULK_CANCEL_ACTION } from "./bulk-job-kinds";
import type { BulkProgress } from "./bulk-job-runner";

export { BULK_CANCEL_ACTION };

/** The filter as a person reads it, each value escaped as outside text. */
function filterText(job: BulkJob): Mrkdwn {
  const f = job.filter;
  const parts: Mrkdwn[] = [];
  for (const name of ["cluster", "entity", "reason", "grep", "since", "until"] as const) {
    const value = f[name];
    if (value !== undefined) parts.push(mrkdwn`--${name} ${code(value, 200)}`);
  }
  for (const { key, value } of f.where ?? []) parts.push(mrkdwn`--where ${code(`${key}=${value}`, 200)}`);
  return parts.length === 0 ? mrkdwn`every parked dead letter` : mrkdwn`${joinWords(parts)}`;
}

function joinWords(parts: readonly Mrkdwn[]): Mrkdwn {
  return parts.reduce((all, part, index) => (index === 0 ? part : mrkdwn`${all} ${part}`));
}

const STATE_LINE: Record<BulkJob["state"], string> = {
  running: ":hourglass_flowing_sand: running",
  "canary-wait": ":hatching_chick: canary sent, watching for dead letters",
  cancelled: ":no_entry_sign: cancelled",
  done: ":white_check_mark: done",
  failed: ":x: failed",
  stopped: ":octagonal_sign: stopped",
};

/** The progress message: what, by whom, how far; a Cancel button while it can still stop. */
export function bulkProgressMessage(job: BulkJob): ChatMessage {
  const { done, skipped, failed } = job.counts;
  const verb = job.action === "replay" ? "replayed" : "deleted";
  const canary =
    job.canary > 0
      ? mrkdwn` · canary ${job.canaries.length}/${job.canary}${job.canaryPassedAt ? " passed" : ""}`
      : mrkdwn``;
  const why = job.why ? mrkdwn`\n${code(job.why, 500)}` : mrkdwn``;
  const text = mrkdwn`*Bulk ${job.action}* ${code(job.id)} by ${mention(job.requestedBy)}: ${filterText(job)}\n${STATE_LINE[job.state]} · ${done} ${verb} · ${skipped} skipped · ${failed} failed · ${job.rate}/s${canary}${why}`;
  const blocks: Record<string, unknown>[] = [{ type: "section", text: { type: "mrkdwn", text: text.text } }];
  if (!FINAL_BULK_JOB_STATES.has(job.state) && !job.cancelRequested) {
    blocks.push({
      type: "actions",
      elements: [
        {
          type: "button",
          action_id: BULK_CANCEL_ACTION,
          text: { type: "plain_text", text: "Cancel" },
          style: "danger",
          value: job.id,
        },
      ],
    });
  }
  return { text: text.text, blocks };
}

export interface SlackBulkProgressOptions {
  chat: Pick<Chat, "postMessage" | "updateMessage">;
  /** Where the message is posted when the job has none yet. */
  channel: string;
  /** Fewest milliseconds between two updates, but for a change of state and the end (default 3 s). */
  minIntervalMs?: number;
  now?: () => number;
}

/** One Slack message per job: posted once, then updated as the job advances, throttled. */
export function createSlackBulkProgress(options: SlackBulkProgressOptions): BulkProgress {
  const now = options.now ?? Date.now;
  const minInterval = options.minIntervalMs ?? 3_000;
  let lastAt = Number.NEGATIVE_INFINITY;
  let lastState: string | undefined;
  return {
    async show(job, final) {
      const message = bulkProgressMessage(job);
      if (!job.progress) {
        lastAt = now();
        lastState = job.state;
        return options.chat.postMessage({ channel: options.channel, ...message });
      }
      const changed = job.state !== lastState || job.cancelRequested !== undefined;
      if (!final && !changed && now() - lastAt < minInterval) return undefined;
      lastAt = now();
      lastState = job.state;
      await options.chat.updateMessage({ channel: job.progress.channel, ts: job.progress.ts, ...message });
      return undefined;
    },
  };
}
