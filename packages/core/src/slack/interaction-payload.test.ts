import { describe, expect, it } from "vitest";
import { parseInteraction } from "./interaction-payload";

describe("parseInteraction", () => {
  it("asks for the payload field when there is none", () => {
    expect(parseInteraction(null)).toEqual({
      ok: false,
      answer: {
        kind: "bad-request",
        message: "Expected a form field 'payload' holding Slack's interaction JSON",
      },
    });
  });

  it("refuses a payload that is not JSON", () => {
    expect(parseInteraction("{")).toEqual({
      ok: false,
      answer: { kind: "bad-request", message: "The 'payload' field is not JSON" },
    });
  });

  it.each(["null", "[]", '{"type":"shortcut"}', '{"type":"view_closed"}'])(
    "acknowledges %s, which is not ours, so Slack shows no error",
    (text) => {
      expect(parseInteraction(text)).toEqual({ ok: false, answer: { kind: "ack" } });
    },
  );

  it("says which field is wrong in a block_actions payload", () => {
    const parsed = parseInteraction(
      JSON.stringify({ type: "block_actions", user: { id: "U" }, trigger_id: "t" }),
    );
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.answer).toMatchObject({
      kind: "bad-request",
      message: expect.stringMatching(/^Not a Slack interaction payload: actions: /),
    });
  });

  it("reads a click", () => {
    const parsed = parseInteraction(
      JSON.stringify({
        type: "block_actions",
        user: { id: "U1" },
        trigger_id: "t1",
        actions: [{ action_id: "deadletter_replay", value: "abc", block_id: "b" }],
      }),
    );
    expect(parsed).toMatchObject({
      ok: true,
      interaction: { type: "block_actions", actions: [{ action_id: "deadletter_replay", value: "abc" }] },
    });
  });
});
