import { currentRequestId } from "./request-context";

/**
 * Structured logs: one JSON object per line, so CloudWatch and `jq` can read them. A line written
 * inside `withRequestContext` carries that request's `requestId` (a field given explicitly wins).
 */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export type LogLine = { level: "info" | "warn" | "error"; message: string; time: string } & Record<
  string,
  unknown
>;

export function createJsonLogger(
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Logger {
  const log = (level: LogLine["level"], message: string, fields: Record<string, unknown> = {}) => {
    const requestId = currentRequestId();
    write(
      JSON.stringify({
        level,
        message,
        time: new Date().toISOString(),
        ...(requestId === undefined ? {} : { requestId }),
        ...fields,
      }),
    );
  };
  return {
    info: (message, fields) => log("info", message, fields),
    warn: (message, fields) => log("warn", message, fields),
    error: (message, fields) => log("error", message, fields),
  };
}

/** Collects log lines in memory; for tests and for callers that want to inspect what was logged. */
export function createMemoryLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = createJsonLogger((line) => lines.push(JSON.parse(line) as LogLine));
  return Object.assign(logger, { lines });
}

// The per-request context lives beside the logger that reads it; re-exported so callers find it here.
export { currentRequestId, withRequestContext } from "./request-context";
