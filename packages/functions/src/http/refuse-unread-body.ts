import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { jsonError } from "./json-errors";

/** Whether the request carries a body that nothing has read yet (Hono caches what is read). */
function hasUnreadBody(c: Context): boolean {
  const declared = c.req.header("content-length");
  const carriesBody =
    c.req.header("transfer-encoding") !== undefined || (declared !== undefined && Number(declared) > 0);
  return carriesBody && Object.keys(c.req.bodyCache).length === 0;
}

/**
 * A JSON error for a request refused without reading (all of) its body. Node keeps a connection
 * alive by reading an unread body to its end and discarding it, which for an unsigned or endless
 * upload is unbounded work; `Connection: close` makes it close the connection after the answer.
 */
export function refuseUnreadBody(c: Context, status: ContentfulStatusCode, message: string): Response {
  if (hasUnreadBody(c)) c.header("Connection", "close");
  return jsonError(c, status, message);
}
