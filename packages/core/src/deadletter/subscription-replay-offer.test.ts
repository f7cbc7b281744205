import { describe, expect, it } from "vitest";
import { DEADLETTER_ACTIONS } from "./notification-blocks";
import { topicReplayOffer } from "./subscription-replay-offer";

describe("topicReplayOffer", () => {
  it("says why, and offers the topic-wide replay behind a confirmation naming the other subscriptions", () => {
    const offer = topicReplayOffer("rec-1", "Not replayed: <!channel> & rules missing", {
      topic: "events",
      subscription: "audit",
      others: ["billing", "ops<@U1>"],
    });
    expect(offer.text).toBe("Not replayed: &lt;!channel&gt; &amp; rules missing");
    type Button = { action_id: string; value: string; confirm: { text: { text: string } } };
    const [, actions] = offer.blocks as [unknown, { elements: Button[] }];
    const [button] = actions.elements;
    expect(button).toMatchObject({
      action_id: DEADLETTER_ACTIONS.replayTopic,
      value: "rec-1",
      text: { text: "Replay to the whole topic" },
    });
    expect(button?.confirm.text.text).toBe(
      "This sends the message to topic `events`: besides `audit`, `billing`, `ops&lt;@U1&gt;` will receive it again.",
    );
  });
});
