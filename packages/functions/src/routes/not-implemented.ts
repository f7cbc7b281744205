import { Hono } from "hono";
import { jsonError } from "../http/json-errors";

/** A route whose issue has not landed yet: says so honestly instead of pretending. */
export function notImplementedRoute(path: string, what: string): Hono {
  return new Hono().post(path, (c) => jsonError(c, 501, `${path} (${what}) is not implemented yet`));
}
