import type { SlackMessage } from "@victoria/emulators/slack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Twin } from "../src/twin";
import { sendSlash, signedSlackPost, startTestTwin, TEST_SECRET, type TestTwin } from "./twin-fixture";

/*
 * The command policy and its approvals through the deployment: the policy from the secret
 * (VICTORIA_POLICY_YAML), a slash command at the authenticate Function URL held for approval by the
 * worker, the request in S3 (the vault bucket, conditional writes, IAM enforced), the approver's
 * click at the resolve Function URL, the held command run once through the execute function.
 */

const OPS = "C0OPS";
const SECRET = {
  ...TEST_SECRET,
  VICTORIA_POLICY_YAML: [
    "subjects:",
    "  sre: { emails: [sre@example.com] }",
    "  leads: { slackUsers: [U0LEAD] }",
    "rules:",
    "  - commands: [config path]",
    "    allow: [sre]",
    `    channels: [${OPS}]`,
    "    approval: { from: [leads], count: 1, expires: 1h }",
    "  - commands: [config view]",
    "    allow: [sre]",
    "    approval: { from: [leads], count: 1, expires: 1s }",
    "  - commands: ['*']",
    "    deny: Not in the twin's policy",
    "",
  ].join("\n"),
};

let twin: Twin;
let logs: string[];
let eventually: TestTwin["eventually"];
let answerAt: TestTwin["answerAt"];

beforeAll(async () => {
  ({ twin, logs, eventually, answerAt } = await startTestTwin({ secret: SECRET }));
}, 120_000);

afterAll(async () => {
  await twin?.close();
});

const slack = () => {
  if (!twin.slack) throw new Error("the embedded Slack stand-in is not running");
  return twin.slack;
};

async function slash(user: string, text: string) {
  const { res, responseUrl } = await sendSlash(twin, { user, text, channel: OPS });
  expect(res.status).toBe(200);
  return answerAt(responseUrl);
}

function click(user: string, request: SlackMessage, actionId: string): Promise<Response> {
  const value = JSON.stringify(request.blocks).match(/"value":"([A-Za-z0-9_-]{16,64})"/)?.[1] ?? "";
  const payload = {
    type: "block_actions",
    user: { id: user },
    team: { id: "T0TWIN" },
    channel: { id: OPS },
    container: { type: "message", channel_id: OPS, message_ts: request.ts },
    message: { ts: request.ts },
    response_url: slack().responseUrl({ channel: OPS, user, messageTs: request.ts }),
    trigger_id: `trigger-${Date.now()}-${Math.random()}`,
    actions: [{ action_id: actionId, block_id: "approval", value, type: "button" }],
  };
  return signedSlackPost(
    twin.outputs.resolveUrl as string,
    new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
  );
}

const vaultBucket = () => twin.outputs.vaultBucket as string;

const approvalRequests = (command: string) =>
  slack()
    .messages(OPS)
    .filter(
      (m) => !m.ephemeral && !m.threadTs && String(m.text).includes(`asked to run \`victoria ${command}\``),
    );

describe("command policy and approvals through the twin", () => {
  it("a held command runs once after a lead approves; the request lives in S3 under IAM", async () => {
    const answer = await slash("U0MEMBER", "config path");
    expect(String(answer.body.text)).toContain("`config path` needs approval from leads: request posted");
    const request = await eventually(() => approvalRequests("config path")[0]);
    expect(JSON.stringify(request.blocks)).toContain("approval_approve");

    // The requester cannot approve; a lead can, and two clicks at once run it once.
    expect((await click("U0MEMBER", request, "approval_approve")).status).toBe(200);
    const [first, second] = await Promise.all([
      click("U0LEAD", request, "approval_approve"),
      click("U0LEAD", request, "approval_approve"),
    ]);
    expect([first.status, second.status]).toEqual([200, 200]);
    const result = await eventually(() =>
      slack()
        .messages(OPS)
        .find((m) => m.threadTs === request.ts && String(m.text).includes("bundled default config")),
    );
    expect(result).toBeDefined();
    await eventually(() =>
      String(
        slack()
          .messages(OPS)
          .find((m) => m.ts === request.ts)?.text,
      ).includes("ran at")
        ? true
        : undefined,
    );
    const results = slack()
      .messages(OPS)
      .filter((m) => m.threadTs === request.ts && String(m.text).includes("bundled default config"));
    expect(results).toHaveLength(1);
    // The requester's own Approve was answered privately at its response_url.
    expect(
      slack()
        .responses()
        .some((r) => String(r.body.text).includes("You cannot approve your own request")),
    ).toBe(true);
    expect(twin.s3.keys(vaultBucket()).some((k) => /^approvals\/[A-Za-z0-9_-]{16,64}\.json$/.test(k))).toBe(
      true,
    );
    expect(twin.iam.checks.filter((c) => !c.allowed)).toEqual([]);
  }, 90_000);

  it("a request left unanswered expires on the schedule; the requester is told in its thread", async () => {
    await slash("U0MEMBER", "config view");
    const request = await eventually(() => approvalRequests("config view")[0]);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    await twin.tick("ApprovalExpirySchedule");
    const told = await eventually(() =>
      slack()
        .messages(OPS)
        .find((m) => m.threadTs === request.ts && String(m.text).includes("expired unanswered")),
    );
    expect(String(told.text)).toContain("<@U0MEMBER>");
    const late = await click("U0LEAD", request, "approval_approve");
    expect(late.status).toBe(200);
    expect(logs.join("\n")).not.toContain("AccessDenied");
  }, 90_000);
});
