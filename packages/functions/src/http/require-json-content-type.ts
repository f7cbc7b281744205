import { createMiddleware } from "hono/factory";
import { refuseUnreadBody } from "./refuse-unread-body";

/**
 * 415 unless the body is JSON (`application/json`, `…+json` such as CloudEvents', any parameters).
 * Without it a validator would see `{}` for a non-JSON body and blame a field, which misleads.
 */
export const requireJsonContentType = createMiddleware(async (c, next) => {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/([a-z0-9.+-]+\+)?json\b/i.test(type)) {
    return refuseUnreadBody(
      c,
      415,
      `Content-Type must be application/json (got ${type ? `'${type}'` : "none"})`,
    );
  }
  await next();
});
