import type { FailedRequestPublisher } from "../failed-requests/failed-request-publisher";
import { type FailureClass, failureClassOfExit, isRetryable, isTransientError } from "../failure-class";
import type { Logger } from "../logging/json-logger";
import type { CommandResult, CommandRunner } from "../ports";
import type { ExecuteRequest } from "./execute-request";

export interface ExecuteCommandDeps {
  runner: CommandRunner;
  /** Where failed commands go for retry (FAILED_REQUESTS_QUEUE); absent = not published. */
  failedRequests?: FailedRequestPublisher;
  logger: Logger;
}

/**
 * What `/execute` answers, with the response contract of the original Serverless Victoria (200 + the
 * output as a JSON string; 500 on failure); the route only maps it to HTTP.
 */
export type ExecuteAnswer = {
  /** The output may reveal a secret: the answer is marked so (Slack shows it privately). */
  sensitive: boolean;
} & (
  | { status: 200; body: string }
  | { status: 500; body: { error: string; message: string; failureClass: FailureClass } }
);

/**
 * Runs one command line for a verified caller; a transient failure of a first attempt is published
 * for retry. Who asked and which attempt come from the signed body only (never unsigned headers).
 */
export async function executeCommand(
  { runner, failedRequests, logger }: ExecuteCommandDeps,
  { args, requester, attempt = 1 }: ExecuteRequest,
  requestId: string,
): Promise<ExecuteAnswer> {
  const started = performance.now();
  const log = (exitStatus: number | "exception") =>
    logger.info("execute", {
      route: "/execute",
      requestId,
      argsCount: args.length,
      exitStatus,
      durationMs: Math.round(performance.now() - started),
    });
  // Published before answering: on Lambda nothing runs after the response. Only a transient
  // failure can succeed on a retry, and a retry's own failure is already on the queue.
  const publishFailure = async (failureClass: FailureClass, error: string) => {
    if (!failedRequests || attempt > 1 || !isRetryable(failureClass)) return;
    try {
      await failedRequests.publish({
        args,
        requestId,
        ...(requester ? { requester } : {}),
        error,
        failureClass,
        attempt: 1,
        failedAt: new Date().toISOString(),
      });
    } catch (publishError) {
      logger.error("failed request not published", {
        requestId,
        errorMessage: (publishError as Error).message,
      });
    }
  };
  let result: CommandResult;
  try {
    result = await runner.run(args, requester ? { actor: requester } : {});
  } catch (error) {
    log("exception");
    const failureClass: FailureClass = isTransientError(error) ? "transient" : "internal";
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    await publishFailure(failureClass, message);
    const body = { error: "Command failed: uncaught Victoria exception detected", message, failureClass };
    return { status: 500, body, sensitive: false };
  }
  log(result.exitCode);
  const sensitive = Boolean(result.sensitive);
  if (result.exitCode !== 0) {
    const failureClass = result.failureClass ?? failureClassOfExit(result.exitCode) ?? "internal";
    // A sensitive command's output stays out of the queue (and so out of the vault and Slack).
    await publishFailure(
      failureClass,
      `exit status ${result.exitCode}: ${sensitive ? "(output withheld: the command is sensitive)" : result.output.slice(-1000)}`,
    );
    const body = { error: "Command failed: non-zero status code", message: result.output, failureClass };
    return { status: 500, body, sensitive };
  }
  return { status: 200, body: result.output, sensitive };
}
