import type { Logger } from "@victoria/core/logging/json-logger";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * The `error` title for each status we answer with (every one needs its own: the fallback "Error"
 * tells the caller nothing); the `message` says what exactly is wrong.
 */
const TITLES: Partial<Record<number, string>> = {
  400: "Invalid request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not found",
  405: "Method not allowed",
  413: "Payload too large",
  415: "Unsupported media type",
  422: "Unprocessable Entity",
  500: "Internal error",
  501: "Not implemented",
  503: "Service unavailable",
};

export function errorBody(status: number, message: string): { error: string; message: string } {
  return { error: TITLES[status] ?? "Error", message };
}

export function jsonError(c: Context, status: ContentfulStatusCode, message: string): Response {
  return c.json(errorBody(status, message), status);
}

/** One place where thrown errors become JSON responses; unexpected ones are logged, never echoed. */
export function createErrorHandler(logger: Logger) {
  return function onError(error: Error, c: Context): Response {
    if (error instanceof HTTPException) {
      return jsonError(
        c,
        error.status as ContentfulStatusCode,
        error.message || (TITLES[error.status] ?? "Error"),
      );
    }
    logger.error("unhandled error", { path: c.req.path, errorName: error.name, errorMessage: error.message });
    return jsonError(c, 500, "The server failed to handle this request; see the logs for details.");
  };
}

export function notFound(c: Context): Response {
  return jsonError(c, 404, `No route for ${c.req.method} ${c.req.path}`);
}
