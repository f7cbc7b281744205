import { describe, expect, it } from "vitest";
import { type ApprovalRequest, approve, newApprovalRequest, reject } from "./approval";
import { approvalMessage, shownCommand } from "./approval-blocks";

const NOW = new Date("2026-12-05T10:00:00Z");
const request = (command: string[], count = 1): ApprovalRequest => ({
  ...newApprovalRequest(
    {
      command,
      requester: { slackId: "U0ASKER", email: "asker@example.com" },
      channelId: "C0OPS",
      ruleIndex: 1,
      ruleLabel: "rules[1] (line 7)",
      approvers: ["leads"],
      count,
      expiresInMs: 30 * 60_000,
    },
    NOW,
    "abcdefghijklmnop",
  ),
});
const lead = { slackId: "U0LEAD", email: "lead@example.com" };
const buttons = (r: ApprovalRequest) =>
  (approvalMessage(r).blocks ?? [])
    .filter((b) => b.type === "actions")
    .flatMap((b) =>
      (b.elements as { action_id: string; value: string }[]).map((e) => `${e.action_id}=${e.value}`),
    );

describe("approval request message", () => {
  it("pending: the command, who asked, the rule, and Approve / Reject carrying the id", () => {
    const message = approvalMessage(request(["deadletter", "delete", "abc"]));
    expect(message.text).toContain("<@U0ASKER> asked to run `victoria deadletter delete abc`");
    expect(JSON.stringify(message.blocks)).toContain("Required by rules[1] (line 7)");
    expect(buttons(request(["x"]))).toEqual([
      "approval_approve=abcdefghijklmnop",
      "approval_reject=abcdefghijklmnop",
    ]);
  });

  it("what was typed cannot mention anyone or break out of the code span", () => {
    const message = approvalMessage(request(["store", "<!channel>", "`x`", "&"]));
    expect(message.text).toContain("`victoria store '&lt;!channel&gt;' ''x'' '&amp;'`");
    expect(message.text).not.toContain("<!channel>");
  });

  it("a plaintext to encrypt is never posted in the channel", () => {
    expect(shownCommand(["encrypt", "data", "hunter2"])).toBe("victoria encrypt data …");
    expect(JSON.stringify(approvalMessage(request(["encrypt", "data", "hunter2"])))).not.toContain("hunter2");
    expect(shownCommand(["encrypt", "rotate"])).toBe("victoria encrypt rotate");
  });

  it("redrawn after each decision: counts, then no buttons once decided", () => {
    const two = request(["encrypt", "rotate"], 2);
    const once = approve(two, lead, NOW);
    if (!once.ok) throw new Error("approval refused");
    expect(approvalMessage(once.request).text).toContain("Approved by <@U0LEAD> (1 of 2)");
    expect(buttons(once.request)).toHaveLength(2);
    const rejected = reject(once.request, { slackId: "U0BOSS", email: "boss@example.com" }, NOW);
    if (!rejected.ok) throw new Error("rejection refused");
    expect(approvalMessage(rejected.request).text).toContain(":x: Rejected by <@U0BOSS>");
    expect(buttons(rejected.request)).toEqual([]);
    const withdrawn = reject(two, two.requester, NOW);
    if (!withdrawn.ok) throw new Error("withdrawal refused");
    expect(approvalMessage(withdrawn.request).text).toContain("Withdrawn by <@U0ASKER>");
    expect(approvalMessage({ ...two, state: "expired" }).text).toContain("Expired unanswered");
  });
});
