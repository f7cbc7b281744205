import { type SlackStandIn, startSlackStandIn } from "@victoria/emulators/slack";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createWebApiChat } from "../adapters/slack/web-api-chat";
import { createMemoryLogger } from "../logging/json-logger";
import { parsePolicy } from "../policy/policy-file";
import { createPolicyGate } from "../policy/policy-gate";
import type { AuditRecord } from "../security/audit-log";
import { createStaticDirectory } from "../security/static-directory";
import { newBulkJob } from "./bulk-job";
import { createBulkCancelHandler } from "./bulk-job-jobs";
import { BULK_CANCEL_ACTION, createSlackBulkProgress } from "./bulk-job-progress";
import { createMemoryJobStore } from "./bulk-job-store";
import { createBulkJobs } from "./bulk-jobs";

// The progress message and its Cancel button over the Slack Web API stand-in; the button passes the
// same policy gate as `deadletter cancel`.

const TOKEN = "xoxb-bulk";
const CHANNEL = "C0ALERTS";
const POLICY = parsePolicy(
  [
    "subjects:",
    "  sre: { emails: [sre@example.com] }",
    "  viewers: { emails: [guest@example.com] }",
    "rules:",
    "  - commands: [deadletter ls]",
    "    allow: [sre, viewers]",
    "  - commands: [deadletter replay, deadletter cancel]",
    "    allow: [sre]",
    "  - commands: ['*']",
    "    deny: Not for you",
    "",
  ].join("\n"),
  "policy.yaml",
);

let slack: SlackStandIn;
let chat: ReturnType<typeof createWebApiChat>;

beforeAll(async () => {
  slack = await startSlackStandIn({
    botToken: TOKEN,
    channels: [CHANNEL],
    users: [
      { id: "U0SRE", email: "sre@example.com" },
      { id: "U0GUEST", email: "guest@example.com" },
    ],
  });
  chat = createWebApiChat({ token: TOKEN, slackApiUrl: slack.url, retryConfig: { retries: 0 } });
});
afterAll(() => slack.close());
beforeEach(() => slack.reset());

const gate = () =>
  createPolicyGate({
    chat,
    directory: createStaticDirectory(["sre@example.com"]),
    policy: async () => POLICY,
  });

describe("bulk job progress in Slack", () => {
  it("posts one message, updates it (throttled) and drops the Cancel button at the end", async () => {
    let time = 0;
    const progress = createSlackBulkProgress({
      chat,
      channel: CHANNEL,
      minIntervalMs: 3_000,
      now: () => time,
    });
    const job = newBulkJob(
      { action: "replay", filter: { reason: "<!channel> *boom*" }, requestedBy: "U0SRE" },
      new Date("2030-01-01T00:00:00Z"),
    );
    const ref = await progress.show(job, false);
    expect(ref).toMatchObject({ channel: CHANNEL });
    const posted = { ...job, progress: ref as { channel: string; ts: string } };
    time = 1_000;
    await progress.show({ ...posted, counts: { done: 5, skipped: 0, failed: 0 } }, false); // throttled
    time = 5_000;
    await progress.show({ ...posted, counts: { done: 9, skipped: 1, failed: 0 } }, false);
    await progress.show({ ...posted, state: "done", counts: { done: 12, skipped: 1, failed: 0 } }, true);

    const [message, ...others] = slack.messages(CHANNEL);
    expect(others).toEqual([]);
    expect(message?.updates).toBe(2);
    expect(message?.text).toContain("12 replayed");
    // Outside text is escaped: no channel-wide ping, no bold from the filter.
    expect(message?.text).not.toContain("<!channel>");
    expect(message?.text).toContain("&lt;!channel&gt;");
    expect(JSON.stringify(message?.blocks)).not.toContain(BULK_CANCEL_ACTION);
  });

  it("the Cancel button cancels for someone the policy allows, and refuses (audited) someone it does not", async () => {
    const store = createMemoryJobStore();
    const jobs = createBulkJobs({
      store,
      actions: {
        list: async () => [],
        search: async () => ({ records: [] }),
        replay: async () => ({ ok: false, reason: "missing", message: "" }),
        delete: async () => ({ ok: false, reason: "missing", message: "" }),
      },
      vault: { get: async () => undefined, findByMessageId: async () => [] },
      logger: createMemoryLogger(),
    });
    const job = await jobs.start({ action: "replay", filter: { entity: "orders" }, requestedBy: "U0SRE" });
    const audit: AuditRecord[] = [];
    const cancel = createBulkCancelHandler({
      jobs,
      gate: gate(),
      chat,
      audit: { write: async (record) => void audit.push(record) },
      logger: createMemoryLogger(),
    });
    const click = (userId: string) => ({ requestId: `r-${userId}`, jobId: job.id, userId, channel: CHANNEL });

    await cancel(click("U0GUEST"));
    expect((await store.get(job.id))?.state).toBe("running");
    expect(audit).toMatchObject([{ phase: "refused", command: `deadletter cancel ${job.id}` }]);
    expect(slack.messages(CHANNEL).filter((m) => m.ephemeral && m.user === "U0GUEST")).toHaveLength(1);

    await cancel(click("U0SRE"));
    expect((await store.get(job.id))?.state).toBe("cancelled");
  });

  it("the policy refuses a bulk replay to a user not allowed `deadletter replay`", async () => {
    const outcome = await gate().check("U0GUEST", { id: CHANNEL, isDm: false }, [
      "deadletter",
      "replay",
      "--entity",
      "orders",
      "--rate",
      "20/s",
    ]);
    expect(outcome.kind).toBe("refuse");
    const allowed = await gate().check("U0SRE", { id: CHANNEL, isDm: false }, [
      "deadletter",
      "replay",
      "--entity",
      "orders",
    ]);
    expect(allowed.kind).toBe("allow");
  });
});
