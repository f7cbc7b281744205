import type { ChatMessage } from "../ports";
import { cleanPlainText, code, escapeWithin, joinMrkdwn, mrkdwn, truncateMrkdwn } from "../slack/slack-text";
import { DEADLETTER_ACTIONS, SLACK_LIMITS } from "./notification-blocks";

/**
 * What the clicker is told, privately, when a subscription's replay was refused because its topic
 * lacks the rules (subscription-replay.ts): why, and a "Replay to the whole topic" button whose
 * confirmation names every other subscription that would receive the message again. Names and the
 * reason come from the namespace: escaped.
 */
export function topicReplayOffer(
  recordId: string,
  reason: string,
  topicReplay: { topic: string; subscription: string; others: readonly string[] },
): ChatMessage {
  const text = escapeWithin(reason, SLACK_LIMITS.sectionText);
  const names = topicReplay.others.map((name) => code(name, 100));
  const shown = names.slice(0, 10);
  const more = names.length > shown.length ? mrkdwn` and ${names.length - shown.length} more` : mrkdwn``;
  const who = shown.length === 0 ? mrkdwn`no other subscription` : mrkdwn`${joinMrkdwn(shown, ", ")}${more}`;
  const confirmText = truncateMrkdwn(
    mrkdwn`This sends the message to topic ${code(topicReplay.topic, 100)}: besides ${code(topicReplay.subscription, 100)}, ${who} will receive it again.`,
    SLACK_LIMITS.confirmText,
  );
  return {
    text: text.text,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: text.text } },
      {
        type: "actions",
        elements: [
          {
            type: "button",
            action_id: DEADLETTER_ACTIONS.replayTopic,
            text: { type: "plain_text", text: "Replay to the whole topic" },
            value: recordId,
            style: "danger",
            confirm: {
              title: { type: "plain_text", text: "Replay to every subscription?" },
              text: { type: "mrkdwn", text: confirmText.text },
              confirm: {
                type: "plain_text",
                text: cleanPlainText("Replay to the topic", SLACK_LIMITS.confirmButton),
              },
              deny: { type: "plain_text", text: "Cancel" },
              style: "danger",
            },
          },
        ],
      },
    ],
  };
}
