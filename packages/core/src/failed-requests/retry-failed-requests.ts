import type { Bus } from "../deadletter/bus";
import type { Logger } from "../logging/json-logger";
import type { CommandResult } from "../ports";
import { failedRequestEnvelopeSchema } from "./failed-request-envelope";

export interface RetryDeps {
  bus: Bus;
  connection: string;
  queue: string;
  /** Re-runs through `/execute`, marked as a retry so a new failure is not published again. */
  execute(args: readonly string[], attempt: number, requestId: string): Promise<CommandResult>;
  logger: Logger;
}

export interface RetryReport {
  received: number;
  succeeded: number;
  failed: number;
  invalid: number;
}

/**
 * The scheduled retry consumer: re-runs failed commands; completes on success, abandons on
 * failure so Service Bus counts the delivery and, past the queue's max delivery count,
 * dead-letters it — where the watcher takes over and a human decides.
 */
export async function retryFailedRequests(
  { bus, connection, queue, execute, logger }: RetryDeps,
  { maxMessages = 20, waitMs = 1_000 } = {},
): Promise<RetryReport> {
  const report: RetryReport = { received: 0, succeeded: 0, failed: 0, invalid: 0 };
  const receiver = await bus.receiver(connection, { kind: "queue", queue }, { deadLetter: false });
  try {
    const batch = await receiver.receive(maxMessages, waitMs);
    report.received = batch.length;
    for (const locked of batch) {
      const body = locked.message.body;
      const parsed = failedRequestEnvelopeSchema.safeParse(body.kind === "json" ? body.value : undefined);
      if (!parsed.success) {
        report.invalid++;
        await locked.deadLetter("InvalidEnvelope", "not a MSG_VICTORIA_REQUEST_FAILED envelope");
        continue;
      }
      const { args, requestId } = parsed.data.payload;
      // Delivery count is 1 on the first receive; the failure that published it was attempt 1.
      const attempt = locked.message.deliveryCount + 1;
      let ok = false;
      try {
        ok = (await execute(args, attempt, requestId)).exitCode === 0;
      } catch (error) {
        logger.warn("retry could not run", { requestId, attempt, errorMessage: (error as Error).message });
      }
      if (ok) {
        report.succeeded++;
        await locked.complete();
      } else {
        report.failed++;
        await locked.abandon();
      }
      logger.info("failed request retried", { requestId, attempt, ok });
    }
  } finally {
    await receiver.close();
  }
  return report;
}
