import type { Bus } from "../deadletter/bus";
import { type Metrics, noMetrics } from "../observability/metrics";
import { type FailedRequestEnvelope, failedRequestEnvelope } from "./failed-request-envelope";

export interface FailedRequestPublisher {
  publish(payload: FailedRequestEnvelope["payload"]): Promise<void>;
}

/** Puts failed commands on FAILED_REQUESTS_QUEUE, where the retry consumer picks them up. */
export function createFailedRequestPublisher(
  bus: Bus,
  connection: string,
  queue: string,
  metrics: Metrics = noMetrics,
): FailedRequestPublisher {
  return {
    publish: async (payload) => {
      await bus.send(connection, queue, [
        {
          body: { kind: "json", value: failedRequestEnvelope(payload) },
          contentType: "application/json",
          subject: "MSG_VICTORIA_REQUEST_FAILED",
          correlationId: payload.requestId,
        },
      ]);
      metrics.add("FailedRequestsPublished", 1);
    },
  };
}
