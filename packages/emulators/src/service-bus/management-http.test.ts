import { request } from "node:https";
import { ServiceBusAdministrationClient, ServiceBusClient } from "@azure/service-bus";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type ServiceBusStandIn, startServiceBusStandIn } from "./broker";

// The real SDK clients against one broker: AMQP and the HTTPS management API on the same port.
let broker: ServiceBusStandIn;
let admin: ServiceBusAdministrationClient;
let client: ServiceBusClient;

beforeAll(async () => {
  broker = await startServiceBusStandIn({
    topics: [
      { name: "events", subscriptions: ["audit", "billing", { name: "ops", maxDeliveryCount: 3 }] },
      {
        name: "orders",
        subscriptions: [
          { name: "red", rules: [{ name: "red-only", sqlFilter: "color = 'red'" }] },
          {
            name: "vip",
            rules: [{ name: "vip", correlationFilter: { applicationProperties: { tier: "gold" } } }],
          },
          {
            name: "by-subject",
            rules: [{ name: "subject", correlationFilter: { subject: "order.created" } }],
          },
          "everything",
        ],
      },
    ],
  });
  // Trust the stand-in's certificate for this client only.
  admin = new ServiceBusAdministrationClient(broker.connectionString, { tlsOptions: { ca: broker.ca } });
  client = new ServiceBusClient(broker.connectionString, {
    retryOptions: { maxRetries: 1, retryDelayInMs: 100, timeoutInMs: 5_000 },
  });
});

afterAll(async () => {
  await client?.close();
  await broker?.close();
});

async function receiveAll(topic: string, subscription: string): Promise<unknown[]> {
  const receiver = client.createReceiver(topic, subscription, { receiveMode: "receiveAndDelete" });
  try {
    const messages = await receiver.receiveMessages(10, { maxWaitTimeInMs: 300 });
    return messages.map((m) => m.body);
  } finally {
    await receiver.close();
  }
}

/** The SDK's RestError: a status code and a code besides the message. */
type RestFailure = Error & { statusCode?: number; code?: string };

async function failureOf(promise: Promise<unknown>): Promise<RestFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as RestFailure;
}

describe("subscription rules decide which subscriptions get a copy", () => {
  test("SQL and correlation filters; a subscription without rules of its own has $Default", async () => {
    const sender = client.createSender("orders");
    await sender.sendMessages([
      { body: "red", applicationProperties: { color: "red" } },
      { body: "gold", applicationProperties: { tier: "gold" } },
      { body: "created", subject: "order.created" },
      { body: "plain" },
    ]);
    await sender.close();
    expect(await receiveAll("orders", "red")).toEqual(["red"]);
    expect(await receiveAll("orders", "vip")).toEqual(["gold"]);
    expect(await receiveAll("orders", "by-subject")).toEqual(["created"]);
    expect(await receiveAll("orders", "everything")).toEqual(["red", "gold", "created", "plain"]);
  });
});

describe("the management API over HTTPS, through ServiceBusAdministrationClient", () => {
  test("lists and gets subscriptions", async () => {
    const names: string[] = [];
    for await (const subscription of admin.listSubscriptions("events"))
      names.push(subscription.subscriptionName);
    expect(names).toEqual(["audit", "billing", "ops"]);
    const ops = await admin.getSubscription("events", "ops");
    expect(ops).toMatchObject({ topicName: "events", subscriptionName: "ops", maxDeliveryCount: 3 });
  });

  test("lists the $Default rule, creates, updates and deletes rules", async () => {
    const rules = async () => {
      const found = [];
      for await (const rule of admin.listRules("events", "audit")) found.push(rule);
      return found;
    };
    expect(await rules()).toEqual([{ name: "$Default", filter: { sqlExpression: "1=1" }, action: {} }]);

    await admin.createRule("events", "audit", "victoria-replay", {
      sqlExpression: `"x-victoria-replay-to" = 'audit'`,
    });
    const $default = await admin.getRule("events", "audit", "$Default");
    await admin.updateRule("events", "audit", {
      ...$default,
      filter: { sqlExpression: `"x-victoria-replay-to" IS NULL` },
    });
    await admin.createRule("events", "audit", "gold", {
      applicationProperties: { tier: "gold" },
      subject: "s",
    });
    expect((await rules()).map((r) => [r.name, r.filter])).toEqual([
      ["$Default", { sqlExpression: `"x-victoria-replay-to" IS NULL` }],
      ["victoria-replay", { sqlExpression: `"x-victoria-replay-to" = 'audit'` }],
      ["gold", expect.objectContaining({ subject: "s", applicationProperties: { tier: "gold" } })],
    ]);

    const sender = client.createSender("events");
    await sender.sendMessages([
      { body: "for audit", applicationProperties: { "x-victoria-replay-to": "audit" } },
      { body: "for billing", applicationProperties: { "x-victoria-replay-to": "billing" } },
      { body: "normal" },
    ]);
    await sender.close();
    // Audit takes its own replay and normal traffic; billing and ops have $Default (all of it).
    expect(await receiveAll("events", "audit")).toEqual(["for audit", "normal"]);
    expect(await receiveAll("events", "billing")).toEqual(["for audit", "for billing", "normal"]);

    await admin.deleteRule("events", "audit", "gold");
    expect((await rules()).map((r) => r.name)).toEqual(["$Default", "victoria-replay"]);
  });

  test("pages with maxPageSize", async () => {
    const pages: string[][] = [];
    for await (const page of admin.listSubscriptions("events").byPage({ maxPageSize: 2 }))
      pages.push(page.map((s) => s.subscriptionName));
    expect(pages).toEqual([["audit", "billing"], ["ops"]]);
  });

  test("refuses bad SQL with 400 and says why", async () => {
    const error = await failureOf(
      admin.createRule("events", "billing", "broken", { sqlExpression: "color = 'red" }),
    );
    expect(error.statusCode).toBe(400);
    expect(error.message).toMatch(/unterminated string/);
  });

  test("a rule that exists cannot be created again; one that does not is not found", async () => {
    await admin.createRule("events", "ops", "twice", { sqlExpression: "1=1" });
    const conflict = await failureOf(admin.createRule("events", "ops", "twice", { sqlExpression: "1=1" }));
    expect(conflict).toMatchObject({ statusCode: 409, code: "MessageEntityAlreadyExistsError" });
    const missing = await failureOf(admin.getRule("events", "ops", "nope"));
    expect(missing).toMatchObject({ statusCode: 404, code: "MessageEntityNotFoundError" });
    const noTopic = await failureOf(admin.getSubscription("nope", "ops"));
    expect(noTopic.statusCode).toBe(404);
  });

  test("a request without a SAS token is refused with 401", async () => {
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(
        `https://127.0.0.1:${broker.port}/events/Subscriptions?api-version=2021-05`,
        { ca: broker.ca },
        (res) => {
          res.resume();
          resolve(res.statusCode);
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(401);
    const wrongKey = new ServiceBusAdministrationClient(
      broker.connectionString.replace("SharedAccessKey=stand-in", "SharedAccessKey=guess"),
      { tlsOptions: { ca: broker.ca } },
    );
    expect((await failureOf(wrongKey.getSubscription("events", "ops"))).statusCode).toBe(401);
  });

  test("an untrusted certificate is refused by the client", async () => {
    const untrusting = new ServiceBusAdministrationClient(broker.connectionString, {
      retryOptions: { maxRetries: 0 },
    });
    await expect(untrusting.getSubscription("events", "ops")).rejects.toThrow(/self-signed certificate/);
  });
});
