import { currentRequestId, newRequestId, withRequestContext } from "@victoria/core/logging/request-context";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";

/** The answer's header naming the request id, so a caller can find its request in the logs. */
export const REQUEST_ID_HEADER = "x-victoria-request-id";

declare module "hono" {
  interface ContextVariableMap {
    /** The request id, which correlates every hop (logging/request-context.ts). */
    requestId: string;
  }
}

/**
 * One request id per request at every front door: set in the context for the route, and the rest of
 * the request runs inside its log context, so every line (and every job dispatched) carries it.
 */
export const assignRequestId = createMiddleware(async (c, next) => {
  const requestId = newRequestId();
  c.set("requestId", requestId);
  await withRequestContext({ requestId }, next);
});

/** The request's id: the middleware's, else the surrounding context's (a bare router in a test), else fresh. */
export function requestIdOf(c: Context): string {
  return c.get("requestId") ?? currentRequestId() ?? newRequestId();
}
