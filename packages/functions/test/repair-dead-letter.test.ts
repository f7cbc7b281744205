import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServiceBusClient } from "@azure/service-bus";
import { createS3Vault } from "@victoria/core/adapters/aws/s3-vault";
import { createServiceBusBus } from "@victoria/core/adapters/azure/service-bus-bus";
import { createFileVault } from "@victoria/core/adapters/local/file-vault";
import { createJsonlAuditLog } from "@victoria/core/adapters/local/jsonl-audit-log";
import { createWebApiChat } from "@victoria/core/adapters/slack/web-api-chat";
import type { Bus } from "@victoria/core/deadletter/bus";
import {
  createDeadLetterActions,
  REPLAY_COUNT_PROPERTY,
} from "@victoria/core/deadletter/dead-letter-actions";
import { drainDeadLetters } from "@victoria/core/deadletter/drain-dead-letters";
import { withNotificationRedraw } from "@victoria/core/deadletter/notification-redraw";
import { createResolveHandler, RESOLVE_JOB, resolveJobSchema } from "@victoria/core/deadletter/resolve-job";
import type { Vault, VaultRecord } from "@victoria/core/deadletter/vault";
import { createInProcessDispatcher } from "@victoria/core/dispatch/in-process-dispatcher";
import { createMemoryLogger } from "@victoria/core/logging/json-logger";
import { createPolicyGate } from "@victoria/core/policy/policy-gate";
import type { AuditRecord } from "@victoria/core/security/audit-log";
import { signSlackRequest } from "@victoria/core/security/slack-signature";
import { createStaticDirectory } from "@victoria/core/security/static-directory";
import { createVictoria } from "@victoria/core/victoria/engine";
import { BufferedOutput } from "@victoria/core/victoria/output";
import { corePlugins } from "@victoria/core/victoria/plugins/core-plugins";
import { type S3TestClient, startS3TestClient } from "@victoria/emulators/s3-test-client";
import { type ServiceBusStandIn, startServiceBusStandIn } from "@victoria/emulators/service-bus/broker";
import { type SlackStandIn, startSlackStandIn } from "@victoria/emulators/slack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { resolveRoute } from "../src/routes/resolve";

/**
 * Issue 17, item 3 over the wire: a message dead-lettered on the Service Bus stand-in, parked in a
 * vault (files, or the S3 stand-in) and announced in the Slack stand-in, then repaired — through the
 * Repair… dialog (signed interactions to /resolve, views.open on the stand-in) and through
 * `victoria deadletter replay --body/--set/--unset`. The consumer receives the edited message with
 * the real SDK; the vault keeps the original beside the edit.
 */

const SIGNING_SECRET = "repair-signing-secret";
const TOKEN = "xoxb-repair";
const CHANNEL = "C0ALERTS";
const MEMBER = { id: "U0MEMBER", email: "sre@example.com" };
const BUCKET = "victoria-vault";

let broker: ServiceBusStandIn;
let slack: SlackStandIn;
let s3: S3TestClient;
let bus: Bus;
let consumer: ServiceBusClient;

beforeAll(async () => {
  broker = await startServiceBusStandIn({ queues: ["orders"] });
  slack = await startSlackStandIn({ botToken: TOKEN, users: [MEMBER], channels: [CHANNEL] });
  s3 = await startS3TestClient({ buckets: [BUCKET] });
  bus = createServiceBusBus((c) => new ServiceBusClient(c), { maxAutoLockRenewalDurationInMs: 0 });
  consumer = new ServiceBusClient(broker.connectionString);
});

afterAll(async () => {
  await consumer.close();
  await bus.close();
  await broker.close();
  await slack.close();
  await s3.close();
});

const chat = () => createWebApiChat({ token: TOKEN, slackApiUrl: slack.url, retryConfig: { retries: 0 } });

/** What the consumer of `orders` receives now: body and application properties, as the SDK gives them. */
async function consume(): Promise<{ body: unknown; applicationProperties?: Record<string, unknown> }[]> {
  const receiver = consumer.createReceiver("orders", { receiveMode: "receiveAndDelete" });
  try {
    const received = await receiver.receiveMessages(20, { maxWaitTimeInMs: 500 });
    return received.map((m) => ({ body: m.body, applicationProperties: m.applicationProperties }));
  } finally {
    await receiver.close();
  }
}

/** One message dead-lettered on the stand-in, drained: parked in `vault` and announced in Slack. */
async function park(
  vault: Vault,
  body: unknown,
  applicationProperties: Record<string, string | number | boolean>,
): Promise<VaultRecord> {
  const messageId = `m-${Math.random()}`;
  await broker.deadLetter(
    "orders",
    { messageId, body, subject: "order.created", applicationProperties },
    { reason: "Boom", description: "consumer failed" },
  );
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
  const found = (await vault.list()).find((r) => r.message.messageId === messageId);
  if (!found) throw new Error("the dead letter was not parked");
  return found;
}

function actionsFor(vault: Vault) {
  return createDeadLetterActions({
    vault,
    bus,
    connections: { prod1: broker.connectionString },
    maxReplays: 3,
  });
}

/** /resolve as the resolve function serves it, its jobs run in process as the worker runs them. */
async function resolveApp(vault: Vault) {
  const logger = createMemoryLogger();
  const auditFile = join(await mkdtemp(join(tmpdir(), "repair-audit-")), "audit.jsonl");
  const handler = createResolveHandler({
    chat: chat(),
    gate: createPolicyGate({ chat: chat(), directory: createStaticDirectory([MEMBER.email]) }),
    audit: createJsonlAuditLog(auditFile),
    actions: actionsFor(vault),
    vault,
    logger,
  });
  const dispatcher = createInProcessDispatcher(
    { [RESOLVE_JOB]: (payload) => handler(resolveJobSchema.parse(payload)) },
    { logger },
  );
  const router = resolveRoute({ signingSecret: SIGNING_SECRET, dispatcher, chat: chat(), vault, logger });
  const app = createApp({ logger, routes: [{ path: "/resolve", method: "POST", router }] });
  const audit = async () =>
    (await readFile(auditFile, "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as AuditRecord);
  return { app, dispatcher, audit };
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

function click(actionId: string, record: VaultRecord) {
  return signed({
    type: "block_actions",
    user: { id: MEMBER.id },
    team: { id: "T0" },
    channel: { id: CHANNEL },
    container: { type: "message", channel_id: CHANNEL, message_ts: record.notification?.ts },
    message: { ts: record.notification?.ts },
    response_url: slack.responseUrl(),
    trigger_id: `trigger-${Math.random()}`,
    actions: [{ action_id: actionId, block_id: "b", value: record.id, type: "button" }],
  });
}

type ModalInput = { type: string; block_id?: string; element?: { initial_value?: string } };

function submit(privateMetadata: unknown, body: string, properties: string) {
  return signed({
    type: "view_submission",
    user: { id: MEMBER.id },
    team: { id: "T0" },
    view: {
      callback_id: "deadletter_repair",
      private_metadata: privateMetadata,
      state: {
        values: {
          body: { text: { type: "plain_text_input", value: body } },
          properties: { lines: { type: "plain_text_input", value: properties } },
        },
      },
    },
  });
}

const ephemeralTexts = () =>
  slack
    .responses()
    .filter((r) => r.body.response_type === "ephemeral")
    .map((r) => String(r.body.text));

async function run(vault: Vault, ...argv: string[]) {
  const victoria = createVictoria({
    plugins: corePlugins,
    providers: { encryption: {}, storage: {} },
    env: { VICTORIA_ACTOR: "alice" },
    deadLetters: async () => withNotificationRedraw(actionsFor(vault), { vault, chat: chat() }),
  });
  const out = new BufferedOutput();
  const exitCode = await victoria.run(["deadletter", ...argv], { out });
  return { exitCode, output: out.text() };
}

const VAULTS: [string, () => Promise<Vault>][] = [
  ["file vault", async () => createFileVault(await mkdtemp(join(tmpdir(), "repair-vault-")))],
  [
    "S3 vault (stand-in)",
    async () => createS3Vault({ client: s3.client, bucket: BUCKET, prefix: `repair-${Math.random()}/` }),
  ],
];

describe.each(VAULTS)("repair and resubmit, %s", (_, makeVault) => {
  it("Repair… opens the dialog pre-filled, refuses bad JSON on the field, replays the edit once", async () => {
    const vault = await makeVault();
    await consume();
    slack.reset();
    const parked = await park(vault, { order: 1, note: "broken" }, { tenant: "acme", amount: 5 });
    const { app, dispatcher, audit } = await resolveApp(vault);

    expect((await app.request("/resolve", click("deadletter_repair", parked))).status).toBe(200);
    const [opened] = slack.views();
    expect(opened?.view.callback_id).toBe("deadletter_repair");
    const inputs = opened?.view.blocks as ModalInput[];
    const initial = (id: string) => inputs.find((b) => b.block_id === id)?.element?.initial_value;
    expect(initial("body")).toBe('{\n  "order": 1,\n  "note": "broken"\n}');
    // Service Bus adds the dead-letter reason and description as properties: listed like the rest.
    const lines = initial("properties") as string;
    expect(lines).toBe(
      "tenant=acme\namount=5\nDeadLetterReason=Boom\nDeadLetterErrorDescription=consumer failed",
    );
    const metadata = opened?.view.private_metadata;

    const bad = await app.request("/resolve", submit(metadata, '{"order": 2,', lines));
    expect(await bad.json()).toEqual({
      response_action: "errors",
      errors: {
        body: "The body is not valid JSON at line 1, column 13: expected a property name in double quotes, found the end of the text.",
      },
    });
    const counter = await app.request(
      "/resolve",
      submit(metadata, '{"order": 2}', `${lines}\n${REPLAY_COUNT_PROPERTY}=0`),
    );
    expect(((await counter.json()) as { errors: { properties: string } }).errors.properties).toContain(
      `${REPLAY_COUNT_PROPERTY}: Victoria counts replays with it`,
    );
    expect(await consume()).toEqual([]);

    const good = await app.request(
      "/resolve",
      submit(metadata, '{"order": 2}', lines.replace("acme", "globex").replace("amount=5", "amount=6")),
    );
    expect(good.status).toBe(200);
    await dispatcher.idle();
    const [received, ...more] = await consume();
    expect(more).toEqual([]);
    expect(received).toEqual({
      body: { order: 2 },
      applicationProperties: {
        tenant: "globex",
        amount: 6,
        DeadLetterReason: "Boom",
        DeadLetterErrorDescription: "consumer failed",
        [REPLAY_COUNT_PROPERTY]: 1,
      },
    });

    const stored = (await vault.get(parked.id)) as VaultRecord;
    expect(stored.state).toBe("replayed");
    expect(stored.message).toEqual(parked.message);
    expect(stored.repair).toMatchObject({
      by: MEMBER.id,
      changes: ["body", "set tenant", "set amount"],
      bodyDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      message: {
        body: { kind: "json", value: { order: 2 } },
        applicationProperties: { tenant: "globex", amount: 6 },
      },
    });
    const update = slack.calls.filter((c) => c.method === "chat.update").at(-1);
    const redrawn = JSON.stringify(update?.body.blocks);
    expect(redrawn).toContain(`Replayed with edits by <@${MEMBER.id}>`);
    expect(redrawn).toContain("changed body, set tenant, set amount");
    expect(redrawn).not.toContain("globex");
    const finished = (await audit()).find((r) => r.phase === "finished");
    expect(finished).toMatchObject({
      command: `deadletter replay ${parked.id}`,
      user: { id: MEMBER.id, email: MEMBER.email },
      edits: { changes: ["body", "set tenant", "set amount"], bodyDigest: stored.repair?.bodyDigest },
    });
    expect(JSON.stringify(await audit())).not.toContain('"order":2');

    // The same dialog again, and the Replay button: already replayed, nothing more sent.
    await app.request("/resolve", submit(metadata, '{"order": 3}', "tenant=initech"));
    await app.request("/resolve", click("deadletter_replay", parked));
    await dispatcher.idle();
    expect(await consume()).toEqual([]);
    const told = ephemeralTexts();
    expect(told).toHaveLength(2);
    for (const text of told) expect(text).toContain(`already replayed by <@${MEMBER.id}>`);
    expect((await vault.get(parked.id))?.repair?.changes).toEqual(["body", "set tenant", "set amount"]);
  }, 60_000);

  it("`deadletter replay ID --body --set --unset` sends the edit and keeps the original", async () => {
    const vault = await makeVault();
    await consume();
    slack.reset();
    const parked = await park(vault, "hello wrold", {
      tenant: "acme",
      region: "eu",
      [REPLAY_COUNT_PROPERTY]: 1,
    });

    const counter = await run(vault, "replay", parked.id, "--unset", REPLAY_COUNT_PROPERTY);
    expect(counter.exitCode).not.toBe(0);
    expect(counter.output).toContain(`unset ${REPLAY_COUNT_PROPERTY}: Victoria counts replays with it`);
    const bulk = await run(vault, "replay", "--state", "parked", "--set", "tenant=x");
    expect(bulk).toMatchObject({ exitCode: 2, output: expect.stringContaining("give its id") });
    expect((await vault.get(parked.id))?.state).toBe("parked");

    const repaired = await run(
      vault,
      "replay",
      parked.id,
      "--body",
      "hello world",
      "--set",
      "tenant=globex",
      "--unset",
      "region",
    );
    expect(repaired.output).toContain("sent back to orders with edits: body, set tenant, unset region");
    expect(repaired.exitCode).toBe(0);
    const [received, ...more] = await consume();
    expect(more).toEqual([]);
    expect(received?.body).toBe("hello world");
    expect(received?.applicationProperties).toMatchObject({ tenant: "globex", [REPLAY_COUNT_PROPERTY]: 2 });
    expect(received?.applicationProperties).not.toHaveProperty("region");
    const stored = (await vault.get(parked.id)) as VaultRecord;
    expect(stored.message.body).toEqual({ kind: "text", text: "hello wrold" });
    expect(stored.message.applicationProperties).toEqual(parked.message.applicationProperties);
    expect(stored.repair).toMatchObject({ by: "cli:alice", changes: ["body", "set tenant", "unset region"] });

    const shown = await run(vault, "show", parked.id);
    expect(shown.output).toContain("content: hello wrold");
    expect(shown.output).toMatch(/repair:\n {2}by: cli:alice/);
    expect(shown.output).toContain("content: hello world");

    const again = await run(vault, "replay", parked.id, "--set", "tenant=initech");
    expect(again.exitCode).not.toBe(0);
    expect(again.output).toContain("already replayed by cli:alice via command");
    expect(await consume()).toEqual([]);
  }, 60_000);
});
