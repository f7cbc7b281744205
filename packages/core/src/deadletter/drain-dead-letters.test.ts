import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServiceBusClient } from "@azure/service-bus";
import { type ServiceBusStandIn, startServiceBusStandIn } from "@victoria/emulators/service-bus/broker";
import { type SlackStandIn, startSlackStandIn } from "@victoria/emulators/slack";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createServiceBusBus } from "../adapters/azure/service-bus-bus";
import { createFileVault } from "../adapters/local/file-vault";
import { createWebApiChat } from "../adapters/slack/web-api-chat";
import { createMemoryLogger } from "../logging/json-logger";
import type { Bus } from "./bus";
import type { EntityRef } from "./dead-letter";
import { type DrainDeps, type DrainReport, drainDeadLetters } from "./drain-dead-letters";
import { createDrainJobHandler } from "./drain-jobs";
import type { Vault } from "./vault";

const TOKEN = "xoxb-drain";
const CHANNEL = "C0ALERTS";
const QUEUE = "orders";
const DLQ = `${QUEUE}/$DeadLetterQueue`;
const SHORT_LOCK_QUEUE = "orders-short-lock";
const entity: EntityRef = { kind: "queue", queue: QUEUE };

let broker: ServiceBusStandIn;
let slack: SlackStandIn;
let bus: Bus;
let vault: Vault;
let reports: DrainReport[];

beforeAll(async () => {
  slack = await startSlackStandIn({ botToken: TOKEN, channels: [CHANNEL] });
});

afterAll(async () => {
  await slack.close();
});

beforeEach(async () => {
  // Long locks by default (a loaded CI machine must not lose them mid-drain); a short-lock queue
  // for the test where a dead connection's locks must expire within the test.
  broker = await startServiceBusStandIn({
    queues: [
      { name: QUEUE, lockDurationMs: 30_000 },
      { name: SHORT_LOCK_QUEUE, lockDurationMs: 1_500 },
    ],
  });
  bus = createServiceBusBus(
    (c) =>
      new ServiceBusClient(c, { retryOptions: { maxRetries: 2, retryDelayInMs: 200, timeoutInMs: 3_000 } }),
    { maxAutoLockRenewalDurationInMs: 0 },
  );
  vault = createFileVault(await mkdtemp(join(tmpdir(), "drain-vault-")));
  slack.reset();
  reports = [];
});

afterEach(async () => {
  await bus.close();
  await broker.close();
});

async function deadLetter(count: number, from = 0, queue = QUEUE) {
  for (let i = from; i < from + count; i++) {
    await broker.deadLetter(
      queue,
      {
        messageId: `msg-${i}`,
        body: { order: i, note: "ünïcode ✓" },
        contentType: "application/json",
        subject: "order.created",
        correlationId: `corr-${i}`,
        applicationProperties: { tenant: "acme", attempt: i },
      },
      { reason: i % 2 ? "MaxDeliveryCountExceeded" : "ProcessingError", description: `failed ${i}` },
    );
  }
}

function deps(overrides: Partial<DrainDeps> = {}): DrainDeps {
  return {
    bus,
    vault,
    chat: createWebApiChat({ token: TOKEN, slackApiUrl: slack.url, retryConfig: { retries: 0 } }),
    alertChannel: CHANNEL,
    logger: createMemoryLogger(),
    ...overrides,
  };
}

async function drain(overrides: Partial<DrainDeps> = {}, budgetMs = 15_000, target: EntityRef = entity) {
  const report = await drainDeadLetters(
    deps(overrides),
    { cluster: "prod1", namespace: "sb-prod1", entity: target, connection: broker.connectionString },
    { budgetMs, reserveMs: 1_000, waitMs: 1_000 },
  );
  reports.push(report);
  return report;
}

/** Nothing lost, nothing notified twice: every dead letter is on the DLQ or parked, notified once. */
async function expectInvariants(total: number, dlq = DLQ) {
  const onDlq = broker.depth(dlq).active + broker.depth(dlq).locked;
  const records = await vault.list();
  const completed = records.filter((r) => r.notification);
  expect(new Set(records.map((r) => r.message.messageId)).size).toBe(records.length);
  // Each message is still on the bus, or it was completed after being parked and notified.
  expect(onDlq + completed.length).toBeGreaterThanOrEqual(total);
  const notifiedTotal = reports.reduce((sum, r) => sum + r.notified, 0);
  expect(notifiedTotal).toBe(completed.length);
  return { onDlq, records, completed };
}

const waitForLocks = () => new Promise((resolve) => setTimeout(resolve, 1_700));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The real bus, each completion taking `ms` longer (a broker far away, or busy). */
function slowCompletions(inner: Bus, ms: number): Bus {
  return {
    ...inner,
    async receiver(connection, target, options) {
      const receiver = await inner.receiver(connection, target, options);
      return {
        ...receiver,
        async receive(max, waitMs) {
          return (await receiver.receive(max, waitMs)).map((locked) => ({
            ...locked,
            complete: async () => {
              await sleep(ms);
              await locked.complete();
            },
          }));
        },
      };
    },
  };
}

describe("dead-letter drain (real SDK over AMQP, file vault, Slack stand-in)", () => {
  it("drains 120 dead letters across batches: parked with everything, one notification, all completed", async () => {
    await deadLetter(120);
    const report = await drain();
    expect(report).toMatchObject({ received: 120, parked: 120, notified: 120, completed: 120, abandoned: 0 });
    expect(broker.depth(DLQ)).toMatchObject({ active: 0, locked: 0 });
    const posts = slack.calls.filter((c) => c.method === "chat.postMessage");
    expect(posts).toHaveLength(1);
    expect(String(posts[0]?.body.text)).toContain("120");
    const blocks = posts[0]?.body.blocks as { type: string }[];
    expect(blocks.length).toBeLessThanOrEqual(50);
    const records = await vault.list();
    expect(records).toHaveLength(120);
    const seven = records.find((r) => r.message.messageId === "msg-7");
    expect(seven).toMatchObject({
      cluster: "prod1",
      namespace: "sb-prod1",
      entity,
      state: "parked",
      notification: { channel: CHANNEL, id: report.notification?.id },
      message: {
        body: { kind: "json", value: { order: 7, note: "ünïcode ✓" } },
        contentType: "application/json",
        subject: "order.created",
        correlationId: "corr-7",
        deadLetterReason: "MaxDeliveryCountExceeded",
        deadLetterErrorDescription: "failed 7",
        applicationProperties: { tenant: "acme", attempt: 7 },
      },
    });
    await expectInvariants(120);
  });

  it("keeps every message on the bus when Slack is down, and notifies once when it is back", async () => {
    await deadLetter(30);
    const down = await drain({
      chat: createWebApiChat({ token: "xoxb-revoked", slackApiUrl: slack.url, retryConfig: { retries: 0 } }),
    });
    expect(down).toMatchObject({ received: 30, parked: 30, notified: 0, completed: 0, abandoned: 30 });
    expect(broker.depth(DLQ).active).toBe(30);
    const back = await drain();
    expect(back).toMatchObject({ received: 30, parked: 0, notified: 30, completed: 30 });
    expect(broker.depth(DLQ)).toMatchObject({ active: 0, locked: 0 });
    const { records } = await expectInvariants(30);
    expect(records).toHaveLength(30);
  });

  it("waits out Slack's 429 Retry-After and posts once", async () => {
    // Locks long enough to outlast the wait (in production the SDK renews them).
    broker.createQueue({ name: "slow-orders", lockDurationMs: 10_000 });
    await deadLetter(5, 0, "slow-orders");
    slack.rateLimit("chat.postMessage", 1, 1);
    const started = Date.now();
    const chat = createWebApiChat({ token: TOKEN, slackApiUrl: slack.url });
    const report = await drain({ chat }, 15_000, { kind: "queue", queue: "slow-orders" });
    expect(report).toMatchObject({ notified: 5, completed: 5 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    const posts = slack.calls.filter((c) => c.method === "chat.postMessage");
    expect(posts.map((c) => c.status)).toEqual([429, 200]);
  });

  it("keeps every message on the bus when the vault cannot be written, and posts nothing", async () => {
    await deadLetter(10);
    const broken: Vault = {
      ...vault,
      park: async () => {
        throw new Error("disk full");
      },
    };
    const report = await drain({ vault: broken });
    expect(report).toMatchObject({
      received: 10,
      parked: 0,
      notified: 0,
      completed: 0,
      abandoned: 10,
      stoppedBy: "error",
    });
    expect(broker.depth(DLQ).active).toBe(10);
    expect(slack.calls.filter((c) => c.method === "chat.postMessage")).toHaveLength(0);
  });

  it("loses nothing and notifies nothing twice when the connection drops mid-batch", {
    timeout: 60_000,
  }, async () => {
    await deadLetter(60, 0, SHORT_LOCK_QUEUE);
    const shortQueue: EntityRef = { kind: "queue", queue: SHORT_LOCK_QUEUE };
    const shortDlq = `${SHORT_LOCK_QUEUE}/$DeadLetterQueue`;
    let parks = 0;
    const dropping: Vault = {
      ...vault,
      park: async (record) => {
        if (++parks === 25) broker.dropConnections();
        return vault.park(record);
      },
    };
    await drain({ vault: dropping }, 15_000, shortQueue);
    // Whatever was left locked by the dead connection comes back once its lock expires.
    for (
      let round = 0;
      round < 4 && broker.depth(shortDlq).active + broker.depth(shortDlq).locked > 0;
      round++
    ) {
      await waitForLocks();
      await drain({}, 15_000, shortQueue);
    }
    expect(broker.depth(shortDlq)).toMatchObject({ active: 0, locked: 0 });
    const { completed, records } = await expectInvariants(60, shortDlq);
    expect(records).toHaveLength(60);
    expect(completed).toHaveLength(60);
  });

  it("completes every message within the budget even when completing them outlasts the reserve", async () => {
    await deadLetter(120);
    // 120 completions of 250 ms, 16 at a time: ~2 s, twice the 1 s reserve, well within the budget.
    const report = await drain({ bus: slowCompletions(bus, 250) });
    expect(report).toMatchObject({ received: 120, notified: 120, completed: 120, abandoned: 0 });
    expect(broker.depth(DLQ)).toMatchObject({ active: 0, locked: 0 });
    const { completed } = await expectInvariants(120);
    expect(completed).toHaveLength(120);
  });

  it("abandons, never completes, a message whose record could not be marked notified", async () => {
    await deadLetter(10);
    // The last one fails: its abandon follows its neighbour's completion (see toAbandon).
    let marks = 0;
    const flaky: Vault = {
      ...vault,
      markNotified: async (id, notification) => {
        if (++marks === 10) throw new Error("disk full");
        return vault.markNotified(id, notification);
      },
    };
    const first = await drain({ vault: flaky });
    expect(first).toMatchObject({ received: 10, notified: 10, completed: 9, abandoned: 1 });
    expect(broker.depth(DLQ)).toMatchObject({ active: 1, locked: 0 });
    const unmarked = (await vault.list()).filter((r) => !r.notification);
    expect(unmarked).toHaveLength(1);
    // The next drain notifies it (better twice than never) and only then completes it.
    const second = await drain();
    expect(second).toMatchObject({ received: 1, parked: 0, notified: 1, alreadyNotified: 0, completed: 1 });
    expect(broker.depth(DLQ)).toMatchObject({ active: 0, locked: 0 });
    expect((await vault.list()).every((r) => r.notification)).toBe(true);
  });

  it("stops receiving when the time budget runs out and leaves the rest on the bus", async () => {
    await deadLetter(80);
    const slow: Vault = {
      ...vault,
      park: async (record) => {
        await new Promise((resolve) => setTimeout(resolve, 15));
        return vault.park(record);
      },
    };
    // 700 ms to receive (budget less reserve): the first batch of 50 takes ~750 ms to park.
    const first = await drain({ vault: slow }, 1_700);
    expect(first.stoppedBy).toBe("budget");
    expect(first.completed).toBeGreaterThan(0);
    expect(first.completed).toBeLessThan(80);
    expect(broker.depth(DLQ).active + broker.depth(DLQ).locked).toBe(80 - first.completed);
    await drain();
    expect(broker.depth(DLQ)).toMatchObject({ active: 0, locked: 0 });
    const { completed } = await expectInvariants(80);
    expect(completed).toHaveLength(80);
  });

  it.each([
    ["a queue", { kind: "queue", queue: "no-such-queue" }],
    ["a subscription", { kind: "subscription", topic: "no-such-topic", subscription: "audit" }],
  ] as const)(
    "stops at once with entity-not-found for %s that does not exist, posting nothing",
    async (_, target) => {
      const report = await drain({}, 15_000, target);
      expect(report).toMatchObject({ received: 0, parked: 0, notified: 0, stoppedBy: "entity-not-found" });
      expect(slack.calls.filter((c) => c.method === "chat.postMessage")).toHaveLength(0);
    },
  );
});

describe("grouping (DEAD_LETTER_GROUP_WINDOW)", () => {
  const HOUR = 3_600_000;
  const posts = () => slack.calls.filter((c) => c.method === "chat.postMessage");
  const updates = () => slack.calls.filter((c) => c.method === "chat.update");
  /** The notification's header count, as the channel shows it now. */
  const headline = (call: { body: Record<string, unknown> }) =>
    JSON.stringify((call.body.blocks as unknown[])[0]).match(/(\d+) dead letters?/)?.[1];

  it("one notification per reason; a later drain of the same entity and reason updates it", async () => {
    await deadLetter(4); // msg-0..3: two ProcessingError, two MaxDeliveryCountExceeded
    const first = await drain({ groupWindowMs: HOUR });
    expect(first).toMatchObject({ notified: 4, grouped: 0, completed: 4 });
    expect(posts()).toHaveLength(2);
    expect(posts().map(headline)).toEqual(["2", "2"]);

    await deadLetter(3, 10); // msg-10 (ProcessingError), 11, 12
    const second = await drain({ groupWindowMs: HOUR });
    expect(second).toMatchObject({ notified: 3, grouped: 3, completed: 3 });
    expect(second.notification).toBeUndefined();
    expect(posts()).toHaveLength(2);
    expect(updates().map(headline).sort()).toEqual(["4", "3"].sort());
    // Each reason's records are covered by one notification, the one first posted for it.
    const records = await vault.list();
    expect(new Set(records.map((r) => r.notification?.id)).size).toBe(2);
    for (const reason of ["ProcessingError", "MaxDeliveryCountExceeded"]) {
      const ids = new Set(
        records.filter((r) => r.message.deadLetterReason === reason).map((r) => r.notification?.id),
      );
      expect(ids.size, reason).toBe(1);
    }
    await expectInvariants(7);
  });

  it("finds the open notification past a drain's own records (more than the look-back of 50 per reason)", async () => {
    await deadLetter(2);
    await drain({ groupWindowMs: HOUR });
    expect(posts()).toHaveLength(2);
    await deadLetter(120, 10); // 60 of each reason, parked newer than the notified two
    const second = await drain({ groupWindowMs: HOUR });
    expect(second).toMatchObject({ notified: 120, grouped: 120 });
    expect(posts()).toHaveLength(2);
    expect(new Set((await vault.list()).map((r) => r.notification?.id)).size).toBe(2);
  });

  it("posts anew once the open notification is older than the window", async () => {
    let clock = Date.parse("2026-12-06T10:00:00.000Z");
    const now = () => new Date(clock);
    await deadLetter(1, 1); // MaxDeliveryCountExceeded
    await drain({ groupWindowMs: HOUR, now });
    clock += HOUR + 1;
    await deadLetter(1, 3);
    const later = await drain({ groupWindowMs: HOUR, now });
    expect(later).toMatchObject({ notified: 1, grouped: 0 });
    expect(posts()).toHaveLength(2);
    expect(updates()).toHaveLength(0);
  });

  it("marks nothing when neither the open notification can be updated nor a new one posted", async () => {
    await deadLetter(1, 1); // MaxDeliveryCountExceeded
    await drain({ groupWindowMs: HOUR });
    await deadLetter(1, 3);
    const revoked = createWebApiChat({
      token: "xoxb-revoked",
      slackApiUrl: slack.url,
      retryConfig: { retries: 0 },
    });
    const down = await drain({ groupWindowMs: HOUR, chat: revoked });
    expect(down).toMatchObject({ received: 1, notified: 0, grouped: 0, completed: 0, abandoned: 1 });
    // Not marked as covered by a notification that does not show it: the next drain announces it.
    const three = (await vault.list()).find((r) => r.message.messageId === "msg-3");
    expect(three?.notification).toBeUndefined();
    const back = await drain({ groupWindowMs: HOUR });
    expect(back).toMatchObject({ received: 1, notified: 1, grouped: 1, alreadyNotified: 0, completed: 1 });
    const last = updates().at(-1);
    expect(last && headline(last)).toBe("2");
    expect(broker.depth(DLQ)).toMatchObject({ active: 0, locked: 0 });
  });

  it("without a window every drain posts one notification for all it parked", async () => {
    await deadLetter(2);
    await drain();
    await deadLetter(2, 2);
    await drain();
    expect(posts()).toHaveLength(2);
    expect(posts().map(headline)).toEqual(["2", "2"]);
    expect(updates()).toHaveLength(0);
  });

  it("posts anew when the open notification cannot be updated (deleted in Slack), losing nothing", async () => {
    await deadLetter(1, 1);
    await drain({ groupWindowMs: HOUR });
    // The message it points at is gone: chat.update answers message_not_found.
    const [parked] = await vault.list();
    if (!parked?.notification) throw new Error("expected a notified record");
    await vault.markNotified(parked.id, { ...parked.notification, ts: "1.000001" });
    await deadLetter(1, 3);
    const second = await drain({ groupWindowMs: HOUR });
    expect(second.notified).toBe(1);
    expect(second.grouped).toBe(0);
    expect(posts()).toHaveLength(2);
    const newest = (await vault.list()).find((r) => r.message.messageId === "msg-3");
    expect(newest?.notification?.id).toBe(second.notification?.id);
    await expectInvariants(2);
  });
});

describe("a backlog bigger than one drain holds (drain job rounds)", () => {
  it("drains it all in rounds, one notification grouped across them, nothing lost", async () => {
    await deadLetter(12);
    const handler = createDrainJobHandler({
      ...deps({ groupWindowMs: 3_600_000 }),
      connections: { prod1: broker.connectionString },
      drainOptions: () => ({ budgetMs: 15_000, reserveMs: 1_000, waitMs: 500, maxMessages: 5 }),
    });
    const last = await handler({ cluster: "prod1", namespace: "sb-prod1", entity });
    expect(last?.stoppedBy).toBe("empty");
    expect(broker.depth(DLQ)).toMatchObject({ active: 0, locked: 0 });
    const records = await vault.list();
    expect(records).toHaveLength(12);
    expect(records.every((r) => r.notification)).toBe(true);
    // Two reasons: one notification each, the later rounds updating them.
    expect(new Set(records.map((r) => r.notification?.id)).size).toBe(2);
    expect(slack.calls.filter((c) => c.method === "chat.postMessage")).toHaveLength(2);
  });

  it("ends with the DLQ empty when each round's completions outlast the reserve", async () => {
    await deadLetter(200);
    const handler = createDrainJobHandler({
      ...deps({ groupWindowMs: 3_600_000, bus: slowCompletions(bus, 250) }),
      connections: { prod1: broker.connectionString },
      // 100 completions of 250 ms, 16 at a time: ~1.75 s a round against a 1 s reserve.
      drainOptions: () => ({ budgetMs: 15_000, reserveMs: 1_000, waitMs: 500, maxMessages: 100 }),
    });
    await handler({ cluster: "prod1", namespace: "sb-prod1", entity });
    expect(broker.depth(DLQ)).toMatchObject({ active: 0, locked: 0 });
    const records = await vault.list();
    expect(records).toHaveLength(200);
    expect(records.every((r) => r.notification)).toBe(true);
    expect(slack.calls.filter((c) => c.method === "chat.postMessage")).toHaveLength(2);
  });
});
