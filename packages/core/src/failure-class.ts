/*
 * Why a command failed, as far as retrying goes. Only a transient failure can succeed by being run
 * again unchanged; everything else would fail the same way on every retry, page the alert channel
 * after the queue's max delivery count, and tell a human nothing new.
 */

/**
 * - `usage`: the command line is wrong (unknown command, bad option, a server file named remotely);
 * - `invalid`: the command ran and refused its input (not an envelope, not UTF-8, a bad key);
 * - `not_found`: what it names does not exist (a key, a dead letter);
 * - `conflict`: it was already done, or a limit says no (already replayed, replay limit);
 * - `configuration`: the deployment lacks something (no encryption provider, no SMTP, no connection);
 * - `internal`: a bug (an exception nobody classified): a retry runs the same bug;
 * - `transient`: a timeout, a 5xx or throttling from Azure/AWS, a network error — worth retrying.
 */
export type FailureClass =
  | "usage"
  | "invalid"
  | "not_found"
  | "conflict"
  | "configuration"
  | "internal"
  | "transient";

export const FAILURE_CLASSES: readonly FailureClass[] = [
  "usage",
  "invalid",
  "not_found",
  "conflict",
  "configuration",
  "internal",
  "transient",
];

export function isRetryable(failure: FailureClass): boolean {
  return failure === "transient";
}

/** Exit status of a transient failure: sysexits.h's EX_TEMPFAIL ("try again later"). */
export const EXIT_TRANSIENT = 75;

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
  // @azure/core-rest-pipeline and @azure/service-bus
  "REQUEST_SEND_ERROR",
  "ServiceBusy",
  "ServiceTimeout",
  "ServiceCommunicationProblem",
]);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  retryable?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  cause?: unknown;
}

/**
 * Reads an SDK or network error (AWS SDK v3, Azure core, Node's own) for whether trying again may
 * help: a 5xx, 408 or 429, a throttling/timeout name, or a network error code.
 */
export function isTransientError(error: unknown, depth = 0): boolean {
  if (error === null || typeof error !== "object" || depth > 3) return false;
  const e = error as SdkErrorShape;
  const status =
    typeof e.statusCode === "number"
      ? e.statusCode
      : typeof e.$metadata?.httpStatusCode === "number"
        ? e.$metadata.httpStatusCode
        : undefined;
  if (status !== undefined && (status >= 500 || status === 408 || status === 429)) return true;
  if (e.$retryable !== undefined && e.$retryable !== null) return true;
  if (typeof e.code === "string" && NETWORK_CODES.has(e.code)) return true;
  if (
    typeof e.name === "string" &&
    /^(TimeoutError|ThrottlingException|SlowDown|RequestTimeout)$/.test(e.name)
  )
    return true;
  return isTransientError(e.cause, depth + 1);
}

/** What an external executable's exit status says (the only thing it says). */
export function failureClassOfExit(exitCode: number): FailureClass | undefined {
  if (exitCode === 0) return undefined;
  if (exitCode === 2) return "usage";
  // 75: EX_TEMPFAIL; 124: our time budget ran out; ≥ 128: killed by a signal (e.g. out of memory).
  if (exitCode === EXIT_TRANSIENT || exitCode === 124 || exitCode >= 128) return "transient";
  return "invalid";
}
