import { type AcceptSlackRequestDeps, acceptSlackRequest } from "@victoria/core/slack/accept-slack-request";
import { Hono } from "hono";
import { limitBodySize } from "../http/body-size-limit";
import { jsonError } from "../http/json-errors";
import { requestIdOf } from "../http/request-id";
import { requireSlackSignature, requireSlackSignatureHeaders } from "../http/slack-signature-middleware";

export const MAX_SLACK_BODY_BYTES = 256 * 1024;

export interface AuthenticateDeps extends AcceptSlackRequestDeps {
  signingSecret: string;
  nowSeconds?: () => number;
}

/**
 * `POST /authenticate`: Slack's front door. Verified here; what each slash command or event is
 * answered, and which job it hands off, is `acceptSlackRequest`'s (core/slack/accept-slack-request.ts).
 */
export function authenticateRoute(deps: AuthenticateDeps): Hono {
  return new Hono().post(
    "/authenticate",
    requireSlackSignatureHeaders({ ...deps, route: "/authenticate" }),
    limitBodySize(MAX_SLACK_BODY_BYTES),
    requireSlackSignature({ ...deps, route: "/authenticate" }),
    async (c) => {
      const answer = await acceptSlackRequest(
        {
          contentType: c.req.header("content-type") ?? "",
          rawBody: await c.req.text(),
          requestId: requestIdOf(c),
          retry: c.req.header("x-slack-retry-num"),
        },
        deps,
      );
      if (answer.kind === "error") return jsonError(c, answer.status, answer.message);
      return answer.kind === "json" ? c.json(answer.body) : c.body(null, 200);
    },
  );
}
