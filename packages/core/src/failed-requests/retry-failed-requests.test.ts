import { ServiceBusClient } from "@azure/service-bus";
import { type ServiceBusStandIn, startServiceBusStandIn } from "@victoria/emulators/service-bus/broker";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createServiceBusBus } from "../adapters/azure/service-bus-bus";
import type { Bus } from "../deadletter/bus";
import { createMemoryLogger } from "../logging/json-logger";
import type { CommandResult } from "../ports";
import { MSG_VICTORIA_REQUEST_FAILED } from "./failed-request-envelope";
import { createFailedRequestPublisher } from "./failed-request-publisher";
import { retryFailedRequests } from "./retry-failed-requests";

const QUEUE = "victoria-failed-requests";
let broker: ServiceBusStandIn;
let bus: Bus;

beforeEach(async () => {
  broker = await startServiceBusStandIn({ queues: [{ name: QUEUE, maxDeliveryCount: 3 }] });
  bus = createServiceBusBus((c) => new ServiceBusClient(c), { maxAutoLockRenewalDurationInMs: 0 });
});

afterEach(async () => {
  await bus.close();
  await broker.close();
});

const payload = {
  args: ["store", "s3", "ls"],
  requestId: "req-1",
  requester: "sre@example.com",
  error: "exit status 1: Error: bucket unreachable",
  attempt: 1,
  failedAt: "2026-11-22T10:00:00.000Z",
};

/** What the consumer asked `/execute` to run again. */
type Seen = { args: readonly string[]; attempt: number; requester?: string | undefined };

function consumer(outcomes: Array<number | Error | CommandResult>, seen: Seen[] = []) {
  return {
    bus,
    connection: broker.connectionString,
    queue: QUEUE,
    logger: createMemoryLogger(),
    execute: async (args: readonly string[], attempt: number, _requestId: string, requester?: string) => {
      seen.push({ args, attempt, requester });
      const outcome = outcomes.shift() ?? 1;
      if (outcome instanceof Error) throw outcome;
      return typeof outcome === "number" ? { exitCode: outcome, output: "" } : outcome;
    },
  };
}

describe("failed requests on Service Bus", () => {
  it("publishes the envelope the retry consumer understands", async () => {
    await createFailedRequestPublisher(bus, broker.connectionString, QUEUE).publish(payload);
    const [stored] = broker.peekAll(QUEUE);
    expect(stored).toBeDefined();
    const seen: Seen[] = [];
    const report = await retryFailedRequests(consumer([0], seen), { waitMs: 300 });
    expect(report).toEqual({ received: 1, succeeded: 1, failed: 0, invalid: 0, notRetryable: 0 });
    expect(seen[0]?.args).toEqual(["store", "s3", "ls"]);
    // Retried as whoever asked the first time.
    expect(seen[0]?.requester).toBe("sre@example.com");
    expect(broker.depth(QUEUE)).toMatchObject({ active: 0, locked: 0, deadLetter: 0 });
  });

  it("abandons a command that fails again, and Service Bus dead-letters it after the max delivery count", async () => {
    await createFailedRequestPublisher(bus, broker.connectionString, QUEUE).publish(payload);
    const outcomes = [1, new Error("execute unreachable"), 1];
    const seen: Seen[] = [];
    for (let run = 0; run < 3; run++) {
      const report = await retryFailedRequests(consumer([outcomes[run] as number | Error], seen), {
        waitMs: 300,
      });
      expect(report).toMatchObject({ received: 1, failed: 1 });
    }
    // The publishing failure was attempt 1: retries count on from 2, so `/execute` knows them as retries.
    expect(seen.map((s) => s.attempt)).toEqual([2, 3, 4]);
    expect(broker.depth(QUEUE)).toMatchObject({ active: 0, locked: 0, deadLetter: 1 });
    const [dead] = broker.peekAll(`${QUEUE}/$DeadLetterQueue`);
    expect(dead).toMatchObject({ deadLetterReason: "MaxDeliveryCountExceeded" });
  });

  it("dead-letters at once what is not a failed-request envelope", async () => {
    await bus.send(broker.connectionString, QUEUE, [
      { body: { kind: "json", value: { type: "SOMETHING_ELSE" } } },
    ]);
    const report = await retryFailedRequests(consumer([0]), { waitMs: 300 });
    expect(report).toEqual({ received: 1, succeeded: 0, failed: 0, invalid: 1, notRetryable: 0 });
    const [dead] = broker.peekAll(`${QUEUE}/$DeadLetterQueue`);
    expect(dead).toMatchObject({ deadLetterReason: "InvalidEnvelope" });
    expect(MSG_VICTORIA_REQUEST_FAILED).toBe("MSG_VICTORIA_REQUEST_FAILED");
  });

  it("dead-letters at once, without running it, an envelope published as a failure no retry fixes", async () => {
    await createFailedRequestPublisher(bus, broker.connectionString, QUEUE).publish({
      ...payload,
      failureClass: "not_found",
    });
    const seen: Seen[] = [];
    const report = await retryFailedRequests(consumer([0], seen), { waitMs: 300 });
    expect(report).toMatchObject({ received: 1, succeeded: 0, notRetryable: 1 });
    expect(seen).toEqual([]);
    const [dead] = broker.peekAll(`${QUEUE}/$DeadLetterQueue`);
    expect(dead).toMatchObject({ deadLetterReason: "NotRetryable" });
  });

  it("dead-letters at once a retry that now fails for good, and abandons one that is still transient", async () => {
    const publisher = createFailedRequestPublisher(bus, broker.connectionString, QUEUE);
    await publisher.publish({ ...payload, requestId: "gone", failureClass: "transient" });
    await publisher.publish({ ...payload, requestId: "flaky", failureClass: "transient" });
    const report = await retryFailedRequests(
      consumer([
        { exitCode: 1, output: "No such key", failureClass: "not_found" },
        { exitCode: 1, output: "503", failureClass: "transient" },
      ]),
      { waitMs: 300 },
    );
    expect(report).toMatchObject({ received: 2, failed: 1, notRetryable: 1 });
    expect(broker.peekAll(`${QUEUE}/$DeadLetterQueue`)).toHaveLength(1);
    expect(broker.depth(QUEUE)).toMatchObject({ active: 1 });
  });
});
