import { FAILURE_CLASSES } from "../../failure-class";
import { currentRequestId } from "../../logging/request-context";
import type { CommandResult, CommandRunner } from "../../ports";
import { signServiceRequest } from "../../security/service-signature";
import { EXIT_FAILURE, EXIT_USAGE } from "../../victoria/errors";

/** `/execute` could not run the command: unreachable, refused us, timed out, or Victoria crashed. */
export class ExecuteError extends Error {
  override readonly name = "ExecuteError";
}

export interface ExecuteClientOptions {
  /** The `/execute` URL (VICTORIA_EXECUTE_URL); a function so the local server can supply its own port. */
  url: string | (() => string);
  sharedSecret: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/**
 * Who asked (the actor the command runs as; the failed-requests envelope's requester) and which
 * attempt this is (a retry's failure is not re-published). Both are sent in the signed body.
 */
export interface ExecuteContext {
  requester?: string;
  /** 2 and up for the retry consumer's re-runs; 1 or absent for a first run. */
  retryAttempt?: number;
}

const NON_ZERO = "Command failed: non-zero status code";
/** `/execute` marks answers whose output may reveal a secret (its SENSITIVE_HEADER). */
const SENSITIVE_HEADER = "x-victoria-sensitive";

/** Runs commands through `/execute` over HTTP, signed with the service-to-service secret. */
export function createExecuteClient({
  url,
  sharedSecret,
  timeoutMs,
  fetch: fetchImpl = fetch,
}: ExecuteClientOptions): CommandRunner & {
  runWithId(args: readonly string[], requestId?: string, context?: ExecuteContext): Promise<CommandResult>;
} {
  async function runWithId(
    args: readonly string[],
    requestId?: string,
    context: ExecuteContext = {},
  ): Promise<CommandResult> {
    const target = typeof url === "function" ? url() : url;
    // The request id, who asked and the attempt travel in the body, which the signature covers, so
    // none can be swapped in transit or on a replayed request (`/execute` ignores such headers).
    const id = requestId ?? currentRequestId();
    const body = JSON.stringify({
      args,
      ...(id === undefined ? {} : { requestId: id }),
      ...(context.requester ? { requester: context.requester } : {}),
      ...(context.retryAttempt ? { attempt: context.retryAttempt } : {}),
    });
    let response: Response;
    try {
      response = await fetchImpl(target, {
        method: "POST",
        body,
        headers: {
          "content-type": "application/json",
          ...signServiceRequest(sharedSecret, body),
        },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const name = (error as Error).name;
      if (name === "TimeoutError")
        throw new ExecuteError(`the command did not finish within ${timeoutMs / 1000} s`);
      throw new ExecuteError(`could not reach the execute service (${(error as Error).message})`);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ExecuteError(`the execute service answered ${response.status} with a body that is not JSON`);
    }
    const sensitive = response.headers.get(SENSITIVE_HEADER) === "true";
    if (response.status === 200 && typeof parsed === "string")
      return { exitCode: 0, output: parsed, sensitive };
    const error = parsed as { error?: unknown; message?: unknown; failureClass?: unknown };
    if (response.status === 500 && error.error === NON_ZERO && typeof error.message === "string") {
      // The contract does not carry the exit status, only that it was not zero (and, since, why).
      // A usage error is always exit 2, so its class gives the status back (the audit records it);
      // the other classes share statuses (transient: 75, 124, ≥128), so they stay 1.
      const failureClass = FAILURE_CLASSES.find((known) => known === error.failureClass);
      return {
        exitCode: failureClass === "usage" ? EXIT_USAGE : EXIT_FAILURE,
        output: error.message,
        sensitive,
        ...(failureClass ? { failureClass } : {}),
      };
    }
    if (response.status === 401) {
      throw new ExecuteError(
        "the execute service refused our signature (is VICTORIA_SHARED_SECRET the same on both?)",
      );
    }
    const detail = typeof error.message === "string" ? `: ${error.message}` : "";
    const title = typeof error.error === "string" ? error.error : `HTTP ${response.status}`;
    throw new ExecuteError(`${title}${detail}`);
  }
  // `run` also carries the current request's id, so a command run from a job joins its story.
  return { run: (args) => runWithId(args), runWithId };
}
