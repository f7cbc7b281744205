import type { Bus } from "../deadletter/bus";
import { type FailureClass, isRetryable } from "../failure-class";
import type { Logger } from "../logging/json-logger";
import { withRequestContext } from "../logging/request-context";
import type { CommandResult } from "../ports";
import { failedRequestEnvelopeSchema } from "./failed-request-envelope";

export interface RetryDeps {
  bus: Bus;
  connection: string;
  queue: string;
  /** Re-runs through `/execute`, marked as a retry (attempt 2 and up) so a new failure is not published again. */
  execute(
    args: readonly string[],
    attempt: number,
    requestId: string,
    requester?: string,
  ): Promise<CommandResult>;
  logger: Logger;
}

export interface RetryReport {
  received: number;
  succeeded: number;
  failed: number;
  invalid: number;
  /** Dead-lettered at once: a failure no retry can fix (usage, not found, already done, config). */
  notRetryable: number;
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
  const report: RetryReport = { received: 0, succeeded: 0, failed: 0, invalid: 0, notRetryable: 0 };
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
      const { args, requestId, requester, failureClass: published } = parsed.data.payload;
      // The retry runs under the original request's id: its log lines, its `/execute` call and the
      // audit of that call all join the story the first attempt began.
      await withRequestContext({ requestId }, async () => {
        // A publisher that says the failure cannot heal is believed: a human decides, not the schedule.
        if (published !== undefined && !isRetryable(published)) {
          report.notRetryable++;
          await locked.deadLetter(
            "NotRetryable",
            `published as a ${published} failure, which no retry fixes`,
          );
          logger.info("failed request not retried", { requestId, failureClass: published });
          return;
        }
        // The failure that published it was attempt 1, so the first retry is 2. The delivery count is
        // 0 on the first receive (AMQP counts prior deliveries; the JS SDK passes it on as is).
        // `/execute` takes an attempt above 1 as a retry, whose failure is not published again.
        const attempt = locked.message.deliveryCount + 2;
        let ok = false;
        let failureClass: FailureClass | undefined;
        try {
          // Run as whoever asked the first time, so the audit of the retry names them too.
          const result = await execute(args, attempt, requestId, requester);
          ok = result.exitCode === 0;
          failureClass = result.failureClass;
        } catch (error) {
          logger.warn("retry could not run", { requestId, attempt, errorMessage: (error as Error).message });
        }
        if (ok) {
          report.succeeded++;
          await locked.complete();
        } else if (failureClass !== undefined && !isRetryable(failureClass)) {
          // It failed differently this time, for good (the key is gone, someone replayed it by hand).
          report.notRetryable++;
          await locked.deadLetter("NotRetryable", `attempt ${attempt} failed as ${failureClass}`);
        } else {
          report.failed++;
          await locked.abandon();
        }
        logger.info("failed request retried", {
          requestId,
          attempt,
          ok,
          ...(failureClass ? { failureClass } : {}),
        });
      });
    }
  } finally {
    await receiver.close();
  }
  return report;
}
