import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { VaultRecord } from "@victoria/core/deadletter/vault";
import type { AuditRecord } from "@victoria/core/security/audit-log";
import { type EntraGraphStandIn, startEntraGraphStandIn } from "@victoria/emulators/entra-graph";
import type { SlackMessage } from "@victoria/emulators/slack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deadLetterAndAlert, dlqDrained } from "./dead-letters-over-the-wire";
import { eventually } from "./eventually";
import {
  auditRecords,
  clickButton,
  sendInteraction,
  toldPrivately,
  viewSubmission,
} from "./slack-over-the-wire";
import {
  spawnLocalServer,
  spawnWiredServer,
  stopWiredServer,
  WIRED,
  type WiredServer,
} from "./spawn-local-server";

/**
 * Issue 16 end to end, for the dead-letter notification's buttons: `npm start` with a command policy
 * (VICTORIA_POLICY), a dead letter parked from a Service Bus stand-in through /listener, its
 * notification in a Slack stand-in, and clicks sent to /resolve as Slack sends them (signed
 * `block_actions`). Each button passes the gate of the command it stands for: Replay is
 * `deadletter replay`, Delete `deadletter delete`, Replay all / Delete all the same in bulk.
 */

const { queue: QUEUE, alerts: ALERTS } = WIRED;
const OPS = "C0OPS";

const MEMBER = { id: "U0MEMBER", email: "sre@example.com" };
const LEAD = { id: "U0LEAD", email: "lead@example.com" };
const LEAD2 = { id: "U0LEAD2", email: "lead2@example.com" };
const GUEST = { id: "U0GUEST", email: "guest@example.com" };
/** In the Entra case: in the SRE group through a nested group; and in no group at all. */
const NESTED = { id: "U0NESTED", email: "bob@example.com" };
const OUTSIDER = { id: "U0OUTSIDER", email: "eve@example.com" };

const DELETE_DENIED = "Deleting dead letters is frozen during the audit: replay or email them instead";
const REPLAY_DENIED = "Replays are paused while the consumer is fixed";

const SUBJECTS = [
  "subjects:",
  '  sre:   { emails: ["sre@example.com"] }',
  '  leads: { emails: ["lead@example.com", "lead2@example.com"] }',
];

/** Case 1: Replay allowed for sre in the alert channel; Delete denied with a reason. */
const BUTTONS_POLICY = [
  ...SUBJECTS,
  "rules:",
  '  - commands: ["deadletter replay"]',
  "    allow: [sre]",
  `    channels: ["${ALERTS}"]`,
  '  - commands: ["deadletter delete"]',
  `    deny: "${DELETE_DENIED}"`,
  '  - commands: ["*"]',
  '    deny: "Not in this policy"',
  "",
].join("\n");

/** Cases 2 and 3: Replay needs a lead's approval in the alert channel; Delete is for another channel. */
const APPROVAL_POLICY = [
  ...SUBJECTS,
  "rules:",
  '  - commands: ["deadletter replay"]',
  "    allow: [sre]",
  `    channels: ["${ALERTS}"]`,
  "    approval: { from: [leads], count: 1, expires: 30m }",
  '  - commands: ["deadletter delete"]',
  "    allow: [sre]",
  `    channels: ["${OPS}"]`,
  '  - commands: ["*"]',
  '    deny: "Not in this policy"',
  "",
].join("\n");

/** Case 4: Replay denied for everyone (Replay all too); Delete for another channel (Delete all too). */
const BULK_POLICY = [
  ...SUBJECTS,
  "rules:",
  '  - commands: ["deadletter replay"]',
  `    deny: "${REPLAY_DENIED}"`,
  '  - commands: ["deadletter delete"]',
  "    allow: [sre]",
  `    channels: ["${OPS}"]`,
  '  - commands: ["*"]',
  '    deny: "Not in this policy"',
  "",
].join("\n");

type Harness = WiredServer;

async function startHarness(
  policy: string,
  {
    env = {},
    users = [MEMBER, LEAD, LEAD2, GUEST],
  }: { env?: Record<string, string>; users?: { id: string; email: string }[] } = {},
): Promise<Harness> {
  const h = await spawnWiredServer("policy-buttons", { users, sreMember: MEMBER.email, policy, env });
  expect(h.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  return h;
}

const stopHarness = stopWiredServer;

// ---------------------------------------------------------------------------------------------
// Dead letters and their notification

interface Notification {
  ts: string;
  /** Its record ids in the order shown, and the message each holds. */
  records: { id: string; messageId: string }[];
  /** `batch:<notification id>`, the bulk buttons' value. */
  batch: string;
  message: () => SlackMessage;
}

const isNotification = (m: SlackMessage) =>
  !m.ephemeral && m.threadTs === undefined && (m.text ?? "").startsWith(":rotating_light:");

/** Dead-letters `count` messages on the queue, posts the alert to /listener, waits for the notification. */
async function deadLetters(h: Harness, tag: string, count: number): Promise<Notification> {
  const before = h.slack.messages(ALERTS).filter(isNotification).length;
  await deadLetterAndAlert(h, QUEUE, tag, count);
  const posted = await eventually(() => h.slack.messages(ALERTS).filter(isNotification)[before], 15_000);
  // Parked, then completed on the bus once the notification was posted.
  await dlqDrained(h, QUEUE);
  const message = () => h.slack.messages(ALERTS).find((m) => m.ts === posted.ts) as SlackMessage;
  const ids = (posted.blocks ?? [])
    .map((b) => String(b.block_id ?? ""))
    .filter((id) => id.startsWith("dl-actions:"))
    .map((id) => id.slice("dl-actions:".length));
  const records = ids.map((id) => ({ id, messageId: String(vaultRecord(h, id).message.messageId) }));
  const first = records[0];
  expect(first).toBeDefined();
  const notificationId = vaultRecord(h, first?.id ?? "").notification?.id;
  expect(notificationId).toBeTruthy();
  return { ts: posted.ts, records, batch: `batch:${notificationId}`, message };
}

function vaultRecord(h: Harness, id: string): VaultRecord {
  return JSON.parse(readFileSync(join(h.vaultDir, "records", `${id}.json`), "utf8")) as VaultRecord;
}

/** Message ids waiting on the queue: what replays sent back. */
const onQueue = (h: Harness) => h.broker.peekAll(QUEUE).map((m) => String(m.messageId));

interface Button {
  action_id: string;
  value: string;
  text: string;
}

function buttonsIn(block: Record<string, unknown> | undefined): Button[] {
  if (block?.type !== "actions") return [];
  return (block.elements as { action_id: string; value: string; text: { text: string } }[]).map((b) => ({
    action_id: b.action_id,
    value: b.value,
    text: b.text.text,
  }));
}

/** One dead letter's row in the notification: its buttons, or the outcome line that replaced them. */
function row(message: SlackMessage, recordId: string) {
  const block = (message.blocks ?? []).find((b) => b.block_id === `dl-actions:${recordId}`);
  const outcome =
    block?.type === "context"
      ? (block.elements as { text: string }[]).map((e) => e.text).join(" ")
      : undefined;
  return { buttons: buttonsIn(block), outcome };
}

function bulkButtons(message: SlackMessage): Button[] {
  return buttonsIn((message.blocks ?? []).find((b) => String(b.block_id ?? "").startsWith("dl-bulk:")));
}

// ---------------------------------------------------------------------------------------------
// Clicks

/** Clicks a button of `message` (a notification or an approval request); answers its response_url. */
function click(h: Harness, user: string, actionId: string, value: string, ts: string, channel = ALERTS) {
  return clickButton(h, { user, channel, ts, actionId, value });
}

// ---------------------------------------------------------------------------------------------
// Audit

/** Records after `mark` (a count of records) until `done` holds for them. */
function auditUntil(h: Harness, mark: number, done: (records: AuditRecord[]) => boolean) {
  return eventually(() => {
    const records = auditRecords(h).slice(mark);
    return done(records) ? records : undefined;
  });
}

const settle = (ms = 800) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------

describe("dead-letter buttons under the command policy (npm start, VICTORIA_POLICY)", () => {
  let h: Harness;
  let n: Notification;

  beforeAll(async () => {
    h = await startHarness(BUTTONS_POLICY);
    n = await deadLetters(h, "buttons", 2);
  }, 60_000);

  afterAll(async () => {
    await stopHarness(h);
  });

  it("the notification shows Replay, Repair…, Email and Delete for each parked dead letter", () => {
    expect(n.records).toHaveLength(2);
    for (const r of n.records) {
      expect(row(n.message(), r.id).buttons.map((b) => [b.action_id, b.value])).toEqual([
        ["deadletter_replay", r.id],
        ["deadletter_repair", r.id],
        ["deadletter_email", r.id],
        ["deadletter_delete", r.id],
      ]);
      expect(vaultRecord(h, r.id).state).toBe("parked");
    }
  });

  it("1a. Replay, allowed for sre in the alert channel: replayed as the clicker, redrawn, audited", async () => {
    const [r1, r2] = n.records as [Notification["records"][0], Notification["records"][0]];
    const mark = auditRecords(h).length;
    const url = await click(h, MEMBER.id, "deadletter_replay", r1.id, n.ts);

    const replayed = await eventually(() => {
      const record = vaultRecord(h, r1.id);
      return record.state === "replayed" ? record : undefined;
    });
    expect(replayed.resolution).toMatchObject({ by: MEMBER.id, via: "button" });
    expect(await eventually(() => (onQueue(h).length > 0 ? onQueue(h) : undefined))).toEqual([r1.messageId]);

    const redrawn = await eventually(() => (row(n.message(), r1.id).outcome ? n.message() : undefined));
    expect(redrawn.updates).toBeGreaterThanOrEqual(1);
    expect(row(redrawn, r1.id)).toMatchObject({ buttons: [] });
    expect(row(redrawn, r1.id).outcome).toContain(`:repeat: Replayed by <@${MEMBER.id}>`);
    // The other dead letter keeps its buttons.
    expect(row(redrawn, r2.id).buttons).toHaveLength(4);

    const records = await auditUntil(h, mark, (r) => r.some((x) => x.phase === "finished"));
    expect(records.map((r) => [r.phase, r.user.id, r.command, r.exitStatus])).toEqual([
      ["requested", MEMBER.id, `deadletter replay ${r1.id}`, undefined],
      ["finished", MEMBER.id, `deadletter replay ${r1.id}`, 0],
    ]);
    expect(records[0]).toMatchObject({
      source: "interaction",
      channel: ALERTS,
      user: { id: MEMBER.id, email: MEMBER.email },
    });
    // A replay that worked needs no private answer.
    await settle(300);
    expect(h.slack.responses(url)).toEqual([]);
  }, 30_000);

  it("1b. Delete, denied by a rule: refused privately with its reason; nothing deleted; audited as refused", async () => {
    const r2 = n.records[1] as Notification["records"][0];
    const updatesBefore = n.message().updates;
    const mark = auditRecords(h).length;
    const url = await click(h, MEMBER.id, "deadletter_delete", r2.id, n.ts);

    expect(await toldPrivately(h, url)).toBe(DELETE_DENIED);
    const records = await auditUntil(h, mark, (r) => r.length > 0);
    await settle();
    expect(auditRecords(h).slice(mark)).toHaveLength(1);
    expect(records[0]).toMatchObject({
      phase: "refused",
      source: "interaction",
      user: { id: MEMBER.id, email: MEMBER.email },
      channel: ALERTS,
      command: `deadletter delete ${r2.id}`,
    });
    expect(records[0]?.reason).toMatch(
      new RegExp(`^denied by rules\\[1\\] \\(line \\d+\\): ${DELETE_DENIED.replace(/[.:]/g, "\\$&")}$`),
    );

    const record = vaultRecord(h, r2.id);
    expect(record.state).toBe("parked");
    expect(record.resolution).toBeUndefined();
    expect(n.message().updates).toBe(updatesBefore);
    expect(row(n.message(), r2.id).buttons).toHaveLength(4);
    expect(onQueue(h)).not.toContain(r2.messageId);
  }, 30_000);

  it("1c. Email (`deadletter email`, denied by the catch-all rule): the dialog's submission is refused privately; nothing sent", async () => {
    const r2 = n.records[1] as Notification["records"][0];
    const opened = h.slack.views().length;
    const responseUrl = await click(h, MEMBER.id, "deadletter_email", r2.id, n.ts);
    const dialog = await eventually(() => h.slack.views()[opened]);
    expect(dialog.view).toMatchObject({ callback_id: "deadletter_email" });

    const mark = auditRecords(h).length;
    await sendInteraction(
      h,
      viewSubmission(MEMBER.id, dialog.view, {
        recipient: { address: { value: "team@example.com" } },
        note: { text: { value: "please look" } },
      }),
    );
    expect(await toldPrivately(h, responseUrl)).toBe("Not in this policy");
    const records = await auditUntil(h, mark, (r) => r.length > 0);
    expect(records[0]).toMatchObject({
      phase: "refused",
      user: { id: MEMBER.id },
      channel: ALERTS,
      command: `deadletter email ${r2.id}`,
    });
    expect(records[0]?.reason).toMatch(/^denied by rules\[2\] \(line \d+\): Not in this policy$/);
    await settle();
    expect(vaultRecord(h, r2.id).state).toBe("parked");
  }, 30_000);

  it("1d. Replay by someone the rule does not allow: refused privately (only sre); still parked", async () => {
    const r2 = n.records[1] as Notification["records"][0];
    const mark = auditRecords(h).length;
    const url = await click(h, GUEST.id, "deadletter_replay", r2.id, n.ts);
    expect(await toldPrivately(h, url)).toBe("Only sre may run `deadletter replay`.");
    const records = await auditUntil(h, mark, (r) => r.length > 0);
    expect(records[0]).toMatchObject({
      phase: "refused",
      user: { id: GUEST.id, email: GUEST.email },
      command: `deadletter replay ${r2.id}`,
    });
    await settle();
    expect(vaultRecord(h, r2.id).state).toBe("parked");
    expect(onQueue(h)).not.toContain(r2.messageId);
  }, 30_000);
});

describe("dead-letter buttons: another channel, and approval (npm start, VICTORIA_POLICY)", () => {
  let h: Harness;
  let n: Notification;
  /** Test 3's approval request, for 3c. */
  let approved: { approvalId: string; recordId: string } | undefined;

  beforeAll(async () => {
    h = await startHarness(APPROVAL_POLICY);
    n = await deadLetters(h, "approval", 3);
  }, 60_000);

  afterAll(async () => {
    await stopHarness(h);
  });

  /** The approval request for `line`, posted in the alert channel, and its Approve button's id. */
  async function approvalRequest(line: string) {
    const find = () =>
      h.slack
        .messages(ALERTS)
        .find(
          (m) =>
            !m.ephemeral &&
            m.threadTs === undefined &&
            (m.text ?? "").includes(":raised_hand: *Approval needed*") &&
            (m.text ?? "").includes(`asked to run \`${line}\``),
        );
    const message = await eventually(find);
    const actions = (message.blocks ?? []).find((b) => b.type === "actions");
    const buttons = buttonsIn(actions);
    const id = buttons[0]?.value ?? "";
    expect(id).toMatch(/^[A-Za-z0-9_-]{16,64}$/);
    return { id, ts: message.ts, buttons, message: () => find() as SlackMessage };
  }

  it("2. Delete in a channel the rule does not cover: refused privately, naming where it is allowed", async () => {
    const r = n.records[1] as Notification["records"][0];
    const mark = auditRecords(h).length;
    const url = await click(h, MEMBER.id, "deadletter_delete", r.id, n.ts);

    expect(await toldPrivately(h, url)).toBe(`\`deadletter delete\` is allowed in <#${OPS}> only.`);
    const records = await auditUntil(h, mark, (x) => x.length > 0);
    expect(records[0]).toMatchObject({
      phase: "refused",
      user: { id: MEMBER.id },
      channel: ALERTS,
      command: `deadletter delete ${r.id}`,
    });
    expect(records[0]?.reason).toContain(`for this user in ${OPS} only`);
    await settle();
    expect(auditRecords(h).slice(mark)).toHaveLength(1);
    expect(vaultRecord(h, r.id).state).toBe("parked");
    expect(row(n.message(), r.id).buttons).toHaveLength(4);
  }, 30_000);

  it("3. Replay under an approval rule: request posted in the alert channel; a lead approves; replayed once as the requester; a second Approve is refused", async () => {
    const r = n.records[0] as Notification["records"][0];
    const mark = auditRecords(h).length;
    const url = await click(h, MEMBER.id, "deadletter_replay", r.id, n.ts);

    expect(await toldPrivately(h, url)).toBe(
      "`deadletter replay` needs approval from leads: request posted. You will hear in its thread when it is approved, rejected or expires.",
    );
    const request = await approvalRequest(`victoria deadletter replay ${r.id}`);
    expect(request.message().text).toContain(`<@${MEMBER.id}> asked to run`);
    expect(request.message().text).toContain("Waiting for an approval from leads");
    expect(request.buttons).toEqual([
      { action_id: "approval_approve", value: request.id, text: "Approve" },
      { action_id: "approval_reject", value: request.id, text: "Reject" },
    ]);
    // Held: nothing happened to the dead letter yet.
    await settle(300);
    expect(vaultRecord(h, r.id).state).toBe("parked");
    expect(onQueue(h)).toEqual([]);
    expect(row(n.message(), r.id).buttons).toHaveLength(4);
    let records = auditRecords(h).slice(mark);
    expect(records.map((x) => [x.phase, x.user.id, x.approvalId])).toEqual([
      ["approval-requested", MEMBER.id, request.id],
    ]);
    expect(records[0]).toMatchObject({ source: "interaction", channel: ALERTS });

    await click(h, LEAD.id, "approval_approve", request.id, request.ts);

    const replayed = await eventually(() => {
      const record = vaultRecord(h, r.id);
      return record.state === "replayed" ? record : undefined;
    });
    // Performed as the requester who clicked, not as the approver.
    expect(replayed.resolution).toMatchObject({ by: MEMBER.id, via: "button" });
    expect(await eventually(() => (onQueue(h).length > 0 ? onQueue(h) : undefined))).toEqual([r.messageId]);
    const redrawn = await eventually(() => (row(n.message(), r.id).outcome ? n.message() : undefined));
    expect(row(redrawn, r.id).outcome).toContain(`:repeat: Replayed by <@${MEMBER.id}>`);
    const ran = await eventually(() => {
      const m = request.message();
      return (m.text ?? "").includes("ran at") ? m : undefined;
    });
    expect(ran.text).toContain(`:white_check_mark: Approved by <@${LEAD.id}> · ran at`);
    expect((ran.blocks ?? []).some((b) => b.type === "actions")).toBe(false);

    records = await auditUntil(h, mark, (x) => x.some((y) => y.phase === "finished"));
    expect(records.map((x) => [x.phase, x.user.id, x.approvalId])).toEqual([
      ["approval-requested", MEMBER.id, request.id],
      ["approval", LEAD.id, request.id],
      ["requested", MEMBER.id, request.id],
      ["finished", MEMBER.id, request.id],
    ]);
    expect(records[2]).toMatchObject({ command: `deadletter replay ${r.id}`, channel: ALERTS });
    expect(records[3]).toMatchObject({ exitStatus: 0 });
    approved = { approvalId: request.id, recordId: r.id };

    // A second Approve (another lead, later): refused, nothing replayed again.
    const late = await click(h, LEAD2.id, "approval_approve", request.id, request.ts);
    const text = await toldPrivately(h, late);
    expect(text).toMatch(/^Already approved by /);
    expect(text).toContain(`<@${LEAD.id}>`);
    await settle();
    expect(onQueue(h)).toEqual([r.messageId]);
    expect(auditRecords(h).filter((x) => x.phase === "requested" && x.command.includes(r.id))).toHaveLength(
      1,
    );
    expect(vaultRecord(h, r.id).version).toBe(replayed.version);
  }, 45_000);

  it("3b. the requester hears in the request's thread once the held click was approved and ran, as promised", async () => {
    const r = n.records[2] as Notification["records"][0];
    const url = await click(h, MEMBER.id, "deadletter_replay", r.id, n.ts);
    expect(await toldPrivately(h, url)).toContain("You will hear in its thread when it is approved");
    const request = await approvalRequest(`victoria deadletter replay ${r.id}`);
    await click(h, LEAD.id, "approval_approve", request.id, request.ts);
    await eventually(() => (vaultRecord(h, r.id).state === "replayed" ? true : undefined));
    await eventually(() => ((request.message().text ?? "").includes("ran at") ? true : undefined));

    // The promise above: something in the request's thread for the requester (a slash command's
    // approved run posts its output there; rejections and expiries post a line mentioning them).
    const thread = await eventually(() => {
      const replies = h.slack.messages(ALERTS).filter((m) => m.threadTs === request.ts);
      return replies.length > 0 ? replies : undefined;
    }, 3_000).catch(() => []);
    expect(thread).toHaveLength(1);
    expect(thread[0]?.text).toContain(`<@${MEMBER.id}>`);
    expect(thread[0]?.text).toContain(`<@${LEAD.id}>`);
  }, 30_000);

  it("3c. every audit record of the approval names the command alike, as the refusals and runs do (`deadletter replay <id>`)", () => {
    expect(approved).toBeDefined();
    const { approvalId, recordId } = approved as { approvalId: string; recordId: string };
    const records = auditRecords(h).filter((r) => r.approvalId === approvalId);
    expect(records.map((r) => [r.phase, r.command])).toEqual([
      ["approval-requested", `deadletter replay ${recordId}`],
      ["approval", `deadletter replay ${recordId}`],
      ["requested", `deadletter replay ${recordId}`],
      ["finished", `deadletter replay ${recordId}`],
    ]);
  });
});

describe("dead-letter bulk buttons under a deny rule (npm start, VICTORIA_POLICY)", () => {
  let h: Harness;
  let n: Notification;

  beforeAll(async () => {
    h = await startHarness(BULK_POLICY);
    // More than the 20 shown one by one, so the notification carries Replay all / Delete all.
    n = await deadLetters(h, "bulk", 21);
  }, 60_000);

  afterAll(async () => {
    await stopHarness(h);
  });

  it("4. Replay all under a deny rule for `deadletter replay`: refused privately; nothing replayed", async () => {
    expect(bulkButtons(n.message()).map((b) => [b.action_id, b.value])).toEqual([
      ["deadletter_replay_all", n.batch],
      ["deadletter_delete_all", n.batch],
    ]);
    const parked = () => n.records.filter((r) => vaultRecord(h, r.id).state === "parked").map((r) => r.id);
    expect(parked()).toHaveLength(20);
    const updatesBefore = n.message().updates;
    const mark = auditRecords(h).length;

    const url = await click(h, MEMBER.id, "deadletter_replay_all", n.batch, n.ts);
    expect(await toldPrivately(h, url)).toBe(REPLAY_DENIED);
    const records = await auditUntil(h, mark, (r) => r.length > 0);
    expect(records[0]).toMatchObject({
      phase: "refused",
      user: { id: MEMBER.id, email: MEMBER.email },
      channel: ALERTS,
      command: `deadletter replay --all ${n.batch}`,
    });
    expect(records[0]?.reason).toMatch(/^denied by rules\[0\] \(line \d+\): /);

    await settle();
    expect(auditRecords(h).slice(mark)).toHaveLength(1);
    expect(parked()).toHaveLength(20);
    expect(onQueue(h)).toEqual([]);
    expect(n.message().updates).toBe(updatesBefore);
    expect(bulkButtons(n.message())).toHaveLength(2);
  }, 30_000);

  it("4b. Delete all where the rule does not cover the channel: refused, naming where; nothing deleted", async () => {
    const mark = auditRecords(h).length;
    const url = await click(h, MEMBER.id, "deadletter_delete_all", n.batch, n.ts);
    expect(await toldPrivately(h, url)).toBe(`\`deadletter delete\` is allowed in <#${OPS}> only.`);
    const records = await auditUntil(h, mark, (r) => r.length > 0);
    expect(records[0]).toMatchObject({ phase: "refused", command: `deadletter delete --all ${n.batch}` });
    await settle();
    expect(n.records.every((r) => vaultRecord(h, r.id).state === "parked")).toBe(true);
    expect(auditRecords(h).filter((r) => r.phase === "requested")).toEqual([]);
  }, 30_000);
});

describe("an invalid policy: the local server refuses to start", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "policy-buttons-invalid-"));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Starts with this policy; answers the exit status and output of a start that failed. */
  async function refusedStart(env: Record<string, string>) {
    const outcome = await spawnLocalServer(
      { HOST: "127.0.0.1", AUDIT_LOG_FILE: join(dir, "audit.jsonl"), VAULT_DIR: join(dir, "vault"), ...env },
      { cwd: dir, startTimeoutMs: 30_000 },
    ).then(
      async (server) => {
        await server.stop();
        return { started: true as const, message: server.logs.join("") };
      },
      (error: Error) => ({ started: false as const, message: error.message }),
    );
    expect(outcome.started, outcome.message).toBe(false);
    const exit = /^server exited with (\S+): ([\s\S]*)$/.exec(outcome.message);
    expect(exit, outcome.message).not.toBeNull();
    return { code: Number(exit?.[1]), output: exit?.[2] ?? "" };
  }

  it("5. a typo `alow:` names the file, line and field with did-you-mean `allow`; an unknown subject in allow too", async () => {
    const typo = join(dir, "typo.yaml");
    await writeFile(
      typo,
      [
        ...SUBJECTS,
        "rules:",
        '  - commands: ["deadletter replay"]',
        "    alow: [sre]",
        '  - commands: ["*"]',
        '    deny: "Not in this policy"',
        "",
      ].join("\n"),
    );
    const first = await refusedStart({ VICTORIA_POLICY: typo, VICTORIA_POLICY_YAML: "" });
    expect(first.code).not.toBe(0);
    expect(Number.isInteger(first.code)).toBe(true);
    expect(first.output).not.toContain("listening on");
    expect(first.output).toContain(`${typo} line 6, column 5, rules[0].alow: unknown key`);
    expect(first.output).toContain("Did you mean 'allow'?");

    const unknown = join(dir, "unknown-subject.yaml");
    await writeFile(
      unknown,
      [...SUBJECTS, "rules:", '  - commands: ["deadletter replay"]', "    allow: [sre, lead]", ""].join("\n"),
    );
    const second = await refusedStart({ VICTORIA_POLICY: unknown, VICTORIA_POLICY_YAML: "" });
    expect(second.code).not.toBe(0);
    expect(second.output).not.toContain("listening on");
    expect(second.output).toContain(
      `${unknown} line 6, column 18, rules[0].allow[1]: no subject named 'lead' (subjects: sre, leads). Did you mean 'leads'?`,
    );
  }, 60_000);

  it("5b. VICTORIA_POLICY_YAML is named as the source when it is the invalid one", async () => {
    const yaml = [
      "subjects: { sre: { emails: [sre@example.com] } }",
      "rules:",
      "  - commands: [help]",
      "    alow: [sre]",
    ].join("\n");
    const failed = await refusedStart({ VICTORIA_POLICY: "", VICTORIA_POLICY_YAML: yaml });
    expect(failed.code).not.toBe(0);
    expect(failed.output).toContain("VICTORIA_POLICY_YAML line 4, column 5, rules[0].alow: unknown key");
    expect(failed.output).toContain("Did you mean 'allow'?");
  }, 30_000);
});

describe("dead-letter buttons with a policy subject of Entra groups (Graph stand-in)", () => {
  const TENANT = "11111111-2222-3333-4444-555555555555";
  const CLIENT = "66666666-7777-8888-9999-000000000000";
  const SECRET = "s3cret~Buttons.Value-Never-Leaks";
  const SRE_GROUP = "a0000000-0000-0000-0000-00000000sre0";
  const PLATFORM_GROUP = "a0000000-0000-0000-0000-0000platform";

  let entra: EntraGraphStandIn;
  let h: Harness;
  let n: Notification;
  let caDir: string;

  beforeAll(async () => {
    entra = await startEntraGraphStandIn({ tenantId: TENANT, clientId: CLIENT, clientSecret: SECRET });
    const bob = entra.addUser({ userPrincipalName: NESTED.email, mail: NESTED.email });
    const alice = entra.addUser({ userPrincipalName: "alice@example.com", mail: "alice@example.com" });
    entra.addUser({ userPrincipalName: OUTSIDER.email, mail: OUTSIDER.email });
    // bob is in the SRE group only through the platform group.
    entra.addGroup(SRE_GROUP, { members: [alice, PLATFORM_GROUP] });
    entra.addGroup(PLATFORM_GROUP, { members: [bob] });
    caDir = await mkdtemp(join(tmpdir(), "policy-buttons-ca-"));
    const caFile = join(caDir, "entra-ca.pem");
    await writeFile(caFile, entra.ca as string);
    const policy = [
      "subjects:",
      `  sre: { entraGroups: ["${SRE_GROUP}"] }`,
      "rules:",
      '  - commands: ["deadletter replay"]',
      "    allow: [sre]",
      '  - commands: ["*"]',
      '    deny: "Not in this policy"',
      "",
    ].join("\n");
    h = await startHarness(policy, {
      users: [NESTED, OUTSIDER],
      env: {
        AZURE_TENANT_ID: TENANT,
        AZURE_CLIENT_ID: CLIENT,
        AZURE_CLIENT_SECRET: SECRET,
        AZURE_AUTHORITY_HOST: entra.authorityHost,
        GRAPH_API_URL: entra.graphApiUrl,
        // The stand-in's self-signed certificate, trusted by the server process only.
        NODE_EXTRA_CA_CERTS: caFile,
      },
    });
    n = await deadLetters(h, "entra", 2);
  }, 60_000);

  afterAll(async () => {
    await stopHarness(h);
    await entra?.close();
    if (caDir) await rm(caDir, { recursive: true, force: true });
  });

  it("6. a nested member of the group replays; a non-member is refused 'Only sre may run'", async () => {
    const [r1, r2] = n.records as [Notification["records"][0], Notification["records"][0]];
    const graphBefore = entra.counts.graphRequests;

    const mark = auditRecords(h).length;
    const allowed = await click(h, NESTED.id, "deadletter_replay", r1.id, n.ts);
    const replayed = await eventually(() => {
      const record = vaultRecord(h, r1.id);
      return record.state === "replayed" ? record : undefined;
    });
    expect(replayed.resolution).toMatchObject({ by: NESTED.id, via: "button" });
    expect(await eventually(() => (onQueue(h).length > 0 ? onQueue(h) : undefined))).toEqual([r1.messageId]);
    await eventually(() => (row(n.message(), r1.id).outcome ? true : undefined));
    expect(row(n.message(), r1.id).outcome).toContain(`:repeat: Replayed by <@${NESTED.id}>`);
    expect(entra.counts.graphRequests).toBeGreaterThan(graphBefore);
    const records = await auditUntil(h, mark, (r) => r.some((x) => x.phase === "finished"));
    expect(records.map((r) => [r.phase, r.user.id])).toEqual([
      ["requested", NESTED.id],
      ["finished", NESTED.id],
    ]);
    expect(h.slack.responses(allowed)).toEqual([]);

    const refusedMark = auditRecords(h).length;
    const refused = await click(h, OUTSIDER.id, "deadletter_replay", r2.id, n.ts);
    expect(await toldPrivately(h, refused)).toBe("Only sre may run `deadletter replay`.");
    const refusal = await auditUntil(h, refusedMark, (r) => r.length > 0);
    expect(refusal[0]).toMatchObject({
      phase: "refused",
      user: { id: OUTSIDER.id, email: OUTSIDER.email },
      command: `deadletter replay ${r2.id}`,
    });
    expect(refusal[0]?.reason).toContain("only sre may run `deadletter replay` anywhere");
    expect(JSON.stringify(auditRecords(h))).not.toContain(SECRET);
    await settle();
    expect(vaultRecord(h, r2.id).state).toBe("parked");
    expect(onQueue(h)).toEqual([r1.messageId]);
  }, 45_000);
});
