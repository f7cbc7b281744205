import { zValidator } from "@hono/zod-validator";
import { describeIssues } from "@victoria/core/validation/describe-issues";
import type * as z from "@victoria/core/validation/zod";
import { jsonError } from "./json-errors";

/** The JSON body checked against `schema`, then `c.req.valid("json")`; else 400 naming every issue. */
export function validJsonBody<T extends z.ZodMiniType>(schema: T) {
  return zValidator("json", schema, (result, c) => {
    if (!result.success) return jsonError(c, 400, describeIssues(result.error));
  });
}
