import { parseInteraction } from "@victoria/core/slack/interaction-payload";
import { answerInteraction, type InteractionDeps } from "@victoria/core/slack/interactions";
import { Hono } from "hono";
import { limitBodySize } from "../http/body-size-limit";
import { jsonError } from "../http/json-errors";
import { requireSlackSignature, requireSlackSignatureHeaders } from "../http/slack-signature-middleware";

export const MAX_INTERACTION_BODY_BYTES = 256 * 1024;

export interface ResolveDeps extends InteractionDeps {
  signingSecret: string;
  nowSeconds?: () => number;
}

/**
 * `POST /resolve`: Slack interactivity for the dead-letter buttons, the email, repair and bulk
 * dialogs and the approval requests' Approve / Reject. Verified like `/authenticate`; what each
 * click or submission does is `answerInteraction`'s (core/slack/interactions.ts).
 */
export function resolveRoute(deps: ResolveDeps): Hono {
  return new Hono().post(
    "/resolve",
    requireSlackSignatureHeaders({ ...deps, route: "/resolve" }),
    limitBodySize(MAX_INTERACTION_BODY_BYTES),
    requireSlackSignature({ ...deps, route: "/resolve" }),
    async (c) => {
      const parsed = parseInteraction(new URLSearchParams(await c.req.text()).get("payload"));
      const answer = parsed.ok ? await answerInteraction(parsed.interaction, deps) : parsed.answer;
      if (answer.kind === "bad-request") return jsonError(c, 400, answer.message);
      return answer.kind === "json" ? c.json(answer.body) : c.body(null, 200);
    },
  );
}
