import { isRequestId, withRequestContext } from "@victoria/core/logging/request-context";
import { type ExecuteCommandDeps, executeCommand } from "@victoria/core/victoria/execute-command";
import { executeRequestSchema } from "@victoria/core/victoria/execute-request";
import { Hono } from "hono";
import { limitBodySize } from "../http/body-size-limit";
import { REQUEST_ID_HEADER, requestIdOf } from "../http/request-id";
import { requireJsonContentType } from "../http/require-json-content-type";
import {
  requireServiceSignature,
  requireServiceSignatureHeaders,
} from "../http/service-signature-middleware";
import { validJsonBody } from "../http/valid-json-body";

export const MAX_EXECUTE_BODY_BYTES = 64 * 1024;
/** Set on every answer to a command whose output may reveal a secret (Slack shows it privately). */
export const SENSITIVE_HEADER = "x-victoria-sensitive";

/** `sharedSecret` is VICTORIA_SHARED_SECRET: every request must be signed with it. */
export type ExecuteDeps = ExecuteCommandDeps & { sharedSecret: string; nowSeconds?: () => number };

/** `POST /execute`: a signed caller's command line; the answer is `executeCommand`'s (core/victoria). */
export function executeRoute(deps: ExecuteDeps): Hono {
  return new Hono().post(
    "/execute",
    requireServiceSignatureHeaders({ ...deps, route: "/execute" }),
    limitBodySize(MAX_EXECUTE_BODY_BYTES),
    requireServiceSignature({ ...deps, route: "/execute" }),
    requireJsonContentType,
    validJsonBody(executeRequestSchema),
    async (c) => {
      const request = c.req.valid("json");
      const requestId = isRequestId(request.requestId) ? request.requestId : requestIdOf(c);
      c.header(REQUEST_ID_HEADER, requestId);
      const answer = await withRequestContext({ requestId }, () => executeCommand(deps, request, requestId));
      if (answer.sensitive) c.header(SENSITIVE_HEADER, "true");
      return c.json(answer.body, answer.status);
    },
  );
}
