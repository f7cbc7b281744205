import type { RouteMount } from "../app";
import { slackAcknowledgement } from "../http/ack-latency";
import { authenticateRoute } from "../routes/authenticate";
import { requireSetting } from "../settings";
import { type DedupingFrontDoorComposition, SLACK_HAND_OFF_TIMEOUT_MS } from "./front-door";

/** `POST /authenticate`: Slack's front door, acknowledging and handing each command to a job. */
export function composeAuthenticateRoute({
  env,
  logger,
  metrics,
  dispatcher,
  dedupe,
}: DedupingFrontDoorComposition): RouteMount {
  const ack = slackAcknowledgement(metrics);
  const router = authenticateRoute({
    signingSecret: requireSetting(env, "SLACK_SIGNING_SECRET"),
    botUserId: env.SLACK_BOT_USER_ID || undefined,
    // Each command handed off knows when it arrived: the worker measures EndToEndLatency from it.
    dispatcher: ack.stamping(dispatcher({ timeoutMs: SLACK_HAND_OFF_TIMEOUT_MS })),
    dedupe: dedupe(),
    logger,
  });
  return { path: "/authenticate", method: "POST", router: ack.measured("/authenticate", router) };
}
