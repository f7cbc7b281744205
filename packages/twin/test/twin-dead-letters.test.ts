import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { readEmfLines, sumOf } from "@victoria/core/observability/emf-reader";
import { signServiceRequest } from "@victoria/core/security/service-signature";
import { signSlackRequest } from "@victoria/core/security/slack-signature";
import type { SlackMessage } from "@victoria/emulators/slack";
import { LOCAL_NAMESPACE } from "@victoria/functions/local-server";
import { sampleAlert } from "@victoria/functions/workbench/sample-alerts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Twin } from "../src/twin";
import { startTestTwin, TEST_SECRET, type TestTwin } from "./twin-fixture";

/*
 * The dead-letter flows through the deployment, over the wire: a dead letter on the broker stand-in,
 * an Azure Monitor alert at the listener's Function URL, the worker (invoked asynchronously)
 * draining it into the S3 vault, the notification in the Slack stand-in, signed clicks at the
 * resolve Function URL; email through the SMTP stand-in; and the failed-requests loop, from a
 * transient failure on the deployed execute to the scheduled retry consumer and Service Bus's
 * max delivery count. Every AWS call on the way is checked against sst.config.ts's grants.
 */

const ALERTS = "C0ALERTS";
const MEMBER = "U0MEMBER";
const FAILED_REQUESTS = "victoria-failed-requests";
const SECRET = {
  ...TEST_SECRET,
  // Reminders after a second, so the test's tick of the reminder schedule finds them due.
  DEAD_LETTER_REMIND_AFTER: "1s",
  // A storage provider nobody listens on: `store s3 ls` fails transiently (a network error).
  VICTORIA_CONFIG_YAML: [
    "logging_config: {version: 1}",
    "storage_providers:",
    "  s3:",
    "    bucket: b",
    "    region: us-east-1",
    "    endpoint: 'http://127.0.0.1:9'",
    "    force_path_style: true",
    "    access_key_id: x",
    "    secret_access_key: y",
    "",
  ].join("\n"),
};

let twin: Twin;
let logs: string[];
let eventually: TestTwin["eventually"];
let functionLog: TestTwin["functionLog"];

beforeAll(async () => {
  ({ twin, logs, eventually, functionLog } = await startTestTwin({ secret: SECRET }));
}, 120_000);

afterAll(async () => {
  await twin?.close();
});

/** Every asynchronous invocation (worker, retry consumer) finished, within a bounded wait. */
async function lambdaIdle(timeoutMs = 30_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    twin.lambda.idle(),
    new Promise((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new Error(`Lambda not idle in ${timeoutMs} ms; twin log:\n${logs.slice(-30).join("\n")}`)),
        timeoutMs,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

const slack = () => {
  if (!twin.slack) throw new Error("the embedded Slack stand-in is not running");
  return twin.slack;
};
const broker = () => {
  if (!twin.serviceBus) throw new Error("the embedded Service Bus stand-in is not running");
  return twin.serviceBus;
};

/** An Azure Monitor metric alert (common schema) on DeadletteredMessages for one queue. */
async function alert(entity: string, count: number): Promise<Response> {
  const body = sampleAlert("azure-monitor", {
    namespace: LOCAL_NAMESPACE,
    queue: entity,
    count,
    now: new Date(),
  });
  return fetch(`${twin.outputs.listenerUrl}?token=${SECRET.LISTENER_TOKEN}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** A signed interactivity POST to the resolve Function URL, as Slack sends it. */
function interact(payload: Record<string, unknown>): Promise<Response> {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  return fetch(twin.outputs.resolveUrl as string, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...signSlackRequest(SECRET.SLACK_SIGNING_SECRET, body),
    },
  });
}

/** A click on one of the notification's buttons. */
function click(notification: SlackMessage, actionId: string, value: string): Promise<Response> {
  return interact({
    type: "block_actions",
    user: { id: MEMBER },
    team: { id: "T0TWIN" },
    channel: { id: ALERTS },
    container: { type: "message", channel_id: ALERTS, message_ts: notification.ts },
    message: { ts: notification.ts },
    response_url: slack().responseUrl({ channel: ALERTS, user: MEMBER, messageTs: notification.ts }),
    trigger_id: `trigger-${Date.now()}-${Math.random()}`,
    actions: [{ action_id: actionId, block_id: "b", value, type: "button" }],
  });
}

/** The buttons of a notification: action id and value (the vault record id). */
function buttons(message: SlackMessage): Array<{ actionId: string; value: string }> {
  const found: Array<{ actionId: string; value: string }> = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node !== null && typeof node === "object") {
      const element = node as Record<string, unknown>;
      if (element.type === "button" && typeof element.action_id === "string")
        found.push({ actionId: element.action_id, value: String(element.value) });
      Object.values(element).forEach(visit);
    }
  };
  visit(message.blocks);
  return found;
}

/** Every `text` in a message's blocks, one per line, as a reader sees them. */
function texts(message: SlackMessage): string {
  const found: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node !== null && typeof node === "object") {
      for (const [key, value] of Object.entries(node)) {
        if (key === "text" && typeof value === "string") found.push(value);
        else visit(value);
      }
    }
  };
  visit(message.blocks);
  return found.join("\n");
}

/** The bot's notifications in the alert channel (not thread replies, not ephemeral). */
const notifications = () =>
  slack()
    .messages(ALERTS)
    .filter((m) => !m.threadTs && !m.ephemeral);

/** Dead-letters a message, alerts, and waits for the one notification the drain posts. */
async function parkAndNotify(entity: string, messageId: string, body: unknown): Promise<SlackMessage> {
  const before = new Set(notifications().map((m) => m.ts));
  broker().deadLetter(
    entity,
    { messageId, body, subject: "order.created", applicationProperties: { tenant: "acme" } },
    // A reason of its own: the same reason within the hour would join the previous notification.
    { reason: `Boom ${messageId}`, description: `${messageId} failed` },
  );
  const res = await alert(entity, 1);
  expect(res.status).toBe(202);
  const notification = await eventually(() => notifications().find((m) => !before.has(m.ts)));
  await lambdaIdle();
  expect(notifications().filter((m) => !before.has(m.ts))).toHaveLength(1);
  expect(broker().depth(`${entity}/$DeadLetterQueue`)).toMatchObject({ active: 0, locked: 0 });
  return notification;
}

const vaultBucket = () => twin.outputs.vaultBucket as string;

/** A vault record as an operator reads it (GetObject only). */
async function vaultRecord(id: string): Promise<Record<string, unknown>> {
  const operator = new S3Client({ ...twin.s3.clientConfig, credentials: twin.operatorCredentials });
  const object = await operator.send(
    new GetObjectCommand({ Bucket: vaultBucket(), Key: `records/${id}.json` }),
  );
  return JSON.parse((await object.Body?.transformToString()) ?? "{}") as Record<string, unknown>;
}

/** The request ids of a function's lines with this message, in order. */
const idsOf = (functionId: string, message: string) =>
  functionLog(functionId)
    .filter((line) => line.message === message)
    .map((line) => String(line.requestId));
const denied = () => twin.iam.checks.filter((c) => !c.allowed);

describe("dead letters through the twin", () => {
  it("orders: alert → drain into the S3 vault → one notification → Replay puts it back, Delete resolves", async () => {
    const alertsBefore = idsOf("Listener", "dead-letter alert accepted").length;
    const first = await parkAndNotify("orders", "order-1", { order: 1 });
    const [replay] = buttons(first).filter((b) => b.actionId === "deadletter_replay");
    expect(replay).toBeDefined();
    const id = replay?.value as string;
    // Parked in the twin's vault bucket, through IAM.
    expect(twin.s3.keys(vaultBucket())).toContain(`records/${id}.json`);
    // The alert's request id: on the listener's line, the worker's drain and the record it parked.
    const [alertId] = idsOf("Listener", "dead-letter alert accepted").slice(alertsBefore);
    expect(alertId).toMatch(/^[0-9a-f-]{36}$/);
    expect(
      functionLog("Worker").filter(
        (line) => line.requestId === alertId && line.kind === "drain-dead-letters",
      ),
    ).toHaveLength(1);
    expect(await vaultRecord(id)).toMatchObject({ parkedBy: { requestId: alertId } });

    const clicksBefore = idsOf("Resolve", "dead-letter action accepted").length;
    expect((await click(first, "deadletter_replay", id)).status).toBe(200);
    const back = await eventually(() =>
      broker()
        .peekAll("orders")
        .find((m) => m.messageId === "order-1"),
    );
    expect(back).toMatchObject({
      body: { order: 1 },
      subject: "order.created",
      applicationProperties: { tenant: "acme", "x-victoria-replay-count": 1 },
    });
    const redrawn = await eventually(() =>
      slack()
        .messages(ALERTS)
        .find((m) => m.ts === first.ts && m.updates > 0),
    );
    expect(JSON.stringify(redrawn.blocks)).toContain(`Replayed by <@${MEMBER}>`);
    // The click's request id: the resolve function's line, and the record's resolution.
    const [clickId] = idsOf("Resolve", "dead-letter action accepted").slice(clicksBefore);
    expect(clickId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await vaultRecord(id)).toMatchObject({
      parkedBy: { requestId: alertId },
      resolution: { requestId: clickId },
    });

    const second = await parkAndNotify("orders", "order-2", { order: 2 });
    const del = buttons(second).find((b) => b.actionId === "deadletter_delete");
    expect(del).toBeDefined();
    expect((await click(second, "deadletter_delete", del?.value as string)).status).toBe(200);
    const resolved = await eventually(() =>
      slack()
        .messages(ALERTS)
        .find((m) => m.ts === second.ts && m.updates > 0),
    );
    expect(JSON.stringify(resolved.blocks)).toContain(`Deleted by <@${MEMBER}>`);
    await lambdaIdle();
    // Deleted, not replayed: only the first message went back to the queue.
    expect(
      broker()
        .peekAll("orders")
        .map((m) => m.messageId),
    ).toEqual(["order-1"]);
    expect(denied()).toEqual([]);
    expect(twin.iam.checks.map((c) => `${c.principal} ${c.action}`)).toEqual(
      expect.arrayContaining([
        "Listener lambda:InvokeFunction",
        "Resolve lambda:InvokeFunction",
        "Worker s3:PutObject",
        "Worker s3:GetObject",
      ]),
    );
  }, 90_000);

  it("grouping: a second dead letter with the same reason joins the notification; the reminder schedule replies in its thread once", async () => {
    const before = new Set(notifications().map((m) => m.ts));
    const deadLetter = (messageId: string) =>
      broker().deadLetter(
        "orders",
        { messageId, body: { messageId }, applicationProperties: {} },
        { reason: "SameReason", description: "grouped" },
      );
    deadLetter("group-1");
    expect((await alert("orders", 1)).status).toBe(202);
    const first = await eventually(() => notifications().find((m) => !before.has(m.ts)));
    await lambdaIdle();
    deadLetter("group-2");
    expect((await alert("orders", 1)).status).toBe(202);
    await lambdaIdle();
    const updated = await eventually(() =>
      notifications().find((m) => m.ts === first.ts && texts(m).includes("2 dead letters")),
    );
    expect(notifications().filter((m) => !before.has(m.ts))).toHaveLength(1);
    expect(buttons(updated).filter((b) => b.actionId === "deadletter_replay")).toHaveLength(2);
    expect(broker().depth("orders/$DeadLetterQueue")).toMatchObject({ active: 0, locked: 0 });

    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const thread = () =>
      slack()
        .messages(ALERTS)
        .filter((m) => m.threadTs === first.ts);
    await twin.tick("DeadLetterReminderSchedule");
    await lambdaIdle();
    const [reminder] = await eventually(() => (thread().length > 0 ? thread() : undefined));
    expect(reminder?.text).toContain("*2 dead letters* of this notification are still parked after 1s");
    await twin.tick("DeadLetterReminderSchedule");
    await lambdaIdle();
    expect(thread()).toHaveLength(1);
    expect(denied()).toEqual([]);
  }, 90_000);

  it("Email: the click opens the modal, the signed view_submission sends one mail with the dead letter", async () => {
    const mail = twin.mail;
    if (!mail) throw new Error("the embedded SMTP stand-in is not running");
    const notification = await parkAndNotify("orders", "order-mail", { order: "mail-me" });
    const email = buttons(notification).find((b) => b.actionId === "deadletter_email");
    expect(email).toBeDefined();
    const viewsBefore = slack().views().length;
    expect((await click(notification, "deadletter_email", email?.value as string)).status).toBe(200);
    const view = await eventually(() => slack().views()[viewsBefore]);
    expect(view.view.callback_id).toBe("deadletter_email");

    const mailsBefore = mail.length;
    const res = await interact({
      type: "view_submission",
      user: { id: MEMBER },
      team: { id: "T0TWIN" },
      view: {
        id: view.id,
        callback_id: "deadletter_email",
        private_metadata: view.view.private_metadata,
        state: {
          values: {
            recipient: { address: { type: "email_text_input", value: "team@example.com" } },
            note: { text: { type: "plain_text_input", value: "please look" } },
          },
        },
      },
    });
    expect(res.status).toBe(200);
    const sent = await eventually(() => mail[mailsBefore]);
    await lambdaIdle();
    expect(mail.length - mailsBefore).toBe(1);
    expect(sent.to).toEqual(["team@example.com"]);
    expect(sent.from).toBe("victoria@twin.example");
    expect(sent.raw).toContain("please look");
    expect(sent.raw).toContain("body.json");
    expect(sent.raw).toContain(email?.value as string);
    const redrawn = await eventually(() =>
      slack()
        .messages(ALERTS)
        .find((m) => m.ts === notification.ts && m.updates > 0),
    );
    expect(JSON.stringify(redrawn.blocks)).toMatch(/[Ee]mailed/);
    expect(denied()).toEqual([]);
  }, 90_000);

  it("Repair…: the dialog is pre-filled from the S3 vault (one read, through IAM), the edited message goes back", async () => {
    const notification = await parkAndNotify("orders", "order-repair", { order: "broken" });
    const repair = buttons(notification).find((b) => b.actionId === "deadletter_repair");
    expect(repair).toBeDefined();
    const viewsBefore = slack().views().length;
    expect((await click(notification, "deadletter_repair", repair?.value as string)).status).toBe(200);
    const view = await eventually(() => slack().views()[viewsBefore]);
    expect(view.view.callback_id).toBe("deadletter_repair");
    const inputs = view.view.blocks as { block_id?: string; element?: { initial_value?: string } }[];
    expect(inputs.find((b) => b.block_id === "body")?.element?.initial_value).toBe(
      '{\n  "order": "broken"\n}',
    );
    const lines = inputs.find((b) => b.block_id === "properties")?.element?.initial_value ?? "";
    expect(lines).toContain("tenant=acme");

    const res = await interact({
      type: "view_submission",
      user: { id: MEMBER },
      team: { id: "T0TWIN" },
      view: {
        id: view.id,
        callback_id: "deadletter_repair",
        private_metadata: view.view.private_metadata,
        state: {
          values: {
            body: { text: { type: "plain_text_input", value: '{"order": "fixed"}' } },
            properties: {
              lines: { type: "plain_text_input", value: lines.replace("tenant=acme", "tenant=globex") },
            },
          },
        },
      },
    });
    expect(res.status).toBe(200);
    const back = await eventually(() =>
      broker()
        .peekAll("orders")
        .find((m) => m.messageId === "order-repair"),
    );
    expect(back).toMatchObject({
      body: { order: "fixed" },
      applicationProperties: { tenant: "globex", "x-victoria-replay-count": 1 },
    });
    const redrawn = await eventually(() =>
      slack()
        .messages(ALERTS)
        .find((m) => m.ts === notification.ts && texts(m).includes("Replayed with edits")),
    );
    expect(texts(redrawn)).toContain("changed body, set tenant");
    await lambdaIdle();
    expect(denied()).toEqual([]);
    expect(twin.iam.checks.map((c) => `${c.principal} ${c.action}`)).toContain("Resolve s3:GetObject");
  }, 90_000);

  it("subscription replay: refused with a topic-wide offer until `rules install` (via /execute); then only that subscription receives it", async () => {
    broker().createTopic({ name: "events", subscriptions: ["audit", "billing", "ops"] });
    const entity = "events/Subscriptions/audit";
    const notification = await parkAndNotify(entity, "event-1", { event: 1 });
    const id = buttons(notification).find((b) => b.actionId === "deadletter_replay")?.value as string;
    const offered = () =>
      slack()
        .messages(ALERTS)
        .filter((m) => m.ephemeral && buttons(m).some((b) => b.actionId === "deadletter_replay_topic"));

    expect((await click(notification, "deadletter_replay", id)).status).toBe(200);
    const offer = await eventually(() => offered()[0]);
    await lambdaIdle();
    expect(offer.text).toContain("victoria deadletter rules install local events");
    expect(JSON.stringify(offer.blocks)).toMatch(/besides `audit`, `billing`, `ops` will receive it again/);
    for (const sub of ["audit", "billing", "ops"])
      expect(broker().peekAll(`events/Subscriptions/${sub}`)).toEqual([]);

    const body = JSON.stringify({
      args: ["deadletter", "rules", "install", "local", "events"],
      requester: "sre@example.com",
    });
    const installed = await fetch(twin.outputs.executeUrl as string, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        ...signServiceRequest(SECRET.VICTORIA_SHARED_SECRET, body),
      },
    });
    expect(installed.status, await installed.clone().text()).toBe(200);

    expect((await click(notification, "deadletter_replay", id)).status).toBe(200);
    const back = await eventually(() =>
      broker()
        .peekAll(entity)
        .find((m) => m.messageId === "event-1"),
    );
    expect(back.applicationProperties).toMatchObject({ "x-victoria-replay-to": "audit" });
    await lambdaIdle();
    expect(broker().peekAll("events/Subscriptions/billing")).toEqual([]);
    expect(broker().peekAll("events/Subscriptions/ops")).toEqual([]);
    expect(denied()).toEqual([]);
  }, 90_000);

  it("failed requests: a transient failure on execute → retried by the schedule → dead-lettered after 3 deliveries → notified", async () => {
    const schedule = twin.model.schedules.find((s) => s.id === "RetryFailedRequestsSchedule");
    expect(schedule).toBeDefined();
    // The caller's request id, in the signed body: kept through the queue and every retry.
    const requestId = "twin-retry-1";
    const body = JSON.stringify({ args: ["store", "s3", "ls"], requestId });
    const res = await fetch(twin.outputs.executeUrl as string, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        ...signServiceRequest(SECRET.VICTORIA_SHARED_SECRET, body),
      },
    });
    expect(res.status).toBe(500);
    expect(res.headers.get("x-victoria-request-id")).toBe(requestId);
    expect(await res.json()).toMatchObject({ failureClass: "transient" });
    const published = await eventually(() => broker().peekAll(FAILED_REQUESTS)[0]);
    expect(published.body).toMatchObject({
      type: "MSG_VICTORIA_REQUEST_FAILED",
      payload: { args: ["store", "s3", "ls"], failureClass: "transient", requestId },
    });
    expect(published.correlationId).toBe(requestId);

    // Each tick receives it, re-runs it through execute, which fails again: abandoned, delivery counted.
    for (let tick = 1; tick <= 3; tick++) {
      await twin.tick("RetryFailedRequestsSchedule");
      await lambdaIdle(60_000);
    }
    expect(broker().depth(FAILED_REQUESTS)).toMatchObject({ active: 0, locked: 0, deadLetter: 1 });
    const [dead] = broker().peekAll(`${FAILED_REQUESTS}/$DeadLetterQueue`);
    expect(dead).toMatchObject({ deliveryCount: 3, deadLetterReason: "MaxDeliveryCountExceeded" });
    const retries = twin.lambda.invocations.filter(
      (i) => i.functionName === twin.functionName("RetryFailedRequests"),
    );
    expect(retries).toHaveLength(3);
    // Each retry ran under the original id: the consumer's lines and the execute calls it made.
    expect(
      functionLog("RetryFailedRequests").filter(
        (line) => line.message === "failed request retried" && line.requestId === requestId,
      ),
    ).toHaveLength(3);
    expect(
      functionLog("Execute").filter((line) => line.message === "execute" && line.requestId === requestId),
    ).toHaveLength(4);

    const before = new Set(notifications().map((m) => m.ts));
    expect((await alert(FAILED_REQUESTS, 1)).status).toBe(202);
    const notification = await eventually(() => notifications().find((m) => !before.has(m.ts)));
    await lambdaIdle();
    expect(notifications().filter((m) => !before.has(m.ts))).toHaveLength(1);
    const shown = texts(notification);
    expect(shown).toContain(`local / ${FAILED_REQUESTS}`);
    expect(shown).toContain("*Reason:* MaxDeliveryCountExceeded");
    expect(shown).toContain('"args":["store","s3","ls"]');
    expect(broker().depth(`${FAILED_REQUESTS}/$DeadLetterQueue`)).toMatchObject({ active: 0, locked: 0 });
    const replay = buttons(notification).find((b) => b.actionId === "deadletter_replay");
    expect(replay).toBeDefined();
    expect(twin.s3.keys(vaultBucket())).toContain(`records/${replay?.value}.json`);
    expect(buttons(notification).map((b) => b.actionId)).toEqual(
      expect.arrayContaining(["deadletter_replay", "deadletter_email", "deadletter_delete"]),
    );

    // The metrics of that story, as CloudWatch would extract them from each function's stdout.
    const metricsOf = (id: string) => readEmfLines(logs.filter((l) => l.startsWith(`[${id}] `)));
    expect(sumOf(metricsOf("Execute"), "FailedRequestsPublished", { Service: "execute" })).toBe(1);
    expect(
      sumOf(metricsOf("RetryFailedRequests"), "FailedRequestsRetried", { Service: "retry-failed-requests" }),
    ).toBe(3);
    // Service Bus dead-lettered it (max deliveries), not the consumer: FailedRequestsDeadLettered
    // counts the consumer's own give-ups, e.g. an envelope that is not one.
    expect(sumOf(metricsOf("RetryFailedRequests"), "FailedRequestsDeadLettered")).toBe(0);
    broker().send(FAILED_REQUESTS, { body: { not: "an envelope" }, messageId: "twin-not-an-envelope" });
    await twin.tick("RetryFailedRequestsSchedule");
    await lambdaIdle(60_000);
    expect(
      sumOf(metricsOf("RetryFailedRequests"), "FailedRequestsDeadLettered", {
        Service: "retry-failed-requests",
      }),
    ).toBe(1);
    expect(broker().peekAll(`${FAILED_REQUESTS}/$DeadLetterQueue`)).toEqual([
      expect.objectContaining({ messageId: "twin-not-an-envelope", deadLetterReason: "InvalidEnvelope" }),
    ]);
    expect(denied()).toEqual([]);
  }, 180_000);
});
