import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AuditRecord } from "@victoria/core/security/audit-log";
import { signServiceRequest } from "@victoria/core/security/service-signature";
import { type SlackMessage, type SlackStandIn, startSlackStandIn } from "@victoria/emulators/slack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_DEFAULTS } from "../src/settings";
import { eventually } from "./eventually";
import {
  auditRecords,
  buttonClickPayload,
  clickButton,
  firstResponse,
  sendInteraction,
  sendSlash,
  signedJson,
  toldPrivately,
} from "./slack-over-the-wire";
import { type SpawnedServer, spawnLocalServer } from "./spawn-local-server";

/**
 * Issue 16 end to end: `npm start` with a command policy (VICTORIA_POLICY), driven over the wire as
 * Slack drives it (signed slash commands, Events API DMs and mentions, block_actions clicks on
 * /resolve), against a Slack stand-in that records what people would see.
 */

const SIGNING_SECRET = "policy-e2e-signing-secret";
const BOT_TOKEN = "xoxb-policy-e2e";
const BOT_USER_ID = "U0VICTORIA";

const OPS = "C0OPS";
const GENERAL = "C0GENERAL";
const DM = "D0MEMBER";

const MEMBER = { id: "U0MEMBER", email: "sre@example.com" };
const LEAD = { id: "U0LEAD", email: "lead@example.com" };
const LEAD2 = { id: "U0LEAD2", email: "lead2@example.com" };
const GUEST = { id: "U0GUEST", email: "guest@example.com" };
/** In sre and in leads (by Slack id): may ask, and may approve others' requests, never their own. */
const BOSS = { id: "U0BOSS", email: "boss@example.com" };

const DENY_REASON = "Not in this policy: ask #sre-leads";

const POLICY = [
  "subjects:",
  '  sre:   { emails: ["sre@example.com"], slackUsers: ["U0BOSS"] }',
  '  leads: { emails: ["lead@example.com", "lead2@example.com"], slackUsers: ["U0BOSS"] }',
  "rules:",
  '  - commands: ["config view", "help", "--help"]',
  "    allow: [sre]",
  '  - commands: ["deadletter ls"]',
  "    allow: [sre]",
  "    channels: [dm]",
  '  - commands: ["deadletter delete"]',
  "    allow: [sre]",
  '    channels: ["C0OPS"]',
  '  - commands: ["store * put"]',
  "    allow: [sre]",
  '    channels: ["C0OPS"]',
  "    approval: { from: [leads], count: 1, expires: 30m }",
  '  - commands: ["config path"]',
  "    allow: [sre]",
  "    approval: { from: [leads], count: 2 }",
  '  - commands: ["*"]',
  `    deny: "${DENY_REASON}"`,
  "",
].join("\n");

/** The same risky write, expiring after a second (a server of its own: the sweep runs every 0.2 s). */
const EXPIRING_POLICY = [
  "subjects:",
  '  sre:   { emails: ["sre@example.com"] }',
  '  leads: { emails: ["lead@example.com"] }',
  "rules:",
  '  - commands: ["store * put"]',
  "    allow: [sre]",
  '    channels: ["C0OPS"]',
  "    approval: { from: [leads], expires: 1s }",
  '  - commands: ["*"]',
  `    deny: "${DENY_REASON}"`,
  "",
].join("\n");

interface Harness {
  slack: SlackStandIn;
  server: SpawnedServer;
  signingSecret: string;
  auditFile: string;
  dir: string;
}

async function startHarness(policy: string, env: Record<string, string> = {}): Promise<Harness> {
  const slack = await startSlackStandIn({
    botToken: BOT_TOKEN,
    botUserId: BOT_USER_ID,
    users: [MEMBER, LEAD, LEAD2, GUEST, BOSS],
  });
  const dir = await mkdtemp(join(tmpdir(), "policy-e2e-"));
  const policyFile = join(dir, "policy.yaml");
  await writeFile(policyFile, policy);
  const auditFile = join(dir, "audit.jsonl");
  try {
    const server = await spawnLocalServer(
      {
        HOST: "127.0.0.1",
        SLACK_API_URL: slack.url,
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_BOT_USER_ID: BOT_USER_ID,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SRE_MEMBERS: MEMBER.email,
        AUDIT_LOG_FILE: auditFile,
        VAULT_DIR: join(dir, "vault"),
        VICTORIA_POLICY: policyFile,
        VICTORIA_POLICY_YAML: "",
        ...env,
      },
      // Its `.victoria/` (generated config, `store local`) in the temp folder, not the repository.
      { cwd: dir },
    );
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    return { slack, server, signingSecret: SIGNING_SECRET, auditFile, dir };
  } catch (error) {
    await slack.close();
    throw error;
  }
}

async function stopHarness(h: Harness | undefined) {
  if (!h) return;
  await h.server.stop();
  await h.slack.close();
  await rm(h.dir, { recursive: true, force: true });
}

/** A `/victoria` slash command; the answer (after the "Running …" ack) goes to `responseUrl`. */
async function slash(h: Harness, user: string, channel: string, text: string) {
  const { ack, responseUrl } = await sendSlash(h, { user, channel, text });
  expect(await ack.json()).toMatchObject({ response_type: "ephemeral" });
  return responseUrl;
}

/** The job's answer to a slash command: text and whether only the asker sees it. */
async function slashAnswer(h: Harness, user: string, channel: string, text: string) {
  const url = await slash(h, user, channel, text);
  const answer = await firstResponse(h, url);
  return { text: String(answer.body.text), responseType: answer.body.response_type };
}

let eventSeq = 0;

/** An Events API delivery: a DM (`message`, channel_type `im`) or an `app_mention`; answers in its thread. */
async function event(h: Harness, fields: { type: string; user: string; channel: string; text: string }) {
  eventSeq += 1;
  const ts = `1700000${String(eventSeq).padStart(3, "0")}.000100`;
  const body = JSON.stringify({
    type: "event_callback",
    team_id: "T0E2E",
    event_id: `Ev${eventSeq}-${Math.random()}`,
    authorizations: [{ user_id: BOT_USER_ID }],
    event: {
      ...fields,
      ...(fields.type === "message" ? { channel_type: "im" } : {}),
      ts,
      event_ts: ts,
    },
  });
  const res = await fetch(`${h.server.url}/authenticate`, signedJson(SIGNING_SECRET, body));
  expect(res.status).toBe(200);
  return ts;
}

/** A click on an approval request's button in #ops, as Slack sends it to /resolve. */
const approvalClick = (user: string, action: "approve" | "reject", request: Posted) => ({
  user,
  channel: OPS,
  ts: request.ts,
  actionId: `approval_${action}`,
  value: request.id,
});

function click(h: Harness, user: string, action: "approve" | "reject", request: Posted) {
  return clickButton(h, approvalClick(user, action, request));
}

const ofApproval = (h: Harness, id: string) => auditRecords(h).filter((r) => r.approvalId === id);
const phasesOf = (records: readonly AuditRecord[]) => records.map((r) => r.phase);

/** Records written after `mark` (a count of records) whose command is `command`. */
function auditSince(h: Harness, mark: number, command?: string) {
  return auditRecords(h)
    .slice(mark)
    .filter((r) => command === undefined || r.command === command);
}

/** Waits for records after `mark` until `done` holds for them. */
function auditUntil(h: Harness, mark: number, done: (records: AuditRecord[]) => boolean, command?: string) {
  return eventually(() => {
    const records = auditSince(h, mark, command);
    return done(records) ? records : undefined;
  });
}

interface Button {
  action_id: string;
  value: string;
  text: { text: string };
}

function buttons(message: SlackMessage): Button[] {
  const actions = (message.blocks ?? []).find((block) => block.type === "actions");
  return ((actions?.elements as Button[] | undefined) ?? []).map((b) => ({
    action_id: b.action_id,
    value: b.value,
    text: { text: b.text.text },
  }));
}

interface Posted {
  id: string;
  ts: string;
  message: () => SlackMessage;
}

/** The approval request posted in `channel` for the command line `line` (`victoria …`). */
async function approvalRequest(h: Harness, line: string, channel = OPS): Promise<Posted> {
  const find = () =>
    h.slack
      .messages(channel)
      .find(
        (m) =>
          !m.ephemeral &&
          m.threadTs === undefined &&
          (m.text ?? "").includes(":raised_hand: *Approval needed*") &&
          (m.text ?? "").includes(`asked to run \`${line}\``),
      );
  const message = await eventually(find);
  const [approve] = buttons(message);
  const id = approve?.value ?? "";
  expect(id).toMatch(/^[A-Za-z0-9_-]{16,64}$/);
  return { id, ts: message.ts, message: () => find() as SlackMessage };
}

/** The "approved by …: running … now" line that pings the requester before a held command runs. */
const isRunningNotice = (m: SlackMessage) =>
  / now\.$/.test(String(m.text)) && String(m.text).includes(": running `");

/** Replies in the approval request's thread (results and notices), the requester's ping aside. */
const thread = (h: Harness, request: Posted, channel = OPS) =>
  h.slack.messages(channel).filter((m) => m.threadTs === request.ts && !isRunningNotice(m));

/** The pings that tell the requester their request was approved and is running. */
const runningNotices = (h: Harness, request: Posted, channel = OPS) =>
  h.slack.messages(channel).filter((m) => m.threadTs === request.ts && isRunningNotice(m));

/** What `store local ls` lists now: what the held writes really did. */
async function storedKeys(h: Harness): Promise<string[]> {
  const body = JSON.stringify({ args: ["store", "local", "ls"] });
  const res = await fetch(`${h.server.url}/execute`, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      ...signServiceRequest(DEV_DEFAULTS.VICTORIA_SHARED_SECRET, body),
    },
  });
  expect(res.status).toBe(200);
  return String(await res.json())
    .split("\n")
    .filter(Boolean);
}

const settle = (ms = 600) => new Promise((resolve) => setTimeout(resolve, ms));

const NEEDS_ONE = "`store local put` needs approval from leads: request posted.";

describe("command policy with approvals, end to end (npm start, VICTORIA_POLICY)", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(POLICY);
  });

  afterAll(async () => {
    await stopHarness(h);
  });

  it("1. allowed: the SRE member runs a read command (config view) in any channel, DM included", async () => {
    for (const channel of [OPS, GENERAL, DM]) {
      const mark = auditRecords(h).length;
      const answer = await slashAnswer(h, MEMBER.id, channel, "config view");
      expect(answer.responseType, channel).toBe("in_channel");
      expect(answer.text, channel).toContain(":white_check_mark: `victoria config view`");
      expect(answer.text, channel).toContain("```logging_config:");
      const records = await auditUntil(h, mark, (r) => r.some((x) => x.phase === "finished"));
      expect(records.map((r) => [r.phase, r.user.id, r.channel, r.exitStatus])).toEqual([
        ["requested", MEMBER.id, channel, undefined],
        ["finished", MEMBER.id, channel, 0],
      ]);
    }
  }, 45_000);

  it("1b. `/victoria deadletter bulk --entity orders` opens the Bulk… dialog with the command's trigger_id, pre-filled", async () => {
    const before = h.slack.views().length;
    await slash(h, MEMBER.id, OPS, "deadletter bulk --cluster local --entity orders");
    const opened = await eventually(() => h.slack.views().slice(before)[0]);
    expect(opened.triggerId).toMatch(/^t-U0MEMBER-/);
    const view = JSON.stringify(opened.view);
    expect(view).toContain('"callback_id":"deadletter_bulk_filter"');
    expect(view).toContain('"initial_value":"orders"');
    expect(view).toContain('"initial_value":"local"');
  }, 45_000);

  it("2. denied by rule: the `*` deny rule's reason, privately; a guest is told only sre may run it", async () => {
    let mark = auditRecords(h).length;
    const denied = await slashAnswer(h, MEMBER.id, OPS, "store local ls");
    expect(denied).toEqual({ text: DENY_REASON, responseType: "ephemeral" });
    let records = await auditUntil(h, mark, (r) => r.length > 0);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      phase: "refused",
      user: { id: MEMBER.id, email: MEMBER.email },
      channel: OPS,
      command: "store local ls",
    });
    expect(records[0]?.reason).toMatch(
      /^denied by rules\[5\] \(line \d+\): Not in this policy: ask #sre-leads$/,
    );

    mark = auditRecords(h).length;
    const guest = await slashAnswer(h, GUEST.id, GENERAL, "config view");
    expect(guest).toEqual({ text: "Only sre may run `config view`.", responseType: "ephemeral" });
    records = await auditUntil(h, mark, (r) => r.length > 0);
    expect(phasesOf(records)).toEqual(["refused"]);
    expect(records[0]).toMatchObject({ user: { id: GUEST.id, email: GUEST.email }, command: "config view" });
    expect(records[0]?.reason).toContain("only sre may run `config view` anywhere");

    // A mention's refusal is ephemeral too: only the guest sees it, in the mention's thread.
    mark = auditRecords(h).length;
    const ts = await event(h, {
      type: "app_mention",
      user: GUEST.id,
      channel: GENERAL,
      text: `<@${BOT_USER_ID}> config view`,
    });
    const told = await eventually(() => h.slack.messages(GENERAL).find((m) => m.threadTs === ts));
    expect(told).toMatchObject({ ephemeral: true, user: GUEST.id, text: "Only sre may run `config view`." });
    expect(phasesOf(await auditUntil(h, mark, (r) => r.length > 0))).toEqual(["refused"]);
    expect(h.slack.messages(GENERAL).filter((m) => !m.ephemeral)).toEqual([]);
  }, 30_000);

  it("3. denied by channel: `deadletter delete` outside C0OPS names where it is allowed; in C0OPS it runs", async () => {
    let mark = auditRecords(h).length;
    const refused = await slashAnswer(h, MEMBER.id, GENERAL, "deadletter delete x");
    expect(refused).toEqual({
      text: "`deadletter delete` is allowed in <#C0OPS> only.",
      responseType: "ephemeral",
    });
    const records = await auditUntil(h, mark, (r) => r.length > 0);
    expect(phasesOf(records)).toEqual(["refused"]);
    expect(records[0]).toMatchObject({ channel: GENERAL, command: "deadletter delete x" });
    expect(records[0]?.reason).toContain("for this user in C0OPS only");

    // The same command in C0OPS passes the gate and runs (there is no dead letter x to delete).
    mark = auditRecords(h).length;
    const ran = await slashAnswer(h, MEMBER.id, OPS, "deadletter delete x");
    expect(ran.text).toContain("`victoria deadletter delete x`");
    expect(ran.text).not.toContain("is allowed in");
    expect(phasesOf(await auditUntil(h, mark, (r) => r.some((x) => x.phase === "finished")))).toEqual([
      "requested",
      "finished",
    ]);
  }, 30_000);

  it("4. DM: a DM-only rule runs from a D… channel (slash and DM message), is refused elsewhere; an approval rule is refused in a DM", async () => {
    // Slash command typed in the DM with the bot.
    let mark = auditRecords(h).length;
    const fromDm = await slashAnswer(h, MEMBER.id, DM, "deadletter ls");
    expect(fromDm.text).toContain(":white_check_mark: `victoria deadletter ls`");
    expect(fromDm.text).toContain("No dead letters.");
    let records = await auditUntil(h, mark, (r) => r.some((x) => x.phase === "finished"));
    expect(records.map((r) => [r.phase, r.source, r.channel])).toEqual([
      ["requested", "slash_command", DM],
      ["finished", "slash_command", DM],
    ]);

    // A DM message (Events API `message`, channel_type im): answered in the DM, in its thread.
    mark = auditRecords(h).length;
    let ts = await event(h, { type: "message", user: MEMBER.id, channel: DM, text: "deadletter ls" });
    const dmAnswer = await eventually(() => h.slack.messages(DM).find((m) => m.threadTs === ts));
    expect(dmAnswer.text).toContain("No dead letters.");
    records = await auditUntil(h, mark, (r) => r.some((x) => x.phase === "finished"));
    expect(records.map((r) => [r.phase, r.source])).toEqual([
      ["requested", "direct_message"],
      ["finished", "direct_message"],
    ]);

    // Elsewhere the DM-only rule refuses, saying where it is allowed.
    mark = auditRecords(h).length;
    const elsewhere = await slashAnswer(h, MEMBER.id, GENERAL, "deadletter ls");
    expect(elsewhere).toEqual({
      text: "`deadletter ls` is allowed in direct messages only.",
      responseType: "ephemeral",
    });
    expect(phasesOf(await auditUntil(h, mark, (r) => r.length > 0))).toEqual(["refused"]);

    // A command needing approval cannot be asked for in a DM: approvers would never see it.
    const before = h.slack.messages().filter((m) => !m.ephemeral && m.threadTs === undefined).length;
    mark = auditRecords(h).length;
    const approvalInDm = await slashAnswer(h, MEMBER.id, DM, "config path");
    expect(approvalInDm).toEqual({
      text: "`config path` needs 2 approvals from leads. Approvers cannot see a direct message: run it in a channel where they can approve it.",
      responseType: "ephemeral",
    });
    records = await auditUntil(h, mark, (r) => r.length > 0);
    expect(phasesOf(records)).toEqual(["refused"]);
    expect(records[0]?.approvalId).toBeUndefined();

    ts = await event(h, { type: "message", user: MEMBER.id, channel: DM, text: "config path" });
    const dmRefusal = await eventually(() => h.slack.messages(DM).find((m) => m.threadTs === ts));
    expect(dmRefusal.text).toBe(approvalInDm.text);
    await settle(300);
    expect(h.slack.messages().filter((m) => !m.ephemeral && m.threadTs === undefined)).toHaveLength(before);
    expect(auditSince(h, mark).filter((r) => r.phase !== "refused")).toEqual([]);
  }, 30_000);

  it("5. approval granted: request posted with both buttons; a lead approves; the output lands in the thread; audited; redrawn without buttons", async () => {
    const told = await slashAnswer(h, MEMBER.id, OPS, "store local put --data hello k5");
    expect(told.responseType).toBe("ephemeral");
    expect(told.text).toBe(
      `${NEEDS_ONE} You will hear in its thread when it is approved, rejected or expires.`,
    );

    const request = await approvalRequest(h, "victoria store local put --data hello k5");
    const posted = request.message();
    expect(posted.text).toContain(`<@${MEMBER.id}> asked to run`);
    expect(posted.text).toContain("Waiting for an approval from leads");
    expect(JSON.stringify(posted.blocks)).toContain("approvers: leads");
    expect(buttons(posted)).toEqual([
      { action_id: "approval_approve", value: request.id, text: { text: "Approve" } },
      { action_id: "approval_reject", value: request.id, text: { text: "Reject" } },
    ]);
    expect(phasesOf(ofApproval(h, request.id))).toEqual(["approval-requested"]);
    expect(thread(h, request)).toEqual([]);

    await click(h, LEAD.id, "approve", request);

    const result = await eventually(() => thread(h, request)[0]);
    expect(runningNotices(h, request).map((m) => m.text)).toEqual([
      expect.stringMatching(/^<@U0MEMBER> approved by <@U0LEAD>: running `victoria store local put/),
    ]);
    expect(result.ephemeral).toBe(false);
    expect(result.text).toContain(":white_check_mark: `victoria store local put --data hello k5`");
    expect(result.text).toContain("Uploaded --data to 'k5' in storage provider 'local' (5 bytes)");

    const redrawn = await eventually(() => {
      const m = request.message();
      return (m.text ?? "").includes("ran at") ? m : undefined;
    });
    expect(redrawn.updates).toBeGreaterThanOrEqual(1);
    expect(redrawn.text).toContain(`:white_check_mark: Approved by <@${LEAD.id}>`);
    expect(redrawn.text).toMatch(/: exit 0$/);
    expect(buttons(redrawn)).toEqual([]);
    expect(redrawn.blocks?.some((b) => b.type === "actions")).toBe(false);

    const records = await eventually(() => {
      const r = ofApproval(h, request.id);
      return r.some((x) => x.phase === "finished") ? r : undefined;
    });
    expect(records.map((r) => [r.phase, r.user.id])).toEqual([
      ["approval-requested", MEMBER.id],
      ["approval", LEAD.id],
      ["requested", MEMBER.id],
      ["finished", MEMBER.id],
    ]);
    const [asked, approval, requested, finished] = records;
    expect(asked).toMatchObject({ source: "slash_command", channel: OPS, user: { email: MEMBER.email } });
    expect(asked?.reason).toMatch(/^rules\[3\] \(line \d+\)$/);
    expect(approval).toMatchObject({ source: "interaction", user: { email: LEAD.email }, output: "1 of 1" });
    expect(requested).toMatchObject({
      requestId: asked?.requestId,
      command: "store local put --data hello k5",
    });
    expect(finished).toMatchObject({ requestId: asked?.requestId, exitStatus: 0 });
    expect(await storedKeys(h)).toContain("k5");
    // The requester heard once (request posted); the approver's click needed no private answer.
    expect(thread(h, request)).toHaveLength(1);
  }, 30_000);

  it("6. rejected: a lead rejects; the thread tells the requester; nothing ran; redrawn", async () => {
    const told = await slashAnswer(h, MEMBER.id, OPS, "store local put --data hello k6");
    expect(told.text).toContain(NEEDS_ONE);
    const request = await approvalRequest(h, "victoria store local put --data hello k6");

    await click(h, LEAD.id, "reject", request);

    const reply = await eventually(() => thread(h, request)[0]);
    expect(reply.text).toBe(
      `<@${MEMBER.id}> your request to run \`victoria store local put --data hello k6\` was rejected by <@${LEAD.id}>; nothing ran.`,
    );
    const redrawn = await eventually(() => {
      const m = request.message();
      return m.updates > 0 ? m : undefined;
    });
    expect(redrawn.text).toContain(`:x: Rejected by <@${LEAD.id}>`);
    expect(buttons(redrawn)).toEqual([]);

    await settle();
    expect(phasesOf(ofApproval(h, request.id))).toEqual(["approval-requested", "rejected"]);
    expect(ofApproval(h, request.id)[1]?.user).toEqual({ id: LEAD.id, email: LEAD.email });
    expect(auditRecords(h).filter((r) => r.command.includes("k6") && r.phase === "requested")).toEqual([]);
    expect(thread(h, request)).toHaveLength(1);
    expect(await storedKeys(h)).not.toContain("k6");

    // A later Approve is refused: the request was decided.
    const late = await click(h, LEAD2.id, "approve", request);
    expect(await toldPrivately(h, late)).toContain("Already rejected by");
    await settle(300);
    expect(phasesOf(ofApproval(h, request.id))).toEqual(["approval-requested", "rejected"]);
  }, 30_000);

  it("8. self-approval refused: a requester who is also a lead cannot approve their own request; nothing runs", async () => {
    const told = await slashAnswer(h, BOSS.id, OPS, "store local put --data hello k8");
    expect(told.text).toContain(NEEDS_ONE);
    const request = await approvalRequest(h, "victoria store local put --data hello k8");

    const own = await click(h, BOSS.id, "approve", request);
    expect(await toldPrivately(h, own)).toBe("You cannot approve your own request: leads must.");

    await settle();
    const records = ofApproval(h, request.id);
    expect(phasesOf(records)).toEqual(["approval-requested", "refused"]);
    expect(records[1]).toMatchObject({ user: { id: BOSS.id }, reason: "own request: approval refused" });
    const message = request.message();
    expect(message.updates).toBe(0);
    expect(buttons(message).map((b) => b.action_id)).toEqual(["approval_approve", "approval_reject"]);
    expect(thread(h, request)).toEqual([]);
    expect(await storedKeys(h)).not.toContain("k8");
  }, 30_000);

  it("11. a non-approver (an SRE member who is not a lead, or a guest) is refused privately; nothing runs", async () => {
    const told = await slashAnswer(h, BOSS.id, OPS, "store local put --data hello k11");
    expect(told.text).toContain(NEEDS_ONE);
    const request = await approvalRequest(h, "victoria store local put --data hello k11");

    const member = await click(h, MEMBER.id, "approve", request);
    expect(await toldPrivately(h, member)).toBe("Only members of leads may approve this request.");
    const guest = await click(h, GUEST.id, "approve", request);
    expect(await toldPrivately(h, guest)).toBe("Only members of leads may approve this request.");
    const rejecter = await click(h, MEMBER.id, "reject", request);
    expect(await toldPrivately(h, rejecter)).toBe("Only members of leads may reject this request.");

    await settle();
    const records = ofApproval(h, request.id);
    expect(records.map((r) => [r.phase, r.user.id])).toEqual([
      ["approval-requested", BOSS.id],
      ["refused", MEMBER.id],
      ["refused", GUEST.id],
      ["refused", MEMBER.id],
    ]);
    expect(records[1]?.reason).toBe("not an approver (leads)");
    expect(request.message().updates).toBe(0);
    expect(buttons(request.message())).toHaveLength(2);
    expect(thread(h, request)).toEqual([]);
    expect(await storedKeys(h)).not.toContain("k11");
  }, 30_000);

  it("9. two approvers at once, and a click sent twice: the command runs exactly once", async () => {
    const told = await slashAnswer(h, MEMBER.id, OPS, "store local put --data hello k9");
    expect(told.text).toContain(NEEDS_ONE);
    const request = await approvalRequest(h, "victoria store local put --data hello k9");

    const lead = buttonClickPayload({
      ...approvalClick(LEAD.id, "approve", request),
      responseUrl: h.slack.responseUrl(),
    });
    const lead2 = buttonClickPayload({
      ...approvalClick(LEAD2.id, "approve", request),
      responseUrl: h.slack.responseUrl(),
    });
    // Slack resending a click delivers the same body again.
    await Promise.all([sendInteraction(h, lead), sendInteraction(h, lead2), sendInteraction(h, lead)]);

    await eventually(() => thread(h, request)[0]);
    await eventually(() => ((request.message().text ?? "").includes("ran at") ? true : undefined));
    // Of three clicks, one ran it and two were told privately that it was already approved.
    const losers = await eventually(() => {
      const all = [...h.slack.responses(lead.response_url), ...h.slack.responses(lead2.response_url)];
      return all.length >= 2 ? all : undefined;
    });
    await settle(1000);

    const records = ofApproval(h, request.id);
    expect(phasesOf(records)).toEqual(["approval-requested", "approval", "requested", "finished"]);
    expect(records.filter((r) => r.phase === "requested")).toHaveLength(1);
    const results = thread(h, request);
    expect(results).toHaveLength(1);
    expect(results[0]?.text).toContain("Uploaded --data to 'k9' in storage provider 'local' (5 bytes)");
    expect(losers).toHaveLength(2);
    for (const loser of losers) {
      expect(loser.body).toMatchObject({ response_type: "ephemeral", replace_original: false });
      expect(String(loser.body.text)).toMatch(/^Already approved by /);
    }
    const approver = records[1]?.user.id;
    expect([LEAD.id, LEAD2.id]).toContain(approver);
    expect(request.message().text).toContain(`Approved by <@${approver}> · ran at`);
  }, 30_000);

  it("9b. an 'already approved' refusal names the approver as a Slack mention, not as escaped text", async () => {
    const told = await slashAnswer(h, MEMBER.id, OPS, "store local put --data hello k9b");
    expect(told.text).toContain(NEEDS_ONE);
    const request = await approvalRequest(h, "victoria store local put --data hello k9b");
    await click(h, LEAD.id, "approve", request);
    await eventually(() => ((request.message().text ?? "").includes("ran at") ? true : undefined));

    const late = await click(h, LEAD2.id, "approve", request);
    const text = await toldPrivately(h, late);
    expect(text).toMatch(/^Already approved by /);
    expect(text).toContain(`<@${LEAD.id}>`);
  }, 30_000);

  it("10. count 2: the first approval is recorded and redrawn (1 of 2); the second runs it", async () => {
    const told = await slashAnswer(h, MEMBER.id, OPS, "config path");
    expect(told).toEqual({
      text: "`config path` needs 2 approvals from leads: request posted. You will hear in its thread when it is approved, rejected or expires.",
      responseType: "ephemeral",
    });
    const request = await approvalRequest(h, "victoria config path");
    expect(request.message().text).toContain("Waiting for 2 approvals from leads");

    const first = await click(h, LEAD.id, "approve", request);
    expect(await toldPrivately(h, first)).toBe(
      "Approved (1 of 2): `victoria config path` runs after 1 more.",
    );
    const halfway = await eventually(() => {
      const m = request.message();
      return m.updates > 0 ? m : undefined;
    });
    expect(halfway.text).toContain(`Approved by <@${LEAD.id}> (1 of 2)`);
    expect(buttons(halfway)).toHaveLength(2);
    let records = ofApproval(h, request.id);
    expect(records.map((r) => [r.phase, r.user.id, r.output])).toEqual([
      ["approval-requested", MEMBER.id, undefined],
      ["approval", LEAD.id, "1 of 2"],
    ]);
    expect(thread(h, request)).toEqual([]);

    // The same lead again does not count twice.
    const again = await click(h, LEAD.id, "approve", request);
    expect(await toldPrivately(h, again)).toBe("Already approved by you");

    await click(h, LEAD2.id, "approve", request);
    const result = await eventually(() => thread(h, request)[0]);
    expect(result.text).toContain(":white_check_mark: `victoria config path`");
    expect(result.text).toContain(".victoria/victoria.local.yaml");
    const redrawn = await eventually(() => {
      const m = request.message();
      return (m.text ?? "").includes("ran at") ? m : undefined;
    });
    expect(redrawn.text).toContain(`Approved by <@${LEAD.id}> and <@${LEAD2.id}> · ran at`);
    expect(buttons(redrawn)).toEqual([]);

    records = await eventually(() => {
      const r = ofApproval(h, request.id);
      return r.some((x) => x.phase === "finished") ? r : undefined;
    });
    expect(records.map((r) => [r.phase, r.user.id, r.output ?? null])).toEqual([
      ["approval-requested", MEMBER.id, null],
      ["approval", LEAD.id, "1 of 2"],
      ["approval", LEAD2.id, "2 of 2"],
      ["requested", MEMBER.id, null],
      ["finished", MEMBER.id, expect.stringContaining(".victoria/victoria.local.yaml")],
    ]);
  }, 30_000);
});

describe("command policy approvals: expiry (APPROVAL_SWEEP_SECONDS=0.2, expires: 1s)", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(EXPIRING_POLICY, { APPROVAL_SWEEP_SECONDS: "0.2" });
  });

  afterAll(async () => {
    await stopHarness(h);
  });

  it("7. expired: the sweep expires it, redraws it and tells the requester in the thread; a later Approve is refused", async () => {
    const told = await slashAnswer(h, MEMBER.id, OPS, "store local put --data hello k7");
    expect(told.text).toContain(NEEDS_ONE);
    const request = await approvalRequest(h, "victoria store local put --data hello k7");
    expect(buttons(request.message())).toHaveLength(2);

    const notice = await eventually(() => thread(h, request)[0], 8_000);
    expect(notice.text).toBe(
      `<@${MEMBER.id}> your request to run \`victoria store local put --data hello k7\` expired unanswered; nothing ran. Ask again if it is still needed.`,
    );
    const redrawn = await eventually(() => {
      const m = request.message();
      return m.updates > 0 ? m : undefined;
    });
    expect(redrawn.text).toContain(":hourglass: Expired unanswered at");
    expect(buttons(redrawn)).toEqual([]);
    expect(phasesOf(ofApproval(h, request.id))).toEqual(["approval-requested", "expired"]);

    const late = await click(h, LEAD.id, "approve", request);
    expect(await toldPrivately(h, late)).toMatch(/^This request expired at \d{4}-\d\d-\d\dT/);
    await settle();
    // Told once, expired once, never run.
    expect(thread(h, request)).toHaveLength(1);
    expect(phasesOf(ofApproval(h, request.id))).toEqual(["approval-requested", "expired"]);
    expect(auditRecords(h).filter((r) => r.phase === "requested")).toEqual([]);
    expect(await storedKeys(h)).not.toContain("k7");
  }, 30_000);
});
