import {
  isServiceBusError,
  ServiceBusClient,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
  type ServiceBusReceiverOptions,
} from "@azure/service-bus";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type ServiceBusStandIn, startServiceBusStandIn } from "./broker";

// One broker and one client for the file; every test uses its own entities. The broker's clock
// runs `skew` ahead of the real one, so tests can make locks expire or schedules come due at once.
let skew = 0;
let broker: ServiceBusStandIn;
let client: ServiceBusClient;
const receivers: ServiceBusReceiver[] = [];

beforeAll(async () => {
  broker = await startServiceBusStandIn({ now: () => Date.now() + skew });
  client = new ServiceBusClient(broker.connectionString, {
    retryOptions: { maxRetries: 2, retryDelayInMs: 100, timeoutInMs: 5_000 },
  });
});

afterAll(async () => {
  await client?.close();
  await broker?.close();
});

/** Peek-lock receiver without automatic lock renewal (it would race the skewed clock). */
function receiverFor(entity: string, options: ServiceBusReceiverOptions = {}): ServiceBusReceiver {
  const receiver = client.createReceiver(entity, { maxAutoLockRenewalDurationInMs: 0, ...options });
  receivers.push(receiver);
  return receiver;
}

function subscriptionReceiver(topic: string, subscription: string, options: ServiceBusReceiverOptions = {}) {
  const receiver = client.createReceiver(topic, subscription, {
    maxAutoLockRenewalDurationInMs: 0,
    ...options,
  });
  receivers.push(receiver);
  return receiver;
}

/** Receives until `count` messages arrived (or `rounds` calls came back short). */
async function receiveCount(receiver: ServiceBusReceiver, count: number, batch = count, rounds = 20) {
  const received: ServiceBusReceivedMessage[] = [];
  for (let round = 0; round < rounds && received.length < count; round++) {
    received.push(
      ...(await receiver.receiveMessages(Math.min(batch, count - received.length), {
        maxWaitTimeInMs: 1_000,
      })),
    );
  }
  return received;
}

async function expectServiceBusError(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isServiceBusError(error), String(error)).toBe(true);
  expect((error as { code: string }).code).toBe(code);
}

describe("queues", () => {
  test("send, receive and complete", async () => {
    broker.createQueue("basic");
    await client.createSender("basic").sendMessages({
      body: { hello: "world" },
      messageId: "m-1",
      subject: "greeting",
      contentType: "application/json",
      correlationId: "c-1",
      applicationProperties: { attempt: 3, urgent: true },
    });
    expect(broker.depth("basic")).toMatchObject({ active: 1, locked: 0 });

    const receiver = receiverFor("basic");
    const before = Date.now() + skew;
    const [message] = await receiveCount(receiver, 1);
    expect(message).toMatchObject({
      body: { hello: "world" },
      messageId: "m-1",
      subject: "greeting",
      contentType: "application/json",
      correlationId: "c-1",
      applicationProperties: { attempt: 3, urgent: true },
      deliveryCount: 0,
      state: "active",
    });
    expect(message?.sequenceNumber?.toNumber()).toBe(1);
    expect(message?.lockToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(message?.lockedUntilUtc?.getTime()).toBeGreaterThanOrEqual(before + 60_000);
    expect(broker.depth("basic")).toMatchObject({ active: 0, locked: 1 });

    await receiver.completeMessage(message as ServiceBusReceivedMessage);
    expect(broker.depth("basic")).toEqual({ active: 0, locked: 0, deferred: 0, scheduled: 0, deadLetter: 0 });
  });

  test("abandon counts a delivery, applies the property changes and redelivers", async () => {
    broker.createQueue("abandon");
    await client.createSender("abandon").sendMessages({ body: "again", applicationProperties: { a: 1 } });
    const receiver = receiverFor("abandon");
    const [first] = await receiveCount(receiver, 1);
    await receiver.abandonMessage(first as ServiceBusReceivedMessage, { reason: "busy" });

    const [second] = await receiveCount(receiver, 1);
    expect(second).toMatchObject({
      body: "again",
      deliveryCount: 1,
      applicationProperties: { a: 1, reason: "busy" },
    });
    expect(second?.lockToken).not.toBe(first?.lockToken);
    await receiver.completeMessage(second as ServiceBusReceivedMessage);
    expect(broker.depth("abandon").active).toBe(0);
  });

  test("a message past the max delivery count goes to the dead-letter queue", async () => {
    broker.createQueue({ name: "poison", maxDeliveryCount: 3 });
    await client.createSender("poison").sendMessages({ body: "bad", messageId: "p-1" });
    const receiver = receiverFor("poison");
    for (let attempt = 0; attempt < 3; attempt++) {
      const [message] = await receiveCount(receiver, 1);
      expect(message?.deliveryCount).toBe(attempt);
      await receiver.abandonMessage(message as ServiceBusReceivedMessage);
    }
    expect(broker.depth("poison")).toMatchObject({ active: 0, locked: 0, deadLetter: 1 });

    const deadLetters = receiverFor("poison", { subQueueType: "deadLetter" });
    const [dead] = await receiveCount(deadLetters, 1);
    expect(dead).toMatchObject({
      body: "bad",
      messageId: "p-1",
      deadLetterReason: "MaxDeliveryCountExceeded",
      deadLetterErrorDescription: "Message could not be consumed after 3 delivery attempts.",
      deadLetterSource: "poison",
    });
    await deadLetters.completeMessage(dead as ServiceBusReceivedMessage);
    expect(broker.depth("poison").deadLetter).toBe(0);
  });

  test("deadLetterMessage keeps the message whole and records reason and description", async () => {
    broker.createQueue("explicit");
    await client.createSender("explicit").sendMessages({
      body: { order: 42 },
      messageId: "o-42",
      subject: "order.created",
      correlationId: "corr-42",
      contentType: "application/json",
      applicationProperties: { tenant: "t1", amount: 12.5 },
    });
    const receiver = receiverFor("explicit");
    const [message] = await receiveCount(receiver, 1);
    await receiver.deadLetterMessage(message as ServiceBusReceivedMessage, {
      deadLetterReason: "ValidationFailed",
      deadLetterErrorDescription: "amount must be an integer",
    });
    expect(broker.depth("explicit")).toMatchObject({ active: 0, locked: 0, deadLetter: 1 });

    const [parked] = broker.peekAll("explicit/$DeadLetterQueue");
    expect(parked).toMatchObject({
      deadLetterReason: "ValidationFailed",
      body: { order: 42 },
      status: "active",
    });

    const deadLetters = receiverFor("explicit", { subQueueType: "deadLetter" });
    const [dead] = await receiveCount(deadLetters, 1);
    expect(dead).toMatchObject({
      body: { order: 42 },
      messageId: "o-42",
      subject: "order.created",
      correlationId: "corr-42",
      contentType: "application/json",
      deadLetterReason: "ValidationFailed",
      deadLetterErrorDescription: "amount must be an integer",
      applicationProperties: { tenant: "t1", amount: 12.5 },
    });
    await deadLetters.completeMessage(dead as ServiceBusReceivedMessage);
    expect(broker.depth("explicit").deadLetter).toBe(0);
  });

  test("120 messages sent in batches arrive exactly once through receives of 50", async () => {
    broker.createQueue("bulk");
    const sender = client.createSender("bulk");
    let batch = await sender.createMessageBatch();
    for (let i = 0; i < 120; i++) {
      const message = { body: { i }, messageId: `bulk-${i}` };
      if (!batch.tryAddMessage(message)) {
        await sender.sendMessages(batch);
        batch = await sender.createMessageBatch();
        expect(batch.tryAddMessage(message)).toBe(true);
      }
    }
    await sender.sendMessages(batch);
    expect(broker.depth("bulk").active).toBe(120);

    const receiver = receiverFor("bulk");
    const seen = new Set<string>();
    for (let round = 0; round < 10 && seen.size < 120; round++) {
      const messages = await receiver.receiveMessages(50, { maxWaitTimeInMs: 1_000 });
      expect(messages.length).toBeLessThanOrEqual(50);
      for (const message of messages) {
        expect(seen.has(String(message.messageId))).toBe(false);
        seen.add(String(message.messageId));
        await receiver.completeMessage(message);
      }
    }
    expect(seen.size).toBe(120);
    expect(broker.depth("bulk")).toMatchObject({ active: 0, locked: 0 });
  });

  test("sendMessages with an array and peekMessages (locked messages included)", async () => {
    broker.createQueue("peek");
    await client
      .createSender("peek")
      .sendMessages([1, 2, 3, 4, 5].map((n) => ({ body: n, messageId: `peek-${n}` })));
    const receiver = receiverFor("peek");
    const [locked] = await receiveCount(receiver, 1);
    expect(locked?.body).toBe(1);

    const first = await receiver.peekMessages(3);
    expect(first.map((m) => m.body)).toEqual([1, 2, 3]);
    expect(first[0]?.lockToken).toBeUndefined();
    const rest = await receiver.peekMessages(10);
    expect(rest.map((m) => m.body)).toEqual([4, 5]);
    expect(await receiver.peekMessages(10)).toEqual([]);
    const again = await receiver.peekMessages(2, { fromSequenceNumber: first[1]?.sequenceNumber });
    expect(again.map((m) => m.body)).toEqual([2, 3]);
    expect(broker.depth("peek")).toMatchObject({ active: 4, locked: 1 });
  });

  test("renewMessageLock pushes the lock out", async () => {
    broker.createQueue({ name: "renew", lockDurationMs: 10_000 });
    await client.createSender("renew").sendMessages({ body: "long job" });
    const receiver = receiverFor("renew");
    const [message] = await receiveCount(receiver, 1);
    const firstUntil = message?.lockedUntilUtc?.getTime() ?? 0;

    skew += 8_000;
    const renewed = await receiver.renewMessageLock(message as ServiceBusReceivedMessage);
    expect(renewed.getTime()).toBeGreaterThanOrEqual(firstUntil + 8_000);
    expect(message?.lockedUntilUtc?.getTime()).toBe(renewed.getTime());

    skew += 8_000; // past the first lock, within the renewed one
    expect(broker.depth("renew")).toMatchObject({ locked: 1, active: 0 });
    await receiver.completeMessage(message as ServiceBusReceivedMessage);
    expect(broker.depth("renew").locked).toBe(0);
  });

  test("an expired lock makes the message available again and settling it fails with MessageLockLost", async () => {
    broker.createQueue({ name: "expiry", lockDurationMs: 5_000 });
    await client.createSender("expiry").sendMessages({ body: "slow" });
    const receiver = receiverFor("expiry");
    const [stale] = await receiveCount(receiver, 1);

    skew += 6_000;
    expect(broker.depth("expiry")).toMatchObject({ active: 1, locked: 0 });
    await expectServiceBusError(
      receiver.completeMessage(stale as ServiceBusReceivedMessage),
      "MessageLockLost",
    );
    await expectServiceBusError(
      receiver.renewMessageLock(stale as ServiceBusReceivedMessage),
      "MessageLockLost",
    );

    const [fresh] = await receiveCount(receiver, 1);
    expect(fresh).toMatchObject({ body: "slow", deliveryCount: 1 });
    await receiver.completeMessage(fresh as ServiceBusReceivedMessage);
    expect(broker.depth("expiry")).toMatchObject({ active: 0, locked: 0 });
  });

  test("lock expiry wakes a waiting receiver on its own", async () => {
    broker.createQueue({ name: "expiry-timer", lockDurationMs: 300 });
    await client.createSender("expiry-timer").sendMessages({ body: "tick" });
    const receiver = receiverFor("expiry-timer");
    await receiveCount(receiver, 1);
    const [again] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 3_000 });
    expect(again).toMatchObject({ body: "tick", deliveryCount: 1 });
    await receiver.completeMessage(again as ServiceBusReceivedMessage);
  });

  test("defer, then receiveDeferredMessages and complete", async () => {
    broker.createQueue("defer");
    await client.createSender("defer").sendMessages({ body: "later" });
    const receiver = receiverFor("defer");
    const [message] = await receiveCount(receiver, 1);
    await receiver.deferMessage(message as ServiceBusReceivedMessage);
    expect(broker.depth("defer")).toMatchObject({ active: 0, deferred: 1 });
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 200 })).toEqual([]);

    const [deferred] = await receiver.receiveDeferredMessages(
      message?.sequenceNumber as NonNullable<ServiceBusReceivedMessage["sequenceNumber"]>,
    );
    expect(deferred).toMatchObject({ body: "later", state: "deferred" });
    await receiver.completeMessage(deferred as ServiceBusReceivedMessage);
    expect(broker.depth("defer")).toMatchObject({ active: 0, deferred: 0, locked: 0 });
  });

  test("scheduled messages wait for their time; cancelled ones never come", async () => {
    broker.createQueue("scheduled");
    const sender = client.createSender("scheduled");
    const at = new Date(Date.now() + skew + 60_000);
    const [kept, cancelled] = await sender.scheduleMessages([{ body: "kept" }, { body: "cancelled" }], at);
    await sender.cancelScheduledMessages(cancelled as NonNullable<typeof cancelled>);
    expect(kept?.toNumber()).toBeGreaterThan(0);
    expect(broker.depth("scheduled")).toMatchObject({ active: 0, scheduled: 1 });

    const receiver = receiverFor("scheduled");
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 200 })).toEqual([]);
    skew += 61_000;
    const [due] = await receiveCount(receiver, 1);
    expect(due?.body).toBe("kept");
    await receiver.completeMessage(due as ServiceBusReceivedMessage);
  });

  test("receiveAndDelete takes messages off the queue at once", async () => {
    broker.createQueue("delete-mode");
    await client.createSender("delete-mode").sendMessages([{ body: 1 }, { body: 2 }]);
    const receiver = receiverFor("delete-mode", { receiveMode: "receiveAndDelete" });
    const messages = await receiveCount(receiver, 2);
    expect(messages.map((m) => m.body)).toEqual([1, 2]);
    expect(messages[0]?.lockToken).toBeUndefined();
    expect(broker.depth("delete-mode")).toMatchObject({ active: 0, locked: 0 });
  });

  test("subscribe() delivers to a streaming handler", async () => {
    broker.createQueue("streaming");
    await client.createSender("streaming").sendMessages([{ body: "a" }, { body: "b" }]);
    const receiver = receiverFor("streaming");
    const bodies: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      const subscription = receiver.subscribe(
        {
          async processMessage(message) {
            await receiver.completeMessage(message);
            bodies.push(message.body);
            if (bodies.length === 2) void subscription.close().then(resolve);
          },
          async processError(args) {
            reject(args.error);
          },
        },
        { autoCompleteMessages: false },
      );
    });
    expect(bodies).toEqual(["a", "b"]);
    expect(broker.depth("streaming")).toMatchObject({ active: 0, locked: 0 });
  });
});

describe("topics", () => {
  test("every subscription gets a copy, with its own dead-letter queue", async () => {
    broker.createTopic({
      name: "events",
      subscriptions: ["audit", { name: "billing", maxDeliveryCount: 5 }],
    });
    await client.createSender("events").sendMessages({ body: { kind: "paid" }, messageId: "e-1" });
    expect(broker.depth("events/Subscriptions/audit").active).toBe(1);
    expect(broker.depth("events/Subscriptions/billing").active).toBe(1);

    const audit = subscriptionReceiver("events", "audit");
    const [message] = await receiveCount(audit, 1);
    await audit.deadLetterMessage(message as ServiceBusReceivedMessage, {
      deadLetterReason: "Unroutable",
      deadLetterErrorDescription: "no handler",
    });
    expect(broker.depth("events/Subscriptions/audit")).toMatchObject({ active: 0, deadLetter: 1 });
    expect(broker.depth("events/Subscriptions/billing")).toMatchObject({ active: 1, deadLetter: 0 });

    const auditDead = subscriptionReceiver("events", "audit", { subQueueType: "deadLetter" });
    const [dead] = await receiveCount(auditDead, 1);
    expect(dead).toMatchObject({
      body: { kind: "paid" },
      messageId: "e-1",
      deadLetterReason: "Unroutable",
      deadLetterErrorDescription: "no handler",
    });
    await auditDead.completeMessage(dead as ServiceBusReceivedMessage);

    const billing = subscriptionReceiver("events", "billing");
    const [copy] = await receiveCount(billing, 1);
    expect(copy?.body).toEqual({ kind: "paid" });
    await billing.completeMessage(copy as ServiceBusReceivedMessage);
  });

  test("the deadLetter helper parks a message that the SDK peeks and receives", async () => {
    broker.createTopic({ name: "alerts", subscriptions: ["ops"] });
    broker.deadLetter(
      "alerts/Subscriptions/ops",
      {
        body: { args: ["config", "view"] },
        subject: "MSG_VICTORIA_REQUEST_FAILED",
        applicationProperties: { try: 5 },
      },
      { reason: "MaxDeliveryCountExceeded", description: "gave up" },
    );
    expect(broker.depth("alerts/Subscriptions/ops")).toMatchObject({ active: 0, deadLetter: 1 });
    const deadLetters = subscriptionReceiver("alerts", "ops", { subQueueType: "deadLetter" });
    const [peeked] = await deadLetters.peekMessages(5);
    expect(peeked).toMatchObject({
      deadLetterReason: "MaxDeliveryCountExceeded",
      subject: "MSG_VICTORIA_REQUEST_FAILED",
    });
    const [received] = await receiveCount(deadLetters, 1);
    expect(received).toMatchObject({
      body: { args: ["config", "view"] },
      deadLetterErrorDescription: "gave up",
      applicationProperties: { try: 5 },
    });
    await deadLetters.completeMessage(received as ServiceBusReceivedMessage);
  });
});

describe("faults", () => {
  test("refuseSettlement makes completeMessage fail and leaves the message on the queue", async () => {
    broker.createQueue({ name: "refused", lockDurationMs: 5_000 });
    await client.createSender("refused").sendMessages({ body: "keep me" });
    const receiver = receiverFor("refused");
    const [message] = await receiveCount(receiver, 1);

    broker.refuseSettlement(1);
    await expectServiceBusError(
      receiver.completeMessage(message as ServiceBusReceivedMessage),
      "GeneralError",
    );
    expect(broker.depth("refused")).toMatchObject({ active: 0, locked: 1 });

    skew += 6_000; // the lock runs out; the message is back
    const [again] = await receiveCount(receiver, 1);
    expect(again).toMatchObject({ body: "keep me", deliveryCount: 1 });
    await receiver.completeMessage(again as ServiceBusReceivedMessage);
    expect(broker.depth("refused")).toMatchObject({ active: 0, locked: 0 });
  });

  test("refuseSettlement with a custom condition", async () => {
    broker.createQueue("refused-lock");
    await client.createSender("refused-lock").sendMessages({ body: "x" });
    const receiver = receiverFor("refused-lock");
    const [message] = await receiveCount(receiver, 1);
    broker.refuseSettlement(1, { condition: "com.microsoft:message-lock-lost", description: "lost" });
    await expectServiceBusError(
      receiver.abandonMessage(message as ServiceBusReceivedMessage),
      "MessageLockLost",
    );
    expect(broker.depth("refused-lock").locked).toBe(1);
  });

  test("dropConnections mid-receive: the SDK reconnects and no message is lost", async () => {
    broker.createQueue({ name: "flaky", lockDurationMs: 3_000 });
    const ids = Array.from({ length: 10 }, (_, i) => `flaky-${i}`);
    await client.createSender("flaky").sendMessages(ids.map((messageId) => ({ body: messageId, messageId })));
    const receiver = receiverFor("flaky");
    const early = await receiveCount(receiver, 5);
    expect(early).toHaveLength(5);
    expect(broker.connectionCount).toBeGreaterThan(0);

    // Drop while a receive is waiting for messages.
    broker.pauseReceives();
    const pending = receiver.receiveMessages(10, { maxWaitTimeInMs: 2_000 }).catch(() => []);
    await new Promise((resolve) => setTimeout(resolve, 100));
    broker.dropConnections();
    broker.pauseReceives(false);
    const completed = new Set<string>();
    for (const message of await pending) {
      await receiver.completeMessage(message);
      completed.add(String(message.messageId));
    }
    // Settled after the drop: the receiving link is gone, so the SDK settles by lock token
    // over $management on its new connection; the locks are still held.
    for (const message of early.slice(0, 3)) {
      await receiver.completeMessage(message);
      completed.add(String(message.messageId));
    }
    // The other two are never settled: their locks expire and they come back.
    const unsettled = new Set(early.slice(3).map((message) => String(message.messageId)));
    for (let round = 0; round < 20 && completed.size < ids.length; round++) {
      let batch: ServiceBusReceivedMessage[] = [];
      try {
        batch = await receiver.receiveMessages(10, { maxWaitTimeInMs: 1_000 });
      } catch {
        continue; // the SDK may surface the broken connection once
      }
      for (const message of batch) {
        if (unsettled.has(String(message.messageId))) expect(message.deliveryCount).toBe(1);
        await receiver.completeMessage(message);
        completed.add(String(message.messageId));
      }
    }
    expect([...completed].sort()).toEqual([...ids].sort());
    expect(broker.depth("flaky")).toMatchObject({ active: 0, locked: 0, deadLetter: 0 });
  });

  test("pauseReceives holds messages back until resumed", async () => {
    broker.createQueue("paused");
    await client.createSender("paused").sendMessages({ body: "wait" });
    const receiver = receiverFor("paused");
    broker.pauseReceives();
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
    broker.pauseReceives(false);
    const [message] = await receiveCount(receiver, 1);
    expect(message?.body).toBe("wait");
    await receiver.completeMessage(message as ServiceBusReceivedMessage);
  });
});

describe("unknown entities", () => {
  test("receiving from an unknown queue fails with MessagingEntityNotFound", async () => {
    await expectServiceBusError(
      receiverFor("no-such-queue").receiveMessages(1, { maxWaitTimeInMs: 500 }),
      "MessagingEntityNotFound",
    );
  });

  test("sending to an unknown queue fails with MessagingEntityNotFound", async () => {
    await expectServiceBusError(
      client.createSender("no-such-queue").sendMessages({ body: 1 }),
      "MessagingEntityNotFound",
    );
  });

  test("session receivers are refused", async () => {
    broker.createQueue("sessionless");
    const error = await client.acceptSession("sessionless", "s-1").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isServiceBusError(error)).toBe(true);
  });

  test("peeking an unknown queue fails with MessagingEntityNotFound", async () => {
    await expectServiceBusError(receiverFor("no-such-queue-2").peekMessages(1), "MessagingEntityNotFound");
  });
});
