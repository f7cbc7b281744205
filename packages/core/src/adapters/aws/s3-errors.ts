/** The HTTP status S3 answered with, when the SDK error carries one. */
export function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

export function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** An error that says what was being done, then the SDK's error name and message; the cause is kept. */
export function failure(context: string, error: unknown): Error {
  const name = errorName(error);
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`${context}: ${name && name !== "Error" ? `${name}: ` : ""}${message}`, { cause: error });
}

/**
 * A conditional write lost: 412 (condition failed), 409 (a racing conditional write on the key),
 * 404 NoSuchKey (If-Match on a key that does not exist: nothing to update; a re-read says so).
 */
export function isConditionFailure(error: unknown): boolean {
  const name = errorName(error);
  const status = httpStatus(error);
  return (
    name === "PreconditionFailed" ||
    name === "ConditionalRequestConflict" ||
    name === "NoSuchKey" ||
    status === 412 ||
    status === 409
  );
}
