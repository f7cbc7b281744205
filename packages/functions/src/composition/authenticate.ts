import type { RouteMount } from "../app";
import { authenticateRoute } from "../routes/authenticate";
import { requireSetting } from "../settings";
import { type DedupingFrontDoorComposition, SLACK_HAND_OFF_TIMEOUT_MS } from "./front-door";

/** `POST /authenticate`: Slack's front door, acknowledging and handing each command to a job. */
export function composeAuthenticateRoute({
  env,
  logger,
  dispatcher,
  dedupe,
}: DedupingFrontDoorComposition): RouteMount {
  const router = authenticateRoute({
    signingSecret: requireSetting(env, "SLACK_SIGNING_SECRET"),
    botUserId: env.SLACK_BOT_USER_ID || undefined,
    dispatcher: dispatcher({ timeoutMs: SLACK_HAND_OFF_TIMEOUT_MS }),
    dedupe: dedupe(),
    logger,
  });
  return { path: "/authenticate", method: "POST", router };
}
