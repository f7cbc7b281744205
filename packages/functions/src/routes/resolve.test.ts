import { mkdtemp, readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServiceBusClient } from "@azure/service-bus";
import { createServiceBusBus } from "@victoria/core/adapters/azure/service-bus-bus";
import { createFileVault } from "@victoria/core/adapters/local/file-vault";
import { createJsonlAuditLog } from "@victoria/core/adapters/local/jsonl-audit-log";
import { createWebApiChat } from "@victoria/core/adapters/slack/web-api-chat";
import { createSmtpMailer } from "@victoria/core/adapters/smtp/smtp-mailer";
import type { Bus } from "@victoria/core/deadletter/bus";
import {
  createDeadLetterActions,
  REPLAY_COUNT_PROPERTY,
} from "@victoria/core/deadletter/dead-letter-actions";
import { createCommandDeadLetterActionsFromEnv } from "@victoria/core/deadletter/dead-letter-actions-from-env";
import type { DeadLetterActions } from "@victoria/core/deadletter/dead-letter-actions-types";
import { drainDeadLetters } from "@victoria/core/deadletter/drain-dead-letters";
import { createResolveHandler, RESOLVE_JOB, resolveJobSchema } from "@victoria/core/deadletter/resolve-job";
import type { Vault, VaultRecord } from "@victoria/core/deadletter/vault";
import { sampleRecord } from "@victoria/core/deadletter/vault-contract";
import { createInProcessDispatcher } from "@victoria/core/dispatch/in-process-dispatcher";
import { failedRequestEnvelope } from "@victoria/core/failed-requests/failed-request-envelope";
import { createMemoryLogger } from "@victoria/core/logging/json-logger";
import { createPolicyGate } from "@victoria/core/policy/policy-gate";
import type { AuditRecord } from "@victoria/core/security/audit-log";
import { signServiceRequest } from "@victoria/core/security/service-signature";
import { signSlackRequest } from "@victoria/core/security/slack-signature";
import { createStaticDirectory } from "@victoria/core/security/static-directory";
import { type ServiceBusStandIn, startServiceBusStandIn } from "@victoria/emulators/service-bus/broker";
import { type SlackStandIn, startSlackStandIn } from "@victoria/emulators/slack";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../app";
import { createCommandRunner } from "../execute-runner";
import { executeRoute } from "./execute";
import { resolveRoute } from "./resolve";

const SIGNING_SECRET = "resolve-signing-secret";
const TOKEN = "xoxb-resolve";
const CHANNEL = "C0ALERTS";
const MEMBER = { id: "U0MEMBER", email: "sre@example.com" };
const SECOND = { id: "U0SECOND", email: "sre2@example.com" };
const GUEST = { id: "U0GUEST", email: "guest@example.com" };

let broker: ServiceBusStandIn;
let slack: SlackStandIn;
let bus: Bus;
let smtp: SMTPServer;
let smtpPort: number;
const mails: string[] = [];
let refuseMail = false;
const executed: string[][] = [];

beforeAll(async () => {
  broker = await startServiceBusStandIn({ queues: ["orders"] });
  slack = await startSlackStandIn({ botToken: TOKEN, users: [MEMBER, SECOND, GUEST], channels: [CHANNEL] });
  bus = createServiceBusBus((c) => new ServiceBusClient(c), { maxAutoLockRenewalDurationInMs: 0 });
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    onRcptTo(_address, _session, callback) {
      if (refuseMail) return callback(new Error("mailbox unavailable"));
      callback();
    },
    onData(stream, _session, callback) {
      let raw = "";
      stream.on("data", (chunk: Buffer) => {
        raw += chunk.toString();
      });
      stream.on("end", () => {
        mails.push(raw);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", () => resolve()));
  smtpPort = (smtp.server.address() as AddressInfo).port;
});

afterAll(async () => {
  await bus.close();
  await broker.close();
  await slack.close();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

let vault: Vault;
let auditFile: string;
let notificationTs: string;
let recordIds: string[];

function setup({ connections = { prod1: broker.connectionString } as Record<string, string> } = {}) {
  const logger = createMemoryLogger();
  const chat = createWebApiChat({ token: TOKEN, slackApiUrl: slack.url, retryConfig: { retries: 0 } });
  const actions = createDeadLetterActions({
    vault,
    bus,
    connections,
    mailer: createSmtpMailer({
      host: "127.0.0.1",
      port: smtpPort,
      from: "victoria@example.com",
      timeoutMs: 3_000,
    }),
    execute: async (args) => {
      executed.push([...args]);
      return { exitCode: 0, output: `ran ${args.join(" ")}\n` };
    },
    maxReplays: 2,
  });
  const handler = createResolveHandler({
    chat,
    gate: createPolicyGate({ chat, directory: createStaticDirectory([MEMBER.email, SECOND.email]) }),
    audit: createJsonlAuditLog(auditFile),
    actions,
    vault,
    logger,
  });
  const dispatcher = createInProcessDispatcher(
    { [RESOLVE_JOB]: (payload) => handler(resolveJobSchema.parse(payload)) },
    { logger },
  );
  const router = resolveRoute({ signingSecret: SIGNING_SECRET, dispatcher, chat, logger });
  const app = createApp({ logger, routes: [{ path: "/resolve", method: "POST", router }] });
  return { app, dispatcher };
}

/** Dead-letters `count` messages and drains them, so the vault and the notification are real. */
async function park(count: number, body: (i: number) => unknown = (i) => ({ order: i })) {
  for (let i = 0; i < count; i++) {
    await broker.deadLetter(
      "orders",
      {
        messageId: `m-${i}-${Math.random()}`,
        body: body(i),
        subject: "order.created",
        correlationId: `c-${i}`,
        applicationProperties: { tenant: "acme" },
      },
      { reason: "Boom", description: `#${i}` },
    );
  }
  const report = await drainDeadLetters(
    {
      bus,
      vault,
      chat: createWebApiChat({ token: TOKEN, slackApiUrl: slack.url, retryConfig: { retries: 0 } }),
      alertChannel: CHANNEL,
      logger: createMemoryLogger(),
    },
    {
      cluster: "prod1",
      namespace: "gw-sb-prod1",
      entity: { kind: "queue", queue: "orders" },
      connection: broker.connectionString,
    },
    { budgetMs: 10_000, waitMs: 300 },
  );
  notificationTs = report.notification?.ts as string;
  recordIds = (await vault.list()).map((r) => r.id);
}

function interaction(payload: Record<string, unknown>) {
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

function click(actionId: string, value: string, user = MEMBER.id) {
  return interaction({
    type: "block_actions",
    user: { id: user },
    team: { id: "T0" },
    channel: { id: CHANNEL },
    container: { type: "message", channel_id: CHANNEL, message_ts: notificationTs },
    message: { ts: notificationTs },
    response_url: slack.responseUrl(),
    trigger_id: `trigger-${Math.random()}`,
    actions: [{ action_id: actionId, block_id: "b", value, type: "button" }],
  });
}

async function drainOrders(): Promise<unknown[]> {
  const receiver = await bus.receiver(
    broker.connectionString,
    { kind: "queue", queue: "orders" },
    { deadLetter: false },
  );
  const received = await receiver.receive(100, 300);
  for (const m of received) await m.complete();
  await receiver.close();
  return received.map((m) => m.message);
}

const ephemeralTexts = () =>
  slack
    .responses()
    .filter((r) => r.body.response_type === "ephemeral")
    .map((r) => String(r.body.text));

beforeEach(async () => {
  slack.reset();
  mails.length = 0;
  refuseMail = false;
  executed.length = 0;
  vault = createFileVault(await mkdtemp(join(tmpdir(), "resolve-vault-")));
  auditFile = join(await mkdtemp(join(tmpdir(), "resolve-audit-")), "audit.jsonl");
  await drainOrders();
});

describe("POST /resolve: payloads", () => {
  it.each([
    ["no payload field", "text=hi", 400, /form field 'payload'/],
    ["a payload that is not JSON", "payload=%7B", 400, /not JSON/],
    [
      "a block_actions payload without actions",
      `payload=${encodeURIComponent(JSON.stringify({ type: "block_actions", user: { id: "U" }, trigger_id: "t" }))}`,
      400,
      /actions/,
    ],
  ])("answers 400 for %s", async (_, body, status, message) => {
    const { app } = setup();
    const res = await app.request("/resolve", {
      method: "POST",
      body,
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        ...signSlackRequest(SIGNING_SECRET, body),
      },
    });
    expect(res.status).toBe(status);
    expect(((await res.json()) as { message: string }).message).toMatch(message);
  });

  it("refuses an unsigned interaction with 401", async () => {
    const { app } = setup();
    const res = await app.request("/resolve", {
      method: "POST",
      body: "payload=%7B%7D",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(res.status).toBe(401);
  });

  it("acknowledges interactions that are not ours", async () => {
    const { app } = setup();
    const res = await app.request(
      "/resolve",
      interaction({ type: "shortcut", callback_id: "x", user: { id: "U" } }),
    );
    expect(res.status).toBe(200);
  });
});

describe("POST /resolve: actions on a parked dead letter", () => {
  it("replays a dead letter to its queue with its body and properties, once, and redraws the notification", async () => {
    await park(3);
    const { app, dispatcher } = setup();
    const id = recordIds[0] as string;
    const record = await vault.get(id);
    const res = await app.request("/resolve", click("deadletter_replay", id));
    expect(res.status).toBe(200);
    await dispatcher.idle();
    const [replayed] = (await drainOrders()) as Array<{
      messageId: string;
      body: unknown;
      subject: string;
      correlationId: string;
      applicationProperties: Record<string, unknown>;
    }>;
    expect(replayed).toMatchObject({
      messageId: record?.message.messageId,
      body: record?.message.body,
      subject: "order.created",
      correlationId: record?.message.correlationId,
      applicationProperties: { tenant: "acme", [REPLAY_COUNT_PROPERTY]: 1 },
    });
    expect(await vault.get(id)).toMatchObject({ state: "replayed", resolution: { by: MEMBER.id } });
    const updated = slack.calls.find((c) => c.method === "chat.update");
    expect(updated?.body.ts).toBe(notificationTs);
    expect(JSON.stringify(updated?.body.blocks)).toContain(`Replayed by <@${MEMBER.id}>`);
    const audit = (await readFile(auditFile, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as AuditRecord);
    expect(audit.map((r) => r.phase)).toEqual(["requested", "finished"]);
    expect(audit[0]).toMatchObject({ source: "interaction", user: { id: MEMBER.id, email: MEMBER.email } });
  });

  it("20 concurrent Replay clicks put one message on the queue and tell 19 who was first", async () => {
    await park(1);
    const { app, dispatcher } = setup();
    const id = recordIds[0] as string;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        app.request("/resolve", click("deadletter_replay", id, i % 2 ? MEMBER.id : SECOND.id)),
      ),
    );
    await dispatcher.idle();
    expect(await drainOrders()).toHaveLength(1);
    const told = ephemeralTexts();
    expect(told).toHaveLength(19);
    const winner = (await vault.get(id))?.resolution?.by;
    for (const text of told) expect(text).toContain(`already replayed by <@${winner}>`);
  });

  it("deletes a dead letter and keeps the vault copy", async () => {
    await park(2);
    const { app, dispatcher } = setup();
    const id = recordIds[1] as string;
    await app.request("/resolve", click("deadletter_delete", id));
    await dispatcher.idle();
    expect(await vault.get(id)).toMatchObject({ state: "deleted", message: expect.any(Object) });
    expect(await drainOrders()).toHaveLength(0);
  });

  it("emails a dead letter through the dialog: invalid address inline, valid one sent with the body attached", async () => {
    await park(1);
    const { app, dispatcher } = setup();
    const id = recordIds[0] as string;
    await app.request("/resolve", click("deadletter_email", id));
    const [view] = slack.views();
    expect(view?.view.callback_id).toBe("deadletter_email");
    const submit = (address: string) =>
      interaction({
        type: "view_submission",
        user: { id: MEMBER.id },
        view: {
          callback_id: "deadletter_email",
          private_metadata: view?.view.private_metadata,
          state: {
            values: {
              recipient: { address: { type: "email_text_input", value: address } },
              note: { text: { type: "plain_text_input", value: "please look" } },
            },
          },
        },
      });
    const invalid = await app.request("/resolve", submit("not-an-address"));
    expect(await invalid.json()).toEqual({
      response_action: "errors",
      errors: { recipient: "'not-an-address' is not an email address" },
    });
    // The error is plain_text: control characters removed, nothing entity-escaped.
    const hostile = await app.request("/resolve", submit("<!here> & \u202e\u0000x"));
    expect(await hostile.json()).toEqual({
      response_action: "errors",
      errors: { recipient: "'<!here> & x' is not an email address" },
    });
    const valid = await app.request("/resolve", submit("team@example.com"));
    expect(valid.status).toBe(200);
    await dispatcher.idle();
    expect(mails).toHaveLength(1);
    expect(mails[0]).toContain("team@example.com");
    expect(mails[0]).toContain("please look");
    expect(mails[0]).toContain("body.json");
    expect(await vault.get(id)).toMatchObject({
      state: "emailed",
      resolution: { note: "to team@example.com: please look" },
    });
  });

  it("refuses a non-member privately, audits it, and does nothing", async () => {
    await park(1);
    const { app, dispatcher } = setup();
    await app.request("/resolve", click("deadletter_replay", recordIds[0] as string, GUEST.id));
    await dispatcher.idle();
    expect(ephemeralTexts()[0]).toContain("guest@example.com is not a member of the SRE group");
    expect(await vault.get(recordIds[0] as string)).toMatchObject({ state: "parked" });
    expect(await drainOrders()).toHaveLength(0);
    expect(await readFile(auditFile, "utf8")).toContain('"phase":"refused"');
  });

  it("leaves the record replayable when Service Bus is down, and replays it when it is back", async () => {
    await park(1);
    const id = recordIds[0] as string;
    const down = setup({
      connections: {
        prod1:
          "Endpoint=sb://127.0.0.1:9;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true",
      },
    });
    await down.app.request("/resolve", click("deadletter_replay", id));
    await down.dispatcher.idle();
    expect(ephemeralTexts()[0]).toMatch(/Could not replay it: .* It is still parked; try again\./);
    expect(await vault.get(id)).toMatchObject({ state: "parked" });
    const up = setup();
    await up.app.request("/resolve", click("deadletter_replay", id));
    await up.dispatcher.idle();
    expect(await drainOrders()).toHaveLength(1);
    expect(await vault.get(id)).toMatchObject({ state: "replayed" });
  }, 60_000);

  it("leaves the record parked when the SMTP server refuses the recipient", async () => {
    await park(1);
    refuseMail = true;
    const { app, dispatcher } = setup();
    const id = recordIds[0] as string;
    await app.request("/resolve", click("deadletter_email", id));
    const [view] = slack.views();
    await app.request(
      "/resolve",
      interaction({
        type: "view_submission",
        user: { id: MEMBER.id },
        view: {
          callback_id: "deadletter_email",
          private_metadata: view?.view.private_metadata,
          state: { values: { recipient: { address: { value: "team@example.com" } } } },
        },
      }),
    );
    await dispatcher.idle();
    expect(await vault.get(id)).toMatchObject({ state: "parked" });
    // The dialog carried the click's response_url, so the answer goes there, privately.
    expect(ephemeralTexts().join()).toContain("Could not email it");
  });

  it("tells the user when the record is missing, and refuses replays past the limit", async () => {
    await park(1, () => ({ order: "poison" }));
    const { app, dispatcher } = setup();
    await app.request("/resolve", click("deadletter_replay", "0123456789abcdef0123456789abcdef"));
    await dispatcher.idle();
    expect(ephemeralTexts()[0]).toContain(
      "No dead letter with id or message id 0123456789abcdef0123456789abcdef",
    );
    // A message replayed twice already (the limit is 2) is not replayed again.
    const record = await vault.get(recordIds[0] as string);
    await broker.deadLetter(
      "orders",
      {
        messageId: "poison-2",
        body: { order: "poison" },
        applicationProperties: { [REPLAY_COUNT_PROPERTY]: 2 },
      },
      { reason: "Boom", description: "again" },
    );
    await park(0);
    const poisoned = (await vault.list()).find((r) => r.message.messageId === "poison-2");
    expect(record).toBeDefined();
    await app.request("/resolve", click("deadletter_replay", poisoned?.id as string));
    await dispatcher.idle();
    expect(ephemeralTexts().at(-1)).toContain("already replayed 2 times (the limit is 2)");
    expect(await vault.get(poisoned?.id as string)).toMatchObject({ state: "parked" });
  });

  it("re-runs a failed Victoria request through /execute and posts the result in the thread", async () => {
    const envelope = failedRequestEnvelope({
      args: ["config", "view"],
      requestId: "r1",
      error: "boom",
      attempt: 3,
      failedAt: "2026-11-22T10:00:00Z",
    });
    await park(1, () => envelope);
    const { app, dispatcher } = setup();
    await app.request("/resolve", click("deadletter_replay", recordIds[0] as string));
    await dispatcher.idle();
    expect(executed).toEqual([["config", "view"]]);
    const thread = slack.messages(CHANNEL).filter((m) => m.threadTs === notificationTs);
    expect(thread[0]?.text).toContain("ran config view");
    expect(await drainOrders()).toHaveLength(0);
  });
});

describe("POST /resolve: bulk actions", () => {
  it("Replay all replays each parked record of the notification exactly once, even clicked twice", async () => {
    await park(25);
    const { app, dispatcher } = setup();
    const [first] = await vault.list();
    const batch = `batch:${first?.notification?.id}`;
    await Promise.all([
      app.request("/resolve", click("deadletter_replay_all", batch)),
      app.request("/resolve", click("deadletter_replay_all", batch, SECOND.id)),
    ]);
    await dispatcher.idle();
    expect(await drainOrders()).toHaveLength(25);
    expect((await vault.list({ state: "replayed" })).length).toBe(25);
    const summaries = ephemeralTexts();
    expect(summaries).toHaveLength(2);
    const replayedCounts = summaries.map((t) => Number(/Replayed (\d+) of/.exec(t)?.[1]));
    expect(replayedCounts.reduce((a, b) => a + b, 0)).toBe(25);
  });
});

describe("victoria deadletter over /execute (the same operations as the buttons)", () => {
  it("lists, shows, replays and deletes through signed /execute calls", async () => {
    await park(2);
    const logger = createMemoryLogger();
    const actions = createDeadLetterActions({
      vault,
      bus,
      connections: { prod1: broker.connectionString },
      maxReplays: 3,
    });
    const runner = createCommandRunner(
      { sharedSecret: "s", configPath: null, victoriaBin: undefined, timeoutMs: 10_000 },
      {},
      async () => actions,
    );
    const app = createApp({
      logger,
      routes: [
        { path: "/execute", method: "POST", router: executeRoute({ runner, sharedSecret: "s", logger }) },
      ],
    });
    const run = async (args: string[]) => {
      const body = JSON.stringify({ args, requester: "sre@example.com" });
      const res = await app.request("/execute", {
        method: "POST",
        body,
        headers: { "content-type": "application/json", ...signServiceRequest("s", body) },
      });
      return { status: res.status, body: (await res.json()) as string | { error: string; message: string } };
    };
    const [first, second] = recordIds as [string, string];
    const listed = await run(["deadletter", "ls", "--state", "parked"]);
    expect(listed.status).toBe(200);
    expect(listed.body).toContain(first);
    expect(listed.body).toContain(second);
    // Search and paging over the wire: --reason, a page of one, then the next page by its cursor.
    const page1 = await run(["deadletter", "ls", "--reason", "boom", "--limit", "1", "--json"]);
    expect(page1.status).toBe(200);
    const one = JSON.parse(page1.body as string) as { records: { id: string }[]; next: string | null };
    expect(one.records).toHaveLength(1);
    expect(one.next).toEqual(expect.any(String));
    const page2 = await run([
      "deadletter",
      "ls",
      "--reason",
      "boom",
      "--limit",
      "1",
      "--next",
      `${one.next}`,
      "--json",
    ]);
    const two = JSON.parse(page2.body as string) as { records: { id: string }[]; next: string | null };
    expect([...one.records, ...two.records].map((r) => r.id).sort()).toEqual([first, second].sort());
    expect(two.next).toBeNull();
    expect((await run(["deadletter", "ls", "--where", "tenant=nobody"])).body).toBe("No dead letters.\n");
    const bad = await run(["deadletter", "ls", "--since", "yesterday"]);
    // Every non-zero exit is a 500 (the wire contract); the class says the command line was wrong.
    expect(bad.status).toBe(500);
    expect(bad.body).toMatchObject({
      failureClass: "usage",
      message: expect.stringContaining("neither a duration"),
    });
    expect((await run(["deadletter", "show", first])).body).toMatch(/deadLetter:\n\s+reason: Boom/);
    const replayed = await run(["deadletter", "replay", first]);
    expect(replayed.status).toBe(200);
    expect(await drainOrders()).toHaveLength(1);
    expect(await vault.get(first)).toMatchObject({
      state: "replayed",
      resolution: { by: "sre@example.com" },
    });
    const again = await run(["deadletter", "replay", first]);
    expect(again.status).toBe(500);
    expect(again.body).toMatchObject({
      message: expect.stringContaining("already replayed by sre@example.com"),
    });
    expect((await run(["deadletter", "delete", second, "--note", "known issue"])).status).toBe(200);
    expect(await vault.get(second)).toMatchObject({ state: "deleted", resolution: { note: "known issue" } });
  });
});

/** `/execute` over the wire with `actions` behind `victoria deadletter`, as sre@example.com. */
function executeApp(actions: DeadLetterActions) {
  const logger = createMemoryLogger();
  const runner = createCommandRunner(
    { sharedSecret: "s", configPath: null, victoriaBin: undefined, timeoutMs: 10_000 },
    {},
    async () => actions,
  );
  const app = createApp({
    logger,
    routes: [
      { path: "/execute", method: "POST", router: executeRoute({ runner, sharedSecret: "s", logger }) },
    ],
  });
  return async (args: string[]) => {
    const body = JSON.stringify({ args, requester: "sre@example.com" });
    const res = await app.request("/execute", {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...signServiceRequest("s", body) },
    });
    return {
      status: res.status,
      body: (await res.json()) as string | { error: string; message: string; failureClass: string },
    };
  };
}

describe("victoria deadletter: naming a dead letter as people see it", () => {
  it("takes a unique id prefix (as the workbench shows it) and the notification's message id", async () => {
    await park(2);
    const run = executeApp(createDeadLetterActions({ vault, bus, connections: {}, maxReplays: 3 }));
    const [first, second] = (await vault.list()) as [VaultRecord, VaultRecord];
    const shown = await run(["deadletter", "show", first.id.slice(0, 8)]);
    expect(shown.status).toBe(200);
    expect(shown.body).toContain(`id: ${first.id}\n`);
    expect((await run(["deadletter", "show", first.id.slice(0, 8).toUpperCase()])).body).toContain(
      `id: ${first.id}\n`,
    );
    const byMessageId = await run(["deadletter", "show", second.message.messageId]);
    expect(byMessageId.status).toBe(200);
    expect(byMessageId.body).toContain(`id: ${second.id}\n`);
    const deleted = await run(["deadletter", "delete", second.message.messageId]);
    expect(deleted.body).toBe(`Deleted dead letter ${second.id} (prod1/orders) as sre@example.com.\n`);
    expect(await vault.get(second.id)).toMatchObject({ state: "deleted", resolution: { via: "command" } });
  });

  it("answers an ambiguous prefix or message id with a usage error listing the candidates", async () => {
    const run = executeApp(createDeadLetterActions({ vault, bus, connections: {}, maxReplays: 3 }));
    const base = sampleRecord(1);
    const twins = ["3328bbc9", "3328bbca"].map((head, n) => ({
      ...base,
      id: `${head}${"0".repeat(24)}`,
      parkedAt: `2026-01-0${n + 1}T00:00:00.000Z`,
    }));
    for (const record of twins) await vault.park(record);
    const ambiguous = await run(["deadletter", "replay", "3328bb"]);
    expect(ambiguous.status).toBe(500);
    expect(ambiguous.body).toMatchObject({ failureClass: "usage" });
    const message = (ambiguous.body as { message: string }).message;
    expect(message).toContain("Error: 3328bb matches 2 dead letters; give more of the id:");
    expect(message).toContain(`  ${twins[1]?.id}  parked  prod-eu/orders  message msg-1  parked 2026-01-02`);
    expect(message).toContain(`  ${twins[0]?.id}  parked`);
    // The same message id parked twice (replayed, failed again) names both records.
    expect((await run(["deadletter", "show", "msg-1"])).body).toMatchObject({ failureClass: "usage" });
    // Six or more: five are listed.
    for (let n = 0; n < 6; n++)
      await vault.park({ ...sampleRecord(10 + n), id: `abcd${n}${"0".repeat(27)}` });
    const many = (await run(["deadletter", "show", "abcd"])).body as { message: string };
    expect(many.message).toContain(
      "abcd matches more than 5 dead letters; give more of the id. 5 of them, newest first:",
    );
    expect(many.message.split("\n").filter((line) => line.startsWith("  abcd"))).toHaveLength(5);
    expect((await run(["deadletter", "show", "3328bbc9"])).status).toBe(200);
  });

  it("answers an unknown reference as not_found, and says a prefix needs 4 characters", async () => {
    await park(1);
    const run = executeApp(createDeadLetterActions({ vault, bus, connections: {}, maxReplays: 3 }));
    const unknown = await run(["deadletter", "replay", "no-such-message"]);
    expect(unknown.body).toMatchObject({
      failureClass: "not_found",
      message: "Error: No dead letter with id or message id no-such-message in the vault.\n",
    });
    const short = await run(["deadletter", "show", (recordIds[0] as string).slice(0, 3)]);
    expect(short.body).toMatchObject({ failureClass: "not_found" });
    expect((short.body as { message: string }).message).toContain(
      "(an id prefix needs at least 4 characters)",
    );
  });
});

describe("victoria deadletter: a replay with no connection for the cluster", () => {
  it("names the clusters there are (never their connection strings)", async () => {
    await park(1);
    const run = executeApp(
      createDeadLetterActions({ vault, bus, connections: { other: "Endpoint=sb://secret" }, maxReplays: 3 }),
    );
    const refused = await run(["deadletter", "replay", (recordIds[0] as string).slice(0, 8)]);
    expect(refused.body).toMatchObject({
      failureClass: "configuration",
      message: "Error: No connection for cluster 'prod1': SERVICE_BUS_CONNECTIONS has 'other'.\n",
    });
  });
});

describe("victoria deadletter and the notification", () => {
  const notificationMessage = () => slack.messages(CHANNEL).find((m) => m.ts === notificationTs);
  const actionsBlock = (id: string) =>
    notificationMessage()?.blocks?.find((b) => b.block_id === `dl-actions:${id}`) as
      | { type: string; elements: Array<{ text?: string }> }
      | undefined;

  it("a replay by command redraws the notification: its buttons give way to who replayed it, via command", async () => {
    await park(2);
    const actions = await createCommandDeadLetterActionsFromEnv(
      {
        SERVICE_BUS_CONNECTIONS: JSON.stringify({ prod1: broker.connectionString }),
        SLACK_BOT_TOKEN: TOKEN,
        SLACK_API_URL: slack.url,
      },
      { vault, bus },
    );
    const run = executeApp(actions);
    const [first, second] = recordIds as [string, string];
    expect(actionsBlock(first)?.type).toBe("actions");
    const replayed = await run(["deadletter", "replay", first.slice(0, 8)]);
    expect(replayed.status).toBe(200);
    expect(await drainOrders()).toHaveLength(1);
    expect(notificationMessage()?.updates).toBe(1);
    expect(actionsBlock(first)).toMatchObject({ type: "context" });
    expect(actionsBlock(first)?.elements[0]?.text).toMatch(
      /^:repeat: Replayed by sre@example\.com via command at /,
    );
    // The other dead letter keeps its buttons.
    expect(actionsBlock(second)?.type).toBe("actions");
  });

  it("a click on buttons a command left live is answered privately and redraws the notification, never a channel message", async () => {
    await park(1);
    // A host without Slack (a terminal without SLACK_BOT_TOKEN) replays it: nothing redraws it.
    const run = executeApp(
      createDeadLetterActions({ vault, bus, connections: { prod1: broker.connectionString }, maxReplays: 3 }),
    );
    const id = recordIds[0] as string;
    expect((await run(["deadletter", "replay", id])).status).toBe(200);
    expect(await drainOrders()).toHaveLength(1);
    expect(actionsBlock(id)?.type).toBe("actions");
    const posted = slack.messages(CHANNEL).filter((m) => !m.ephemeral).length;

    const { app, dispatcher } = setup();
    const stale = interaction({
      type: "block_actions",
      user: { id: MEMBER.id },
      channel: { id: CHANNEL },
      container: { type: "message", channel_id: CHANNEL, message_ts: notificationTs },
      message: { ts: notificationTs },
      response_url: slack.responseUrl({ channel: CHANNEL, user: MEMBER.id, messageTs: notificationTs }),
      trigger_id: "trigger-stale",
      actions: [{ action_id: "deadletter_replay", block_id: "b", value: id, type: "button" }],
    });
    expect((await app.request("/resolve", stale)).status).toBe(200);
    await dispatcher.idle();
    expect(await drainOrders()).toHaveLength(0);
    const [told] = slack.messages(CHANNEL).filter((m) => m.ephemeral);
    expect(told).toMatchObject({ user: MEMBER.id });
    expect(told?.text).toMatch(/^This dead letter was already replayed by sre@example\.com via command at /);
    expect(slack.responses().map((r) => r.body.replace_original)).toEqual([false]);
    expect(slack.messages(CHANNEL).filter((m) => !m.ephemeral)).toHaveLength(posted);
    expect(notificationMessage()?.updates).toBe(1);
    expect(actionsBlock(id)?.elements[0]?.text).toMatch(/^:repeat: Replayed by sre@example\.com via command/);
  });
});

describe("POST /resolve: outside text in what Slack is told", () => {
  it("escapes a hostile id in the answer, once, and removes control characters", async () => {
    await park(1);
    const { app, dispatcher } = setup();
    const id = "<!channel> <!here> <http://evil|click> a & b\u0000\u001b[31m\u202e";
    await app.request("/resolve", click("deadletter_replay", id));
    await dispatcher.idle();
    expect(ephemeralTexts()).toEqual([
      "No dead letter with id or message id &lt;!channel&gt; &lt;!here&gt; &lt;http://evil|click&gt; a &amp; b in the vault.",
    ]);
    const [response] = slack.responses();
    expect(response?.body.blocks).toEqual([
      { type: "section", text: { type: "mrkdwn", text: ephemeralTexts()[0] } },
    ]);
  });

  it("escapes the email address from a Slack profile in a refusal", async () => {
    await park(1);
    slack.addUser({ id: "U0HOSTILE", email: "<!here>&x\u202e@example.com" });
    const { app, dispatcher } = setup();
    await app.request("/resolve", click("deadletter_replay", recordIds[0] as string, "U0HOSTILE"));
    await dispatcher.idle();
    expect(ephemeralTexts()).toEqual([
      "Sorry, &lt;!here&gt;&amp;x@example.com is not a member of the SRE group, so you cannot run Victoria.",
    ]);
  });

  it("posts a re-run's output in the thread escaped inside its code block", async () => {
    const envelope = failedRequestEnvelope({
      args: ["store", "get", "<!channel> & b"],
      requestId: "r1",
      error: "boom",
      attempt: 3,
      failedAt: "2026-11-22T10:00:00Z",
    });
    await park(1, () => envelope);
    const { app, dispatcher } = setup();
    await app.request("/resolve", click("deadletter_replay", recordIds[0] as string));
    await dispatcher.idle();
    const [result] = slack.messages(CHANNEL).filter((m) => m.threadTs === notificationTs);
    expect(result?.text).toBe(
      "```victoria store get &lt;!channel&gt; &amp; b → exit 0\nran store get &lt;!channel&gt; &amp; b```",
    );
  });
});
