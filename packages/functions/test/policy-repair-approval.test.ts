import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPLAY_COUNT_PROPERTY } from "@victoria/core/deadletter/dead-letter-actions";
import type { VaultRecord } from "@victoria/core/deadletter/vault";
import type { SlackMessage } from "@victoria/emulators/slack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertListener } from "./dead-letters-over-the-wire";
import { eventually } from "./eventually";
import {
  auditRecords,
  clickButton,
  sendInteraction,
  toldPrivately,
  viewSubmission,
} from "./slack-over-the-wire";
import { spawnWiredServer, stopWiredServer, WIRED, type WiredServer } from "./spawn-local-server";

/**
 * The Repair… dialog under a command policy that wants an approval for `deadletter replay` (which a
 * repair is): `npm start` with VICTORIA_POLICY, a dead letter parked from the Service Bus stand-in
 * through /listener, the dialog opened and submitted through /resolve as Slack sends them. The
 * submission is held — nothing sent, the vault untouched — until a lead approves; then the edited
 * message is what is replayed, once, and the audit names the changed fields, never their values.
 */

const { queue: QUEUE, alerts: ALERTS } = WIRED;

const MEMBER = { id: "U0MEMBER", email: "sre@example.com" };
const LEAD = { id: "U0LEAD", email: "lead@example.com" };
const LEAD2 = { id: "U0LEAD2", email: "lead2@example.com" };

const POLICY = [
  "subjects:",
  '  sre:   { emails: ["sre@example.com"] }',
  '  leads: { emails: ["lead@example.com", "lead2@example.com"] }',
  "rules:",
  '  - commands: ["deadletter replay"]',
  "    allow: [sre]",
  `    channels: ["${ALERTS}"]`,
  "    approval: { from: [leads], count: 1, expires: 30m }",
  '  - commands: ["*"]',
  '    deny: "Not in this policy"',
  "",
].join("\n");

/** Values the repair puts in, which no audit record, request or notice may show. */
const NEW_TENANT = "globex-secret-tenant";
const NEW_BODY = '{"order": 2, "card": "4111-secret"}';

let h: WiredServer;

beforeAll(async () => {
  h = await spawnWiredServer("repair-approval", {
    users: [MEMBER, LEAD, LEAD2],
    sreMember: MEMBER.email,
    policy: POLICY,
  });
}, 60_000);

afterAll(() => stopWiredServer(h));

function vaultRecord(id: string): VaultRecord {
  return JSON.parse(readFileSync(join(h.vaultDir, "records", `${id}.json`), "utf8")) as VaultRecord;
}

function click(user: string, actionId: string, value: string, ts: string, responseUrl: string) {
  return clickButton(h, { user, channel: ALERTS, ts, actionId, value, responseUrl });
}

/** One message dead-lettered on the queue, announced through /listener; its notification and record id. */
async function deadLetter(): Promise<{ ts: string; id: string }> {
  h.broker.deadLetter(
    QUEUE,
    {
      messageId: "repair-1",
      body: { order: 1, card: "broken" },
      applicationProperties: { tenant: "acme", amount: 5 },
    },
    { reason: "Boom", description: "consumer failed" },
  );
  await alertListener(h, QUEUE, 1);
  const posted = await eventually(
    () =>
      h.slack
        .messages(ALERTS)
        .find(
          (m) => !m.ephemeral && m.threadTs === undefined && (m.text ?? "").startsWith(":rotating_light:"),
        ),
    15_000,
  );
  const id = (posted.blocks ?? [])
    .map((b) => String(b.block_id ?? ""))
    .find((b) => b.startsWith("dl-actions:"))
    ?.slice("dl-actions:".length);
  expect(id).toBeTruthy();
  await eventually(() => (vaultRecord(id as string).notification ? true : undefined), 15_000);
  return { ts: posted.ts, id: id as string };
}

const settle = (ms = 800) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Repair… under a policy that wants an approval for `deadletter replay` (npm start)", () => {
  it("holds the edited replay, then replays exactly the edit once a lead approves, audited without values", async () => {
    const n = await deadLetter();
    const parked = vaultRecord(n.id);

    // Repair…: the dialog opens pre-filled; the submission carries the click's response_url.
    const clickUrl = h.slack.responseUrl();
    await click(MEMBER.id, "deadletter_repair", n.id, n.ts, clickUrl);
    const dialog = await eventually(() => h.slack.views()[0]);
    expect(dialog.view.callback_id).toBe("deadletter_repair");
    const blocks = dialog.view.blocks as { block_id?: string; element?: { initial_value?: string } }[];
    const lines = blocks.find((b) => b.block_id === "properties")?.element?.initial_value ?? "";
    expect(lines).toContain("tenant=acme");

    const mark = auditRecords(h).length;
    const submitted = await sendInteraction(
      h,
      viewSubmission(MEMBER.id, dialog.view, {
        body: { text: { type: "plain_text_input", value: NEW_BODY } },
        properties: {
          lines: {
            type: "plain_text_input",
            value: lines.replace("tenant=acme", `tenant=${NEW_TENANT}`).replace("amount=5\n", ""),
          },
        },
      }),
    );
    // Accepted (the dialog closes): no field errors.
    expect(await submitted.text()).toBe("");

    // The requester is told; the approvers get the request naming the changed fields only.
    expect(await toldPrivately(h, clickUrl)).toBe(
      "`deadletter replay` needs approval from leads: request posted. You will hear in its thread when it is approved, rejected or expires.",
    );
    const isRequest = (m: SlackMessage) =>
      !m.ephemeral && m.threadTs === undefined && (m.text ?? "").includes(":raised_hand: *Approval needed*");
    const request = await eventually(() => h.slack.messages(ALERTS).find(isRequest));
    expect(request.text).toContain(
      `<@${MEMBER.id}> asked to run \`victoria deadletter replay ${n.id} --body '…' --set 'tenant=…' --unset amount\``,
    );
    const buttons = (request.blocks ?? []).find((b) => b.type === "actions")?.elements as
      | { action_id: string; value: string }[]
      | undefined;
    expect(buttons?.map((b) => b.action_id)).toEqual(["approval_approve", "approval_reject"]);
    const approvalId = String(buttons?.[0]?.value);
    const shown = JSON.stringify(request);
    expect(shown).not.toContain(NEW_TENANT);
    expect(shown).not.toContain("4111");

    // Held: nothing sent, nothing changed in the vault.
    await settle(500);
    expect(h.broker.peekAll(QUEUE)).toEqual([]);
    expect(vaultRecord(n.id)).toEqual(parked);
    expect(
      auditRecords(h)
        .slice(mark)
        .map((r) => [r.phase, r.user.id, r.command]),
    ).toEqual([
      ["approval-requested", MEMBER.id, `deadletter replay ${n.id} --body … --set tenant=… --unset amount`],
    ]);

    // A lead approves: the edit, exactly as submitted, is what goes back on the queue.
    await click(LEAD.id, "approval_approve", approvalId, request.ts, h.slack.responseUrl());
    const replayed = await eventually(() => {
      const record = vaultRecord(n.id);
      return record.state === "replayed" ? record : undefined;
    }, 15_000);
    const [sent, ...more] = await eventually(() => {
      const messages = h.broker.peekAll(QUEUE);
      return messages.length > 0 ? messages : undefined;
    });
    expect(more).toEqual([]);
    expect(sent?.body).toEqual({ order: 2, card: "4111-secret" });
    expect(sent?.applicationProperties).toEqual({
      tenant: NEW_TENANT,
      DeadLetterReason: "Boom",
      DeadLetterErrorDescription: "consumer failed",
      [REPLAY_COUNT_PROPERTY]: 1,
    });
    // Performed as the requester; the original kept beside the edit.
    expect(replayed.resolution).toMatchObject({ by: MEMBER.id, via: "button" });
    expect(replayed.message).toEqual(parked.message);
    expect(replayed.repair).toMatchObject({
      by: MEMBER.id,
      changes: ["body", "set tenant", "unset amount"],
      bodyDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });

    const records = await eventually(() => {
      const after = auditRecords(h).slice(mark);
      return after.some((r) => r.phase === "finished") ? after : undefined;
    });
    expect(records.map((r) => [r.phase, r.user.id, r.approvalId])).toEqual([
      ["approval-requested", MEMBER.id, approvalId],
      ["approval", LEAD.id, approvalId],
      ["requested", MEMBER.id, approvalId],
      ["finished", MEMBER.id, approvalId],
    ]);
    const edits = { changes: ["body", "set tenant", "unset amount"] };
    expect(records[2]).toMatchObject({ command: `deadletter replay ${n.id}`, edits });
    expect(records[3]).toMatchObject({
      command: `deadletter replay ${n.id}`,
      exitStatus: 0,
      edits: { ...edits, bodyDigest: replayed.repair?.bodyDigest },
    });
    const audit = readFileSync(h.auditFile, "utf8");
    expect(audit).not.toContain(NEW_TENANT);
    expect(audit).not.toContain("4111");
    // Nor anything posted: the request's thread ("running …", the outcome), the redrawn notification.
    await eventually(() =>
      h.slack.messages(ALERTS).some((m) => m.threadTs === request.ts) ? true : undefined,
    );
    const posted = JSON.stringify([h.slack.messages(), h.slack.responses()]);
    expect(posted).not.toContain(NEW_TENANT);
    expect(posted).not.toContain("4111");

    // A second Approve: refused; nothing replayed again.
    const late = h.slack.responseUrl();
    await click(LEAD2.id, "approval_approve", approvalId, request.ts, late);
    expect(await toldPrivately(h, late)).toMatch(/^Already approved by /);
    await settle();
    expect(h.broker.peekAll(QUEUE)).toHaveLength(1);
    expect(vaultRecord(n.id).version).toBe(replayed.version);
    expect(auditRecords(h).filter((r) => r.phase === "requested")).toHaveLength(1);
  }, 60_000);
});
