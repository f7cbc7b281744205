import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServiceBusClient } from "@azure/service-bus";
import { createServiceBusBus } from "@victoria/core/adapters/azure/service-bus-bus";
import { createFileVault } from "@victoria/core/adapters/local/file-vault";
import { createWebApiChat } from "@victoria/core/adapters/slack/web-api-chat";
import type { Bus } from "@victoria/core/deadletter/bus";
import { createDrainJobHandler, DRAIN_JOB } from "@victoria/core/deadletter/drain-jobs";
import type { Vault } from "@victoria/core/deadletter/vault";
import { createInProcessDispatcher } from "@victoria/core/dispatch/in-process-dispatcher";
import { createMemoryLogger } from "@victoria/core/logging/json-logger";
import { type ServiceBusStandIn, startServiceBusStandIn } from "@victoria/emulators/service-bus/broker";
import { type SlackStandIn, startSlackStandIn } from "@victoria/emulators/slack";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../app";
import { listenerRoute } from "./listener";

const TOKEN = "listener-token-for-tests";
const CHANNEL = "C0ALERTS";
const NAMESPACE = "gw-sb-prod1";

let broker: ServiceBusStandIn;
let slack: SlackStandIn;
let bus: Bus;

beforeAll(async () => {
  broker = await startServiceBusStandIn({
    queues: ["orders"],
    topics: [{ name: "transactions", subscriptions: ["audit"] }],
  });
  slack = await startSlackStandIn({ botToken: "xoxb-listener", channels: [CHANNEL] });
  bus = createServiceBusBus((c) => new ServiceBusClient(c));
});

afterAll(async () => {
  await bus.close();
  await broker.close();
  await slack.close();
});

let vault: Vault;
beforeEach(async () => {
  slack.reset();
  vault = createFileVault(await mkdtemp(join(tmpdir(), "listener-vault-")));
});

function setup() {
  const logger = createMemoryLogger();
  const connections = { prod1: broker.connectionString };
  const drain = createDrainJobHandler({
    bus,
    vault,
    chat: createWebApiChat({ token: "xoxb-listener", slackApiUrl: slack.url, retryConfig: { retries: 0 } }),
    alertChannel: CHANNEL,
    logger,
    connections,
    drainOptions: () => ({ budgetMs: 10_000, waitMs: 300 }),
  });
  const dispatcher = createInProcessDispatcher(
    {
      [DRAIN_JOB]: async (payload) => {
        await drain(payload);
      },
    },
    { logger },
  );
  const router = listenerRoute({
    token: TOKEN,
    clusters: new Set(Object.keys(connections)),
    dispatcher,
    logger,
  });
  const app = createApp({ logger, routes: [{ path: "/listener", method: "POST", router }] });
  return { app, dispatcher, logger };
}

const post = (body: unknown, { query = `?token=${TOKEN}`, headers = {} as Record<string, string> } = {}) =>
  [
    `/listener${query}`,
    {
      method: "POST",
      body: typeof body === "string" ? body : JSON.stringify(body),
      headers: { "content-type": "application/json", ...headers },
    },
  ] as const;

const deadLetterCondition = (entity: string) => ({
  metricName: "DeadletteredMessages",
  metricNamespace: "Microsoft.ServiceBus/namespaces",
  operator: "GreaterThan",
  threshold: "0",
  timeAggregation: "Average",
  dimensions: [{ name: "EntityName", value: entity }],
  metricValue: 2,
});

function commonAlert(monitorCondition: "Fired" | "Resolved", entity = "orders", namespace = NAMESPACE) {
  return {
    schemaId: "azureMonitorCommonAlertSchema",
    data: {
      essentials: {
        alertRule: "dead-letters",
        severity: "Sev3",
        signalType: "Metric",
        monitorCondition,
        monitoringService: "Platform",
        alertTargetIDs: [
          `/subscriptions/s/resourcegroups/rg/providers/microsoft.servicebus/namespaces/${namespace}`,
        ],
        configurationItems: [namespace],
        firedDateTime: "2026-11-22T10:00:00.000Z",
        essentialsVersion: "1.0",
        alertContextVersion: "1.0",
      },
      alertContext: {
        conditionType: "SingleResourceMultipleMetricCriteria",
        condition: { windowSize: "PT5M", allOf: [deadLetterCondition(entity)] },
      },
    },
  };
}

function olderAlert(entity = "orders") {
  return {
    schemaId: "AzureMonitorMetricAlert",
    data: {
      version: "2.0",
      status: "Activated",
      context: {
        timestamp: "2026-11-22T10:00:00.000Z",
        name: "dead-letters",
        conditionType: "SingleResourceMultipleMetricCriteria",
        condition: {
          windowSize: "PT5M",
          allOf: [
            { ...deadLetterCondition(entity), metricName: "ActiveMessages" },
            deadLetterCondition(entity),
          ],
        },
        resourceName: NAMESPACE,
        resourceType: "Microsoft.ServiceBus/namespaces",
      },
    },
  };
}

function eventGrid(data: Record<string, unknown>) {
  return [
    {
      topic: "/subscriptions/s/resourcegroups/rg/providers/Microsoft.ServiceBus/namespaces/gw-sb-prod1",
      subject: "x",
      eventType: "Microsoft.ServiceBus.DeadletterMessagesAvailableWithNoListeners",
      eventTime: "2026-11-22T10:00:00.000Z",
      id: "e1",
      data: { namespaceName: NAMESPACE, requestUri: "https://x", ...data },
      dataVersion: "1",
      metadataVersion: "1",
    },
  ];
}

async function seedDeadLetters(entityPath: string, count: number) {
  for (let i = 0; i < count; i++) {
    await broker.deadLetter(
      entityPath,
      { messageId: `${entityPath}-${i}-${Math.random()}`, body: `payload ${i}` },
      { reason: "Boom", description: `#${i}` },
    );
  }
}

describe("POST /listener: the token", () => {
  it.each([
    ["no token", ""],
    ["a wrong token", "?token=guess"],
  ])("answers 401 for %s", async (_, query) => {
    const { app, logger } = setup();
    const res = await app.request(...post(commonAlert("Fired"), { query }));
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toContain("listener token");
    expect(JSON.stringify(logger.lines)).not.toContain(TOKEN);
  });

  it("accepts the token in X-Listener-Token", async () => {
    const { app } = setup();
    const res = await app.request(
      ...post(commonAlert("Resolved"), { query: "", headers: { "x-listener-token": TOKEN } }),
    );
    expect(res.status).toBe(200);
  });
});

describe("POST /listener: inputs", () => {
  it("answers the Event Grid validation handshake", async () => {
    const { app } = setup();
    const body = [
      {
        id: "v1",
        topic: "/subscriptions/s",
        subject: "",
        data: { validationCode: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6", validationUrl: "https://x" },
        eventType: "Microsoft.EventGrid.SubscriptionValidationEvent",
        eventTime: "2026-11-22T10:00:00Z",
        metadataVersion: "1",
        dataVersion: "1",
      },
    ];
    const res = await app.request(...post(body));
    expect(await res.json()).toEqual({ validationResponse: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6" });
  });

  it("answers the CloudEvents OPTIONS handshake", async () => {
    const { app } = setup();
    const res = await app.request(`/listener?token=${TOKEN}`, {
      method: "OPTIONS",
      headers: { "webhook-request-origin": "eventgrid.azure.net" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("webhook-allowed-origin")).toBe("eventgrid.azure.net");
  });

  it("does nothing for a resolved alert", async () => {
    const { app, dispatcher } = setup();
    await seedDeadLetters("orders", 1);
    const res = await app.request(...post(commonAlert("Resolved")));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ignored" });
    await dispatcher.idle();
    expect(slack.calls).toHaveLength(0);
    expect(broker.depth("orders/$DeadLetterQueue").active).toBe(1);
    // Drain it so later tests start clean.
    await app.request(...post(commonAlert("Fired")));
    await dispatcher.idle();
  });

  it.each([
    ["a common-schema metric alert", () => commonAlert("Fired"), "orders", "orders"],
    ["an older (non-common) metric alert", () => olderAlert(), "orders", "orders"],
    [
      "an Event Grid event for a queue",
      () => eventGrid({ entityType: "queue", queueName: "orders", topicName: null, subscriptionName: null }),
      "orders",
      "orders",
    ],
    [
      "an Event Grid event for a topic subscription",
      () =>
        eventGrid({
          entityType: "subscriber",
          queueName: null,
          topicName: "transactions",
          subscriptionName: "audit",
        }),
      "transactions/Subscriptions/audit",
      "transactions/Subscriptions/audit",
    ],
  ])("drains the entity named by %s: parked, notified, completed", async (_, body, entityPath, described) => {
    const { app, dispatcher } = setup();
    await seedDeadLetters(entityPath, 3);
    const res = await app.request(...post(body()));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({
      status: "accepted",
      draining: [{ cluster: "prod1", namespace: NAMESPACE, entity: described }],
      unknownClusters: [],
    });
    await dispatcher.idle();
    expect(broker.depth(`${entityPath}/$DeadLetterQueue`)).toMatchObject({ active: 0, locked: 0 });
    expect(await vault.list()).toHaveLength(3);
    const posts = slack.calls.filter((c) => c.method === "chat.postMessage");
    expect(posts).toHaveLength(1);
    expect(posts[0]?.body.channel).toBe(CHANNEL);
  });

  it("answers 422 for a namespace whose cluster has no connection, and tells Slack", async () => {
    const { app, dispatcher } = setup();
    const res = await app.request(...post(commonAlert("Fired", "orders", "gw-sb-staging9")));
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({
      error: "Unprocessable Entity",
      message: "No connection in SERVICE_BUS_CONNECTIONS for cluster 'staging9'",
    });
    await dispatcher.idle();
    const [note] = slack.messages(CHANNEL);
    expect(note?.text).toContain("no connection for cluster `staging9`");
    expect(note?.text).toContain("known clusters: prod1");
    expect(note?.text).not.toContain(broker.connectionString);
  });

  it("escapes what the alert names in the unknown-cluster note, once, and removes control characters", async () => {
    const { app, dispatcher } = setup();
    const event = eventGrid({
      namespaceName: "gw-sb-<!here> & \u202e<http://evil|click>\u0000",
      entityType: "subscriber",
      queueName: null,
      topicName: "<!channel>\u001b[31m",
      subscriptionName: "a & b",
    });
    expect((await app.request(...post(event))).status).toBe(422);
    await dispatcher.idle();
    const [note] = slack.messages(CHANNEL);
    const cluster = "&lt;!here&gt; &amp; &lt;http://evil|click&gt;";
    expect(note?.text).toBe(
      `:warning: Dead letters were reported on \`&lt;!channel&gt;/Subscriptions/a &amp; b\` in namespace \`gw-sb-${cluster}\`, but there is no connection for cluster \`${cluster}\` in SERVICE_BUS_CONNECTIONS (known clusters: prod1). They stay on the bus until one is configured.`,
    );
    expect(note?.blocks).toEqual([{ type: "section", text: { type: "mrkdwn", text: note?.text } }]);
  });

  it.each([
    ["malformed JSON", "{", /Malformed JSON/],
    [
      "an alert about another metric only",
      {
        ...olderAlert(),
        data: { ...olderAlert().data, context: { ...olderAlert().data.context, condition: { allOf: [] } } },
      },
      /./,
    ],
    ["an unknown shape", { hello: "world" }, /./],
  ])("answers 400 naming the problem for %s", async (_, body, message) => {
    const { app } = setup();
    const res = await app.request(...post(body));
    expect(res.status).toBe(400);
    const answer = (await res.json()) as { error: string; message: string };
    expect(answer.error).toBe("Invalid request");
    expect(answer.message).toMatch(message);
  });

  it("answers 413 for an oversized body", async () => {
    const { app } = setup();
    const res = await app.request(...post({ pad: "x".repeat(1_100_000) }));
    expect(res.status).toBe(413);
  });
});

/** A body that records whether anything read it: refusals that need no body must not. */
function watchedBody(text: string) {
  const watch = { read: false };
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        watch.read = true;
        controller.enqueue(new TextEncoder().encode(text));
        controller.close();
      },
    },
    // Nothing is pulled until someone reads.
    { highWaterMark: 0 },
  );
  return { watch, init: { method: "POST", body, duplex: "half" } as RequestInit };
}

describe("POST /listener: what is refused before the body is read", () => {
  it("answers 401 for a missing token without reading the body", async () => {
    const { app } = setup();
    const { watch, init } = watchedBody(JSON.stringify(commonAlert("Fired")));
    const res = await app.request("/listener", {
      ...init,
      headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
    });
    expect(res.status).toBe(401);
    expect(watch.read).toBe(false);
    // Node would otherwise read the unread upload to its end to keep the connection alive.
    expect(res.headers.get("connection")).toBe("close");
  });

  it.each([
    ["text/plain", "text/plain"],
    ["XML", "application/xml"],
    ["no content type", undefined],
  ])("answers 415 for %s, without reading the body", async (_, type) => {
    const { app, dispatcher } = setup();
    const { watch, init } = watchedBody(JSON.stringify(commonAlert("Fired")));
    const res = await app.request(`/listener?token=${TOKEN}`, {
      ...init,
      headers: type === undefined ? {} : { "content-type": type },
    });
    expect(res.status).toBe(415);
    expect(await res.json()).toEqual({
      error: "Unsupported media type",
      message: `Content-Type must be application/json (got ${type === undefined ? "none" : `'${type}'`})`,
    });
    expect(watch.read).toBe(false);
    await dispatcher.idle();
    expect(slack.calls).toHaveLength(0);
  });

  it.each([
    ["Azure Monitor's", "application/json; charset=utf-8", commonAlert("Resolved"), 200],
    ["Event Grid's", "application/json", eventGrid({ entityType: "queue", queueName: "orders" }), 202],
    [
      "a CloudEvent's",
      "application/cloudevents+json; charset=utf-8",
      {
        specversion: "1.0",
        type: "Microsoft.ServiceBus.DeadletterMessagesAvailableWithNoListeners",
        source: "/subscriptions/s/resourcegroups/rg/providers/Microsoft.ServiceBus/namespaces/gw-sb-prod1",
        id: "ce1",
        time: "2026-11-22T10:00:00.000Z",
        data: { namespaceName: NAMESPACE, entityType: "queue", queueName: "orders" },
      },
      202,
    ],
    [
      "a CloudEvents batch's",
      "application/cloudevents-batch+json",
      [
        {
          specversion: "1.0",
          type: "Microsoft.ServiceBus.DeadletterMessagesAvailablePeriodicNotifications",
          source: "/subscriptions/s",
          id: "ce2",
          data: { namespaceName: NAMESPACE, entityType: "queue", queueName: "orders" },
        },
      ],
      202,
    ],
  ])("accepts %s content type", async (_, type, body, status) => {
    const { app, dispatcher } = setup();
    const res = await app.request(...post(body, { headers: { "content-type": type } }));
    expect(res.status).toBe(status);
    await dispatcher.idle();
  });
});

describe("POST /listener: cluster names are never inherited properties", () => {
  it.each(["__proto__", "constructor", "toString"])(
    "treats a namespace of cluster '%s' as an unknown cluster: 422 and a note in Slack",
    async (name) => {
      const { app, dispatcher } = setup();
      const cluster = name.toLowerCase();
      const res = await app.request(...post(commonAlert("Fired", "orders", `gw-sb-${name}`)));
      expect(res.status).toBe(422);
      expect(((await res.json()) as { message: string }).message).toBe(
        `No connection in SERVICE_BUS_CONNECTIONS for cluster '${cluster}'`,
      );
      await dispatcher.idle();
      const [note] = slack.messages(CHANNEL);
      expect(note?.text).toContain(cluster);
      expect(note?.text).toContain("SERVICE_BUS_CONNECTIONS");
    },
  );

  it.each(["__proto__", "constructor", "toString", "hasOwnProperty"])(
    "a drain job for cluster '%s' (as dispatched) finds no connection and says so",
    async (cluster) => {
      const { dispatcher } = setup();
      await dispatcher.dispatch({
        kind: DRAIN_JOB,
        payload: { cluster, namespace: `gw-sb-${cluster}`, entity: { kind: "queue", queue: "orders" } },
      });
      await dispatcher.idle();
      const [note] = slack.messages(CHANNEL);
      expect(note?.text).toContain(cluster);
      expect(note?.text).toContain("SERVICE_BUS_CONNECTIONS");
    },
  );
});

describe("POST /listener: an entity that does not exist", () => {
  it.each([
    ["a queue", { entityType: "queue", queueName: "ghost-queue" }, "ghost-queue", "queue `ghost-queue`"],
    [
      "a subscription",
      { entityType: "subscriber", topicName: "transactions", subscriptionName: "ghost" },
      "transactions/Subscriptions/ghost",
      "subscription `transactions/Subscriptions/ghost`",
    ],
    [
      "a subscription of a topic",
      { entityType: "subscriber", topicName: "no-topic", subscriptionName: "audit" },
      "no-topic/Subscriptions/audit",
      "subscription `no-topic/Subscriptions/audit`",
    ],
  ])(
    "is answered 202, then the alert channel is told that nothing was drained (%s)",
    async (_, data, entity, named) => {
      const { app, dispatcher, logger } = setup();
      const res = await app.request(...post(eventGrid(data)));
      expect(res.status).toBe(202);
      expect(await res.json()).toMatchObject({
        draining: [{ cluster: "prod1", namespace: NAMESPACE, entity }],
      });
      await dispatcher.idle();
      const notes = slack.messages(CHANNEL);
      expect(notes).toHaveLength(1);
      expect(notes[0]?.text).toContain(named);
      expect(notes[0]?.text).toContain(`namespace \`${NAMESPACE}\` (cluster \`prod1\`)`);
      expect(notes[0]?.text).toContain("does not exist, so nothing was drained");
      expect(await vault.list()).toEqual([]);
      expect(JSON.stringify(logger.lines)).toContain("dead letters on an entity that does not exist");
    },
  );

  it("escapes the names it quotes from the alert", async () => {
    const { app, dispatcher } = setup();
    const res = await app.request(
      ...post(eventGrid({ entityType: "queue", queueName: "ghost<!channel>&co" })),
    );
    expect(res.status).toBe(202);
    await dispatcher.idle();
    const [note] = slack.messages(CHANNEL);
    expect(note?.text).toContain("`ghost&lt;!channel&gt;&amp;co`");
    expect(note?.text).not.toContain("<!channel>");
  });
});
