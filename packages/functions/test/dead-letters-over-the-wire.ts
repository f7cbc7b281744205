import type { ServiceBusStandIn } from "@victoria/emulators/service-bus/broker";
import { expect } from "vitest";
import { eventually } from "./eventually";

// Dead letters as the end-to-end tests of the local server make them: messages put straight on a
// queue's dead-letter queue in the Service Bus stand-in, and Azure Monitor's alert sent to /listener.

/** A spawned server as Azure Monitor reaches it: its URL and the token /listener checks; the broker it drains. */
export interface ListenerWire {
  server: { url: string };
  broker: ServiceBusStandIn;
  listenerToken: string;
}

/** Azure Monitor's metric alert for `count` dead letters on `queue`, sent to /listener (accepted with 202). */
export async function alertListener(h: ListenerWire, queue: string, count: number): Promise<void> {
  const alert = {
    schemaId: "AzureMonitorMetricAlert",
    data: {
      status: "Activated",
      context: {
        timestamp: new Date().toISOString(),
        resourceName: "victoria-local",
        condition: {
          allOf: [
            {
              metricName: "DeadletteredMessages",
              metricValue: count,
              dimensions: [{ name: "EntityName", value: queue }],
            },
          ],
        },
      },
    },
  };
  const res = await fetch(`${h.server.url}/listener?token=${h.listenerToken}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(alert),
  });
  expect(res.status).toBe(202);
}

/**
 * Dead-letters `count` messages on `queue` (ids `<tag>-<i>`, reason Boom) and sends the alert for
 * them to /listener.
 */
export async function deadLetterAndAlert(h: ListenerWire, queue: string, tag: string, count: number) {
  for (let i = 0; i < count; i++)
    h.broker.deadLetter(
      queue,
      { messageId: `${tag}-${i}`, body: { tag, i } },
      { reason: "Boom", description: `${tag} #${i}` },
    );
  await alertListener(h, queue, count);
}

/** Waits until `queue`'s dead-letter queue holds nothing, locked or not: every dead letter parked and completed. */
export function dlqDrained(h: { broker: ServiceBusStandIn }, queue: string, timeoutMs = 15_000) {
  return eventually(() => {
    const dlq = h.broker.depth(`${queue}/$DeadLetterQueue`);
    return dlq.active + dlq.locked === 0 ? true : undefined;
  }, timeoutMs);
}
