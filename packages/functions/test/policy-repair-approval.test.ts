import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPLAY_COUNT_PROPERTY } from "@victoria/core/deadletter/dead-letter-actions";
import type { VaultRecord } from "@victoria/core/deadletter/vault";
import { type ServiceBusStandIn, startServiceBusStandIn } from "@victoria/emulators/service-bus/broker";
import { type SlackMessage, type SlackStandIn, startSlackStandIn } from "@victoria/emulators/slack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "./eventually";
import { auditRecords, signedForm, toldPrivately } from "./slack-over-the-wire";
import { type SpawnedServer, spawnLocalServer } from "./spawn-local-server";

/**
 * The Repair… dialog under a command policy that wants an approval for `deadletter replay` (which a
 * repair is): `npm start` with VICTORIA_POLICY, a dead letter parked from the Service Bus stand-in
 * through /listener, the dialog opened and submitted through /resolve as Slack sends them. The
 * submission is held — nothing sent, the vault untouched — until a lead approves; then the edited
 * message is what is replayed, once, and the audit names the changed fields, never their values.
 */

const SIGNING_SECRET = "repair-approval-signing-secret";
const BOT_TOKEN = "xoxb-repair-approval";
const BOT_USER_ID = "U0VICTORIA";
const LISTENER_TOKEN = "repair-approval-listener-token";
const QUEUE = "orders";
const FAILED_REQUESTS_QUEUE = "victoria-failed-requests";
const ALERTS = "C0ALERTS";

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

let slack: SlackStandIn;
let broker: ServiceBusStandIn;
let server: SpawnedServer;
let dir: string;
let auditFile: string;
let vaultDir: string;

beforeAll(async () => {
  slack = await startSlackStandIn({
    botToken: BOT_TOKEN,
    botUserId: BOT_USER_ID,
    users: [MEMBER, LEAD, LEAD2],
  });
  broker = await startServiceBusStandIn({ queues: [QUEUE, FAILED_REQUESTS_QUEUE] });
  dir = await mkdtemp(join(tmpdir(), "policy-repair-"));
  const policyFile = join(dir, "policy.yaml");
  await writeFile(policyFile, POLICY);
  auditFile = join(dir, "audit.jsonl");
  vaultDir = join(dir, "vault");
  server = await spawnLocalServer(
    {
      HOST: "127.0.0.1",
      SLACK_API_URL: slack.url,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_BOT_USER_ID: BOT_USER_ID,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_ALERT_CHANNEL: ALERTS,
      LISTENER_TOKEN,
      SERVICE_BUS_CONNECTIONS: JSON.stringify({ local: broker.connectionString }),
      FAILED_REQUESTS_QUEUE,
      SRE_MEMBERS: MEMBER.email,
      AUDIT_LOG_FILE: auditFile,
      VAULT_DIR: vaultDir,
      VICTORIA_POLICY: policyFile,
      VICTORIA_POLICY_YAML: "",
    },
    { cwd: dir, startTimeoutMs: 30_000 },
  );
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await broker?.close();
  await slack?.close();
  await rm(dir, { recursive: true, force: true });
});

const h = () => ({ slack, auditFile });

function vaultRecord(id: string): VaultRecord {
  return JSON.parse(readFileSync(join(vaultDir, "records", `${id}.json`), "utf8")) as VaultRecord;
}

async function post(payload: Record<string, unknown>): Promise<Response> {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const res = await fetch(`${server.url}/resolve`, signedForm(SIGNING_SECRET, body));
  expect(res.status).toBe(200);
  return res;
}

function click(user: string, actionId: string, value: string, ts: string, responseUrl: string) {
  return post({
    type: "block_actions",
    user: { id: user },
    team: { id: "T0E2E" },
    channel: { id: ALERTS },
    container: { type: "message", channel_id: ALERTS, message_ts: ts },
    message: { ts },
    response_url: responseUrl,
    trigger_id: `trigger-${Math.random()}`,
    actions: [{ action_id: actionId, block_id: "any", value, type: "button" }],
  });
}

/** One message dead-lettered on the queue, announced through /listener; its notification and record id. */
async function deadLetter(): Promise<{ ts: string; id: string }> {
  broker.deadLetter(
    QUEUE,
    {
      messageId: "repair-1",
      body: { order: 1, card: "broken" },
      applicationProperties: { tenant: "acme", amount: 5 },
    },
    { reason: "Boom", description: "consumer failed" },
  );
  const alert = {
    schemaId: "AzureMonitorMetricAlert",
    data: {
      status: "Activated",
      context: {
        timestamp: new Date().toISOString(),
        resourceName: "victoria-local",
        condition: {
          allOf: [
            {
              metricName: "DeadletteredMessages",
              metricValue: 1,
              dimensions: [{ name: "EntityName", value: QUEUE }],
            },
          ],
        },
      },
    },
  };
  const res = await fetch(`${server.url}/listener?token=${LISTENER_TOKEN}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(alert),
  });
  expect(res.status).toBe(202);
  const posted = await eventually(
    () =>
      slack
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
    const clickUrl = slack.responseUrl();
    await click(MEMBER.id, "deadletter_repair", n.id, n.ts, clickUrl);
    const dialog = await eventually(() => slack.views()[0]);
    expect(dialog.view.callback_id).toBe("deadletter_repair");
    const blocks = dialog.view.blocks as { block_id?: string; element?: { initial_value?: string } }[];
    const lines = blocks.find((b) => b.block_id === "properties")?.element?.initial_value ?? "";
    expect(lines).toContain("tenant=acme");

    const mark = auditRecords(h()).length;
    const submitted = await post({
      type: "view_submission",
      user: { id: MEMBER.id },
      team: { id: "T0E2E" },
      view: {
        callback_id: "deadletter_repair",
        private_metadata: String(dialog.view.private_metadata),
        state: {
          values: {
            body: { text: { type: "plain_text_input", value: NEW_BODY } },
            properties: {
              lines: {
                type: "plain_text_input",
                value: lines.replace("tenant=acme", `tenant=${NEW_TENANT}`).replace("amount=5\n", ""),
              },
            },
          },
        },
      },
    });
    // Accepted (the dialog closes): no field errors.
    expect(await submitted.text()).toBe("");

    // The requester is told; the approvers get the request naming the changed fields only.
    expect(await toldPrivately(h(), clickUrl)).toBe(
      "`deadletter replay` needs approval from leads: request posted. You will hear in its thread when it is approved, rejected or expires.",
    );
    const isRequest = (m: SlackMessage) =>
      !m.ephemeral && m.threadTs === undefined && (m.text ?? "").includes(":raised_hand: *Approval needed*");
    const request = await eventually(() => slack.messages(ALERTS).find(isRequest));
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
    expect(broker.peekAll(QUEUE)).toEqual([]);
    expect(vaultRecord(n.id)).toEqual(parked);
    expect(
      auditRecords(h())
        .slice(mark)
        .map((r) => [r.phase, r.user.id, r.command]),
    ).toEqual([
      ["approval-requested", MEMBER.id, `deadletter replay ${n.id} --body … --set tenant=… --unset amount`],
    ]);

    // A lead approves: the edit, exactly as submitted, is what goes back on the queue.
    await click(LEAD.id, "approval_approve", approvalId, request.ts, slack.responseUrl());
    const replayed = await eventually(() => {
      const record = vaultRecord(n.id);
      return record.state === "replayed" ? record : undefined;
    }, 15_000);
    const [sent, ...more] = await eventually(() => {
      const messages = broker.peekAll(QUEUE);
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
      const after = auditRecords(h()).slice(mark);
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
    const audit = readFileSync(auditFile, "utf8");
    expect(audit).not.toContain(NEW_TENANT);
    expect(audit).not.toContain("4111");
    // Nor anything posted: the request's thread ("running …", the outcome), the redrawn notification.
    await eventually(() =>
      slack.messages(ALERTS).some((m) => m.threadTs === request.ts) ? true : undefined,
    );
    const posted = JSON.stringify([slack.messages(), slack.responses()]);
    expect(posted).not.toContain(NEW_TENANT);
    expect(posted).not.toContain("4111");

    // A second Approve: refused; nothing replayed again.
    const late = slack.responseUrl();
    await click(LEAD2.id, "approval_approve", approvalId, request.ts, late);
    expect(await toldPrivately(h(), late)).toMatch(/^Already approved by /);
    await settle();
    expect(broker.peekAll(QUEUE)).toHaveLength(1);
    expect(vaultRecord(n.id).version).toBe(replayed.version);
    expect(auditRecords(h()).filter((r) => r.phase === "requested")).toHaveLength(1);
  }, 60_000);
});
