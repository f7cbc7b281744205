import { describe, expect, test } from "vitest";
import { toAmqpMessage } from "./amqp-message";
import { EntityStore, type MessageQueue } from "./entity-store";
import { AmqpFailure } from "./errors";

function storeAt(start = 1_000_000) {
  const clock = { now: start };
  const announced: string[] = [];
  const store = new EntityStore(
    () => clock.now,
    (queue: MessageQueue) => announced.push(queue.path),
  );
  return { clock, store, announced };
}

function sendTo(store: EntityStore, path: string, body: unknown) {
  const target = store.sendTarget(path);
  if (!target) throw new Error(`no ${path}`);
  return store.enqueue(target, [toAmqpMessage({ body })]);
}

describe("EntityStore", () => {
  test("locks, expires with a counted attempt, and dead-letters past the maximum", () => {
    const { clock, store } = storeAt();
    store.createQueue({ name: "q", maxDeliveryCount: 2, lockDurationMs: 1_000 });
    const queue = store.requireSource("q");
    sendTo(store, "q", "x");

    const first = store.lockNext(queue);
    expect(first?.lock?.until).toBe(clock.now + 1_000);
    expect(store.lockNext(queue)).toBeUndefined();
    expect(store.nextDeadline()).toBe(clock.now + 1_000);

    clock.now += 1_000;
    store.sweep();
    expect(store.depth("q")).toMatchObject({ active: 1, locked: 0, deadLetter: 0 });
    expect(() => store.settle(first?.lock?.token ?? "", { kind: "complete" })).toThrow(AmqpFailure);

    const second = store.lockNext(queue);
    expect(second?.deliveryCount).toBe(1);
    store.settle(second?.lock?.token ?? "", { kind: "abandon" });
    expect(store.depth("q")).toMatchObject({ active: 0, deadLetter: 1 });
    const [dead] = store.messagesOf(store.requireSource("q/$DeadLetterQueue"));
    expect(dead?.message.application_properties).toMatchObject({
      DeadLetterReason: "MaxDeliveryCountExceeded",
    });
  });

  test("a topic gives each subscription its own copy with the same sequence number", () => {
    const { store, announced } = storeAt();
    store.createTopic({ name: "t", subscriptions: ["a", "b"] });
    expect(sendTo(store, "t", { n: 1 })).toEqual([1]);
    const a = store.requireSource("t/Subscriptions/a");
    const b = store.requireSource("T/subscriptions/B");
    expect(announced).toEqual(["t/Subscriptions/a", "t/Subscriptions/b"]);

    const fromA = store.lockNext(a);
    store.settle(fromA?.lock?.token ?? "", { kind: "abandon", properties: { touched: true } });
    expect(store.messagesOf(b)[0]?.message.application_properties).toEqual({});
    expect(store.messagesOf(b)[0]?.sequenceNumber).toBe(1);
    expect(store.sendTarget("t/Subscriptions/a")).toBeUndefined();
  });

  test("scheduled messages become receivable when due", () => {
    const { clock, store, announced } = storeAt();
    store.createQueue("s");
    const queue = store.requireSource("s");
    const target = store.sendTarget("s");
    if (!target) throw new Error("no s");
    store.enqueue(target, [toAmqpMessage({ body: 1, scheduledEnqueueTimeUtc: new Date(clock.now + 500) })]);
    expect(store.lockNext(queue)).toBeUndefined();
    expect(store.depth("s").scheduled).toBe(1);
    expect(store.nextDeadline()).toBe(clock.now + 500);

    announced.length = 0;
    clock.now += 500;
    store.sweep();
    expect(announced).toEqual(["s"]);
    expect(store.lockNext(queue)).toBeDefined();
  });

  test("rejects duplicate and malformed names", () => {
    const { store } = storeAt();
    store.createQueue("dup");
    expect(() => store.createQueue("DUP")).toThrow(/already exists/);
    expect(() => store.createTopic({ name: "dup", subscriptions: [] })).toThrow(/already exists/);
    expect(() => store.createQueue("a/b")).toThrow(/invalid/);
  });
});
