import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ServiceBusClient,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
} from "@azure/service-bus";
import { createMemoryLogger } from "@victoria/core/logging/json-logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalServer } from "../src/local-server";
import { readLocalServiceBusEntities } from "../src/local-service-bus-entities";
import { type SpawnedServer, spawnLocalServer } from "./spawn-local-server";

/**
 * LOCAL_SERVICE_BUS_ENTITIES over the wire: `npm start`'s entry point with a topic of two
 * subscriptions and a queue that gives up after two deliveries, reached with the real SDK through
 * the connection string the banner prints and the workbench's config API serves.
 */

const ENTITIES = {
  queues: [{ name: "payments", maxDeliveryCount: 2 }],
  topics: [
    {
      name: "events",
      subscriptions: [
        "audit",
        // Its rule replaces $Default: only messages whose id starts with `e-`.
        {
          name: "billing",
          maxDeliveryCount: 5,
          rules: [{ name: "e-ids", sqlFilter: "sys.MessageId LIKE 'e-%'" }],
        },
      ],
    },
  ],
};

let dir: string;
let server: SpawnedServer;
let client: ServiceBusClient;
let connectionString: string;
const receivers: ServiceBusReceiver[] = [];

/** The banner is one write after the "listening on" line; wait until its Service Bus lines are in. */
async function banner(): Promise<string> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const text = server.logs.join("");
    if (/connection string \(SDK, Service Bus Explorer\): \S+/.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`no Service Bus lines in the banner: ${text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function receiveOne(receiver: ServiceBusReceiver): Promise<ServiceBusReceivedMessage> {
  for (let round = 0; round < 10; round++) {
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 1_000 });
    if (message) return message;
  }
  throw new Error("no message arrived");
}

/** Closed after the tests. */
function tracked(created: ServiceBusReceiver): ServiceBusReceiver {
  receivers.push(created);
  return created;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "local-service-bus-"));
  // `@<path>`, relative to the folder the server runs in.
  await writeFile(join(dir, "entities.json"), JSON.stringify(ENTITIES));
  server = await spawnLocalServer(
    {
      LOCAL_SERVICE_BUS_ENTITIES: "@entities.json",
      VAULT_DIR: join(dir, "vault"),
      AUDIT_LOG_FILE: join(dir, "audit.jsonl"),
      FAILED_REQUESTS_QUEUE: "",
    },
    { cwd: dir, startTimeoutMs: 30_000 },
  );
  connectionString = /connection string \(SDK, Service Bus Explorer\): (\S+)/.exec(await banner())?.[1] ?? "";
  client = new ServiceBusClient(connectionString, {
    retryOptions: { maxRetries: 2, retryDelayInMs: 100, timeoutInMs: 5_000 },
  });
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await client?.close();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("the embedded Service Bus of npm start", () => {
  it("prints its entities and its connection string, whose key is the fixed development value", async () => {
    const text = await banner();
    expect(text).toContain(
      "Service Bus: embedded broker, cluster 'local' (namespace victoria-local), " +
        "queues payments (max deliveries 2), victoria-failed-requests; " +
        "topics events → audit, billing (max deliveries 5) (LOCAL_SERVICE_BUS_ENTITIES)",
    );
    expect(connectionString).toMatch(
      /^Endpoint=sb:\/\/127\.0\.0\.1:\d+;SharedAccessKeyName=stand-in;SharedAccessKey=stand-in;UseDevelopmentEmulator=true$/,
    );
  });

  it("serves the same connection string and the entities in the workbench's config API", async () => {
    const config = (await (await fetch(`${server.url}/workbench/api/config`)).json()) as {
      bus: Record<string, unknown>;
    };
    expect(config.bus).toEqual({
      embedded: true,
      namespace: "victoria-local",
      // The failed-requests queue is always there: added when the setting leaves it out.
      queues: ["payments", "victoria-failed-requests"],
      topics: [{ name: "events", subscriptions: ["audit", "billing"] }],
      connectionString,
    });
  });

  it("delivers what the SDK sends to the topic to each subscription", async () => {
    await client.createSender("events").sendMessages({ body: { order: 7 }, messageId: "e-1" });
    for (const subscription of ["audit", "billing"]) {
      const sub = tracked(
        client.createReceiver("events", subscription, { maxAutoLockRenewalDurationInMs: 0 }),
      );
      const message = await receiveOne(sub);
      expect(message).toMatchObject({ body: { order: 7 }, messageId: "e-1" });
      await sub.completeMessage(message);
    }
  });

  it("copies a message only to the subscriptions whose rules match it", async () => {
    await client.createSender("events").sendMessages({ body: "audit only", messageId: "x-2" });
    const audit = tracked(client.createReceiver("events", "audit", { receiveMode: "receiveAndDelete" }));
    expect((await receiveOne(audit)).messageId).toBe("x-2");
    const billing = tracked(client.createReceiver("events", "billing", { receiveMode: "receiveAndDelete" }));
    expect(await billing.receiveMessages(1, { maxWaitTimeInMs: 500 })).toEqual([]);
  });

  it("dead-letters a queue's message after its maxDeliveryCount of 2", async () => {
    await client.createSender("payments").sendMessages({ body: "poison", messageId: "p-1" });
    const queue = tracked(client.createReceiver("payments", { maxAutoLockRenewalDurationInMs: 0 }));
    for (const attempt of [0, 1]) {
      const message = await receiveOne(queue);
      expect(message.deliveryCount).toBe(attempt);
      await queue.abandonMessage(message);
    }
    const dead = await receiveOne(tracked(client.createReceiver("payments", { subQueueType: "deadLetter" })));
    expect(dead).toMatchObject({
      body: "poison",
      deadLetterReason: "MaxDeliveryCountExceeded",
      deadLetterErrorDescription: "Message could not be consumed after 2 delivery attempts.",
    });
  });

  it("refuses to start on a bad value, in one line naming the setting and the problem", async () => {
    const refused = spawnLocalServer(
      {
        LOCAL_SERVICE_BUS_ENTITIES: JSON.stringify({
          topics: [
            {
              name: "events",
              subscriptions: [{ name: "audit", rules: [{ name: "red", sqlFilter: "color = 'red" }] }],
            },
          ],
        }),
        VAULT_DIR: join(dir, "vault-refused"),
        AUDIT_LOG_FILE: join(dir, "audit-refused.jsonl"),
      },
      { cwd: dir, startTimeoutMs: 30_000 },
    );
    const error = await refused.then(
      () => new Error("it started"),
      (e: Error) => e,
    );
    const [, output = ""] = /^server exited with 1: ([\s\S]*)$/.exec(error.message) ?? [];
    expect(output.trimEnd().split("\n")).toEqual([
      "Could not start the local server: LOCAL_SERVICE_BUS_ENTITIES is invalid: topic 'events' subscription 'audit': " +
        "The SQL filter expression 'color = 'red' is invalid: unterminated string at position 9.",
    ]);
  });
});

describe("LOCAL_SERVICE_BUS_ENTITIES", () => {
  const defaults = {
    failedRequestsQueue: "victoria-failed-requests",
    defaultQueues: ["orders", "victoria-failed-requests"],
  };

  it("defaults to today's queues: the demo queue and the failed-requests queue", () => {
    expect(readLocalServiceBusEntities({}, defaults)).toEqual({
      queues: [{ name: "orders" }, { name: "victoria-failed-requests" }],
      topics: [],
    });
  });

  it("keeps the options given for the failed-requests queue, and adds it only when missing", () => {
    const listed = readLocalServiceBusEntities(
      {
        LOCAL_SERVICE_BUS_ENTITIES:
          '{"queues": [{"name": "Victoria-Failed-Requests", "maxDeliveryCount": 3}]}',
      },
      defaults,
    );
    expect(listed.queues).toEqual([{ name: "Victoria-Failed-Requests", maxDeliveryCount: 3 }]);
    expect(readLocalServiceBusEntities({ LOCAL_SERVICE_BUS_ENTITIES: "{}" }, defaults).queues).toEqual([
      { name: "victoria-failed-requests" },
    ]);
  });

  it.each([
    ["not JSON", "{queues", /^LOCAL_SERVICE_BUS_ENTITIES is not JSON \(.*\); expected \{"queues"/],
    [
      "a missing file",
      "@no-such-file.json",
      /^LOCAL_SERVICE_BUS_ENTITIES names a file that cannot be read \(ENOENT/,
    ],
    [
      "an unknown key",
      '{"queue": []}',
      /^LOCAL_SERVICE_BUS_ENTITIES is invalid: \(top level\): Unrecognized key: "queue"$/,
    ],
    [
      "a maxDeliveryCount below 1",
      '{"queues": [{"name": "q", "maxDeliveryCount": 0}]}',
      /^LOCAL_SERVICE_BUS_ENTITIES is invalid: queues\.0\.maxDeliveryCount: Too small/,
    ],
    [
      "a bad name",
      '{"queues": ["no spaces"]}',
      /^LOCAL_SERVICE_BUS_ENTITIES is invalid: queues\.0\.name: must be/,
    ],
    [
      "a name used twice",
      '{"queues": ["orders"], "topics": [{"name": "Orders", "subscriptions": ["s"]}]}',
      /^LOCAL_SERVICE_BUS_ENTITIES is invalid: 'Orders' names two queues or topics/,
    ],
    [
      "a subscription named twice",
      '{"topics": [{"name": "t", "subscriptions": ["s", {"name": "S"}]}]}',
      /^LOCAL_SERVICE_BUS_ENTITIES is invalid: topic 't' names subscription 'S' twice$/,
    ],
    [
      "a topic with no subscription",
      '{"topics": [{"name": "t", "subscriptions": []}]}',
      /^LOCAL_SERVICE_BUS_ENTITIES is invalid: topics\.0\.subscriptions: a topic needs a subscription$/,
    ],
    [
      "a topic named like the failed-requests queue",
      '{"topics": [{"name": "victoria-failed-requests", "subscriptions": ["s"]}]}',
      /^LOCAL_SERVICE_BUS_ENTITIES is invalid: 'victoria-failed-requests' is FAILED_REQUESTS_QUEUE, so it must be a queue/,
    ],
  ])("refuses %s before any stand-in starts", async (_, value, expected) => {
    const logger = createMemoryLogger();
    const start = startLocalServer({ env: { PORT: "0", LOCAL_SERVICE_BUS_ENTITIES: value }, logger });
    await expect(start).rejects.toThrow(expected);
  });
});
