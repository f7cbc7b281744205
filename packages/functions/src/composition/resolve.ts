import { createLazyWebApiChat } from "@victoria/core/adapters/slack/lazy-web-api-chat";
import type { Vault } from "@victoria/core/deadletter/vault";
import type { RouteMount } from "../app";
import { slackAcknowledgement } from "../http/ack-latency";
import { resolveRoute } from "../routes/resolve";
import { requireSetting } from "../settings";
import { createVault } from "../storage-from-env";
import { type FrontDoorComposition, SLACK_HAND_OFF_TIMEOUT_MS } from "./front-door";

/**
 * `POST /resolve`: Slack's buttons and dialogs; the email and repair dialogs open here (the repair
 * dialog pre-filled from the vault, read only), the action runs as a job.
 */
export function composeResolveRoute({
  env,
  logger,
  metrics,
  dispatcher,
  vault = () => createVault(env),
}: FrontDoorComposition & { vault?: () => Vault }): RouteMount {
  const router = resolveRoute({
    signingSecret: requireSetting(env, "SLACK_SIGNING_SECRET"),
    chat: createLazyWebApiChat({
      token: requireSetting(env, "SLACK_BOT_TOKEN"),
      slackApiUrl: env.SLACK_API_URL || undefined,
      // views.open must happen inside the 3 s trigger window: no slow retries.
      retryConfig: { retries: 0 },
    }),
    dispatcher: dispatcher({ timeoutMs: SLACK_HAND_OFF_TIMEOUT_MS }),
    vault: vault(),
    logger,
  });
  return {
    path: "/resolve",
    method: "POST",
    router: slackAcknowledgement(metrics).measured("/resolve", router),
  };
}
