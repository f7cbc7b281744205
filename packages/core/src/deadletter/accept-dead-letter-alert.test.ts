import { describe, expect, it } from "vitest";
import { createMemoryLogger } from "../logging/json-logger";
import type { Job } from "../ports";
import { acceptDeadLetterAlert } from "./accept-dead-letter-alert";
import { DRAIN_JOB } from "./drain-jobs";

/** A Dispatcher that keeps what it is handed (the port is one method: a stand-in needs no more). */
function setup(clusters: string[] = ["prod1"], fail?: Error) {
  const dispatched: Job[] = [];
  const logger = createMemoryLogger();
  const dispatcher = {
    async dispatch(job: Job) {
      if (fail) throw fail;
      dispatched.push(job);
    },
  };
  return { deps: { clusters: new Set(clusters), dispatcher, logger }, dispatched, logger };
}

const queueEvent = (
  namespaceName: string,
  queueName: string,
  eventType = "DeadletterMessagesAvailableWithNoListeners",
) => ({
  eventType: `Microsoft.ServiceBus.${eventType}`,
  eventTime: "2026-11-22T10:00:00.000Z",
  data: { namespaceName, entityType: "queue", queueName },
});

describe("acceptDeadLetterAlert", () => {
  it("dispatches one drain per entity, lists known and unknown clusters apart, and logs the counts", async () => {
    const { deps, dispatched, logger } = setup();
    const body = [
      queueEvent("gw-sb-prod1", "orders"),
      queueEvent(
        "gw-sb-prod1.servicebus.windows.net",
        "ORDERS",
        "DeadletterMessagesAvailablePeriodicNotifications",
      ),
      queueEvent("gw-sb-Staging9", "orders"),
    ];
    const answer = await acceptDeadLetterAlert(JSON.stringify(body), deps);
    expect(answer).toEqual({
      kind: "json",
      status: 202,
      body: {
        status: "accepted",
        draining: [{ cluster: "prod1", namespace: "gw-sb-prod1", entity: "orders" }],
        unknownClusters: [{ cluster: "staging9", namespace: "gw-sb-Staging9", entity: "orders" }],
      },
    });
    expect(dispatched.map((job) => job.kind)).toEqual([DRAIN_JOB, DRAIN_JOB]);
    expect(logger.lines).toMatchObject([
      {
        level: "info",
        message: "dead-letter alert accepted",
        source: "event-grid",
        entities: 2,
        unknownClusters: 1,
      },
    ]);
  });

  it("answers 422 naming each unknown cluster once, after dispatching their drains", async () => {
    const { deps, dispatched } = setup();
    const body = [queueEvent("a-x", "q1"), queueEvent("b-x", "q2"), queueEvent("c-y", "q3")];
    expect(await acceptDeadLetterAlert(JSON.stringify(body), deps)).toEqual({
      kind: "error",
      status: 422,
      message: "No connection in SERVICE_BUS_CONNECTIONS for cluster 'x', 'y'",
    });
    expect(dispatched).toHaveLength(3);
  });

  it.each([
    ["malformed JSON", "{", "Malformed JSON in request body"],
    ["an unreadable body", "[]", "body: an empty Event Grid delivery"],
  ])("answers 400 for %s and dispatches nothing", async (_, raw, message) => {
    const { deps, dispatched, logger } = setup();
    expect(await acceptDeadLetterAlert(raw, deps)).toEqual({ kind: "error", status: 400, message });
    expect(dispatched).toEqual([]);
    expect(logger.lines).toEqual([]);
  });

  it("throws when a drain cannot be dispatched (the front door answers 500)", async () => {
    const { deps, logger } = setup(["prod1"], new Error("invoke failed"));
    await expect(
      acceptDeadLetterAlert(JSON.stringify([queueEvent("gw-sb-prod1", "orders")]), deps),
    ).rejects.toThrow("invoke failed");
    expect(logger.lines).toEqual([]);
  });
});
