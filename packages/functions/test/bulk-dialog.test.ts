import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServiceBusClient } from "@azure/service-bus";
import { createServiceBusBus } from "@victoria/core/adapters/azure/service-bus-bus";
import { createFileBulkJobStore } from "@victoria/core/adapters/local/file-bulk-job-store";
import { createFileVault } from "@victoria/core/adapters/local/file-vault";
import { createJsonlAuditLog } from "@victoria/core/adapters/local/jsonl-audit-log";
import { createWebApiChat } from "@victoria/core/adapters/slack/web-api-chat";
import { BULK_DIALOG_JOB, createBulkDialogHandler } from "@victoria/core/deadletter/bulk-dialog-jobs";
import { BULK_JOB, createBulkJobHandler } from "@victoria/core/deadletter/bulk-job-jobs";
import { createSlackBulkProgress } from "@victoria/core/deadletter/bulk-job-progress";
import { createBulkJobs } from "@victoria/core/deadletter/bulk-jobs";
import type { Bus } from "@victoria/core/deadletter/bus";
import { createDeadLetterActions } from "@victoria/core/deadletter/dead-letter-actions";
import { drainDeadLetters } from "@victoria/core/deadletter/drain-dead-letters";
import type { Vault } from "@victoria/core/deadletter/vault";
import { createInProcessDispatcher } from "@victoria/core/dispatch/in-process-dispatcher";
import { createMemoryLogger } from "@victoria/core/logging/json-logger";
import { parsePolicy } from "@victoria/core/policy/policy-file";
import { createPolicyGate } from "@victoria/core/policy/policy-gate";
import type { Dispatcher } from "@victoria/core/ports";
import type { AuditRecord } from "@victoria/core/security/audit-log";
import { signSlackRequest } from "@victoria/core/security/slack-signature";
import { createStaticDirectory } from "@victoria/core/security/static-directory";
import { type ServiceBusStandIn, startServiceBusStandIn } from "@victoria/emulators/service-bus/broker";
import { type SlackStandIn, startSlackStandIn } from "@victoria/emulators/slack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { resolveRoute } from "../src/routes/resolve";

/**
 * Issue 17, item 2 from Slack, over the wire: dead letters of several reasons parked from the
 * Service Bus stand-in into a vault and announced in the Slack stand-in; the notification's Bulk…
 * button opens the filter dialog (views.open), a submission is checked on its fields, counted by
 * the worker into a preview (views.update), and confirmed into one bulk job — gated as
 * `deadletter replay` — whose replays the consumer receives with the real SDK.
 */

const SIGNING_SECRET = "bulk-dialog-signing-secret";
const TOKEN = "xoxb-bulk-dialog";
const CHANNEL = "C0ALERTS";
const MEMBER = { id: "U0MEMBER", email: "sre@example.com" };
const GUEST = { id: "U0GUEST", email: "guest@example.com" };
/** What the gate tells anyone else (the policy's allow list names sre alone). */
const REPLAY_DENIED = "Only sre may run";
const POLICY = parsePolicy(
  [
    "subjects:",
    "  sre: { emails: [sre@example.com] }",
    "rules:",
    "  - commands: [deadletter replay, deadletter delete]",
    "    allow: [sre]",
    "  - commands: ['*']",
    "    deny: Not in this policy",
    "",
  ].join("\n"),
  "policy.yaml",
);

let broker: ServiceBusStandIn;
let slack: SlackStandIn;
let bus: Bus;
let consumer: ServiceBusClient;

beforeAll(async () => {
  broker = await startServiceBusStandIn({ queues: ["orders"] });
  slack = await startSlackStandIn({ botToken: TOKEN, users: [MEMBER, GUEST], channels: [CHANNEL] });
  bus = createServiceBusBus((c) => new ServiceBusClient(c), { maxAutoLockRenewalDurationInMs: 0 });
  consumer = new ServiceBusClient(broker.connectionString);
});

afterAll(async () => {
  await consumer.close();
  await bus.close();
  await broker.close();
  await slack.close();
});

const chat = () => createWebApiChat({ token: TOKEN, slackApiUrl: slack.url, retryConfig: { retries: 0 } });

async function consume(): Promise<{ body: unknown; applicationProperties?: Record<string, unknown> }[]> {
  const receiver = consumer.createReceiver("orders", { receiveMode: "receiveAndDelete" });
  try {
    const received = await receiver.receiveMessages(20, { maxWaitTimeInMs: 500 });
    return received.map((m) => ({ body: m.body, applicationProperties: m.applicationProperties }));
  } finally {
    await receiver.close();
  }
}

const MARKUP_REASON = "Timeout <!channel> & *bold*";

/** Four dead letters, three reasons, drained into the vault under one notification. */
async function parkSeveral(vault: Vault): Promise<void> {
  const letters = [
    { tenant: "acme", reason: MARKUP_REASON, order: 1 },
    { tenant: "acme", reason: MARKUP_REASON, order: 2 },
    { tenant: "globex", reason: MARKUP_REASON, order: 3 },
    { tenant: "acme", reason: "SchemaMismatch", order: 4 },
  ];
  for (const { tenant, reason, order } of letters) {
    await broker.deadLetter(
      "orders",
      { messageId: `m-${order}-${Math.random()}`, body: { order }, applicationProperties: { tenant } },
      { reason, description: "consumer failed" },
    );
  }
  await drainDeadLetters(
    { bus, vault, chat: chat(), alertChannel: CHANNEL, logger: createMemoryLogger() },
    {
      cluster: "prod1",
      namespace: "gw-sb-prod1",
      entity: { kind: "queue", queue: "orders" },
      connection: broker.connectionString,
    },
    { budgetMs: 10_000, waitMs: 300 },
  );
  expect((await vault.list({ state: "parked" })).length).toBe(4);
}

/** /resolve as the resolve function serves it; its jobs (the dialog's, the bulk job) run in process. */
async function harness() {
  const dir = await mkdtemp(join(tmpdir(), "bulk-dialog-"));
  const vault = createFileVault(join(dir, "vault"));
  const store = createFileBulkJobStore(join(dir, "vault"));
  const auditFile = join(dir, "audit.jsonl");
  const audit = createJsonlAuditLog(auditFile);
  const logger = createMemoryLogger();
  const actions = createDeadLetterActions({
    vault,
    bus,
    connections: { prod1: broker.connectionString },
    maxReplays: 3,
  });
  const runner = {
    store,
    actions,
    vault,
    bus,
    connections: { prod1: broker.connectionString },
    logger,
    audit,
    progress: createSlackBulkProgress({ chat: chat(), channel: CHANNEL }),
  };
  let dispatcher: Dispatcher & { idle(): Promise<void> };
  const jobs = createBulkJobs({
    ...runner,
    kick: (id) => dispatcher.dispatch({ kind: BULK_JOB, payload: { id } }),
  });
  const gate = createPolicyGate({
    chat: chat(),
    directory: createStaticDirectory([MEMBER.email]),
    policy: async () => POLICY,
  });
  const dialog = createBulkDialogHandler({ jobs, gate, chat: chat(), audit, logger });
  const run = createBulkJobHandler({ runner, budgetMs: () => 60_000, logger });
  dispatcher = createInProcessDispatcher(
    {
      [BULK_DIALOG_JOB]: dialog,
      [BULK_JOB]: async (payload) => {
        await run(payload);
      },
    },
    { logger },
  );
  const router = resolveRoute({ signingSecret: SIGNING_SECRET, dispatcher, chat: chat(), vault, logger });
  const app = createApp({ logger, routes: [{ path: "/resolve", method: "POST", router }] });
  const auditRecords = async () =>
    (await readFile(auditFile, "utf8").catch(() => ""))
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as AuditRecord);
  return { app, dispatcher, vault, store, auditRecords };
}

function signed(payload: Record<string, unknown>) {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  return {
    method: "POST",
    body,
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...signSlackRequest(SIGNING_SECRET, body),
    },
  };
}

type Block = {
  type: string;
  block_id?: string;
  text?: { text: string };
  elements?: { text: string }[];
  fields?: unknown[];
  accessory?: { action_id: string; value: string };
  element?: { initial_value?: string; type?: string };
};

/** The Bulk… button of the notification in the alert channel, clicked. */
function clickBulk(user: { id: string }) {
  const notification = slack.messages(CHANNEL).find((m) => !m.ephemeral && m.blocks !== undefined);
  const summary = (notification?.blocks as Block[] | undefined)?.find((b) => b.accessory);
  expect(summary?.accessory?.action_id).toBe("deadletter_bulk_dialog");
  return signed({
    type: "block_actions",
    user: { id: user.id },
    team: { id: "T0" },
    channel: { id: CHANNEL },
    container: { type: "message", channel_id: CHANNEL, message_ts: notification?.ts },
    message: { ts: notification?.ts },
    response_url: slack.responseUrl(),
    trigger_id: `trigger-${Math.random()}`,
    actions: [{ action_id: "deadletter_bulk_dialog", block_id: "b", value: summary?.accessory?.value }],
  });
}

interface Form {
  action?: "replay" | "delete";
  cluster?: string;
  entity?: string;
  reason?: string;
  since?: string;
  where?: string;
  grep?: string;
  rate?: string;
  canary?: string;
}

/** The filter form submitted as Slack submits it: text inputs' `value`, the radio's `selected_option`. */
function submitFilter(user: { id: string }, viewId: string, privateMetadata: string, form: Form) {
  const text = (value: string | undefined) => ({ text: { type: "plain_text_input", value: value ?? null } });
  return signed({
    type: "view_submission",
    user: { id: user.id },
    team: { id: "T0" },
    view: {
      id: viewId,
      callback_id: "deadletter_bulk_filter",
      private_metadata: privateMetadata,
      state: {
        values: {
          action: {
            choice: { type: "radio_buttons", selected_option: { value: form.action ?? "replay" } },
          },
          cluster: text(form.cluster),
          entity: text(form.entity),
          reason: text(form.reason),
          since: text(form.since),
          where: text(form.where),
          grep: text(form.grep),
          rate: text(form.rate),
          canary: text(form.canary),
        },
      },
    },
  });
}

function submitConfirm(user: { id: string }, viewId: string, privateMetadata: string) {
  return signed({
    type: "view_submission",
    user: { id: user.id },
    team: { id: "T0" },
    view: {
      id: viewId,
      callback_id: "deadletter_bulk_confirm",
      private_metadata: privateMetadata,
      state: { values: {} },
    },
  });
}

const currentView = (id: string) => slack.views().find((v) => v.id === id)?.view as Record<string, unknown>;
const blocksOf = (view: Record<string, unknown>) => view.blocks as Block[];
const viewText = (view: Record<string, unknown>) =>
  blocksOf(view)
    .flatMap((b) => [b.text?.text ?? "", ...(b.elements ?? []).map((e) => e.text)])
    .join("\n");

describe("the Bulk… dialog, filter → preview → confirm", () => {
  it("opens pre-filled, refuses a bad since on its field, previews, and replays only the matches", async () => {
    slack.reset();
    await consume();
    const h = await harness();
    await parkSeveral(h.vault);

    expect((await h.app.request("/resolve", clickBulk(MEMBER))).status).toBe(200);
    const [opened] = slack.views();
    if (!opened) throw new Error("no dialog opened");
    expect(opened.view.callback_id).toBe("deadletter_bulk_filter");
    const initial = (id: string) =>
      blocksOf(opened.view).find((b) => b.block_id === id)?.element?.initial_value;
    expect(initial("cluster")).toBe("prod1");
    expect(initial("entity")).toBe("orders");
    const metadata = String(opened.view.private_metadata);

    const bad = await h.app.request(
      "/resolve",
      submitFilter(MEMBER, opened.id, metadata, { cluster: "prod1", entity: "orders", since: "yesterday" }),
    );
    const badBody = (await bad.json()) as { response_action: string; errors: Record<string, string> };
    expect(badBody.response_action).toBe("errors");
    expect(Object.keys(badBody.errors)).toEqual(["since"]);
    expect(badBody.errors.since).toContain("'yesterday' is neither a duration");

    const good = await h.app.request(
      "/resolve",
      submitFilter(MEMBER, opened.id, metadata, {
        cluster: "prod1",
        entity: "orders",
        reason: "timeout",
        since: "1d",
        where: "tenant=acme",
      }),
    );
    const counting = (await good.json()) as { response_action: string; view: Record<string, unknown> };
    expect(counting.response_action).toBe("update");
    expect(viewText(counting.view)).toContain("Counting");
    // What Slack does with the answer; the worker then replaces it by id.
    slack.replaceView(opened.id, counting.view);
    await h.dispatcher.idle();

    const preview = currentView(opened.id);
    expect(preview.submit).toEqual({ type: "plain_text", text: "Replay 2" });
    const text = viewText(preview);
    expect(text).toContain("Replay 2 parked dead letters");
    // Outside text escaped: the reason's markup never reaches Slack as markup.
    expect(text).toContain("Timeout &lt;!channel&gt; &amp; *bold*");
    expect(text).not.toContain("<!channel>");
    const samples = blocksOf(preview).filter((b) => b.type === "section" && b.text?.text.includes("orders"));
    expect(samples).toHaveLength(2);
    expect(await h.store.recent(10)).toEqual([]);
    expect(await consume()).toEqual([]);

    const confirmed = await h.app.request(
      "/resolve",
      submitConfirm(MEMBER, opened.id, String(preview.private_metadata)),
    );
    expect(await confirmed.json()).toEqual({ response_action: "clear" });
    await h.dispatcher.idle();

    const jobs = await h.store.recent(10);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ action: "replay", state: "done", requestedBy: MEMBER.id });
    expect(jobs[0]?.counts).toEqual({ done: 2, skipped: 0, failed: 0 });
    const received = await consume();
    expect(received.map((m) => m.applicationProperties?.tenant)).toEqual(["acme", "acme"]);
    expect(received.map((m) => (m.body as { order: number }).order).sort()).toEqual([1, 2]);
    const parked = await h.vault.list({ state: "parked" });
    expect(parked.map((r) => r.message.deadLetterReason).sort()).toEqual(["SchemaMismatch", MARKUP_REASON]);
    // The progress message (one, with the job's id), and the clicker told privately.
    const progress = slack
      .messages(CHANNEL)
      .filter((m) => !m.ephemeral && (m.text ?? "").includes("Bulk replay"));
    expect(progress).toHaveLength(1);
    expect(progress[0]?.text).toContain(jobs[0]?.id);
    const told = slack.messages(CHANNEL).filter((m) => m.ephemeral && m.user === MEMBER.id);
    expect(told.map((m) => m.text).join("\n")).toContain(`Started bulk job`);
  });

  it("shows a count of 0 with no submit", async () => {
    slack.reset();
    await consume();
    const h = await harness();
    await parkSeveral(h.vault);
    await h.app.request("/resolve", clickBulk(MEMBER));
    const [opened] = slack.views();
    if (!opened) throw new Error("no dialog opened");
    const answer = await h.app.request(
      "/resolve",
      submitFilter(MEMBER, opened.id, String(opened.view.private_metadata), {
        entity: "orders",
        grep: "no such body",
      }),
    );
    slack.replaceView(opened.id, ((await answer.json()) as { view: Record<string, unknown> }).view);
    await h.dispatcher.idle();
    const preview = currentView(opened.id);
    expect(preview.submit).toBeUndefined();
    expect(viewText(preview)).toContain("No parked dead letters match");
  });

  it("refuses at confirm, privately and audited, a user the policy does not let replay", async () => {
    slack.reset();
    await consume();
    const h = await harness();
    await parkSeveral(h.vault);
    await h.app.request("/resolve", clickBulk(GUEST));
    const [opened] = slack.views();
    if (!opened) throw new Error("no dialog opened");
    const answer = await h.app.request(
      "/resolve",
      submitFilter(GUEST, opened.id, String(opened.view.private_metadata), { entity: "orders" }),
    );
    const counting = ((await answer.json()) as { view: Record<string, unknown> }).view;
    slack.replaceView(opened.id, counting);
    await h.dispatcher.idle();
    // The preview already says no, and offers no submit.
    const refused = currentView(opened.id);
    expect(refused.submit).toBeUndefined();
    expect(viewText(refused)).toContain(REPLAY_DENIED);

    // A confirm sent anyway (a stale dialog, a forged request) is refused by the worker's gate.
    const confirmed = await h.app.request(
      "/resolve",
      submitConfirm(GUEST, opened.id, String(counting.private_metadata)),
    );
    expect(await confirmed.json()).toEqual({ response_action: "clear" });
    await h.dispatcher.idle();
    expect(await h.store.recent(10)).toEqual([]);
    expect(await consume()).toEqual([]);
    const told = slack.messages(CHANNEL).filter((m) => m.ephemeral && m.user === GUEST.id);
    expect(told.map((m) => m.text).join("\n")).toContain(REPLAY_DENIED);
    const refusals = (await h.auditRecords()).filter((r) => r.phase === "refused");
    expect(refusals).toHaveLength(2);
    expect(refusals[1]).toMatchObject({
      user: { id: GUEST.id, email: GUEST.email },
      command: "deadletter replay --entity orders",
    });
  });
});
