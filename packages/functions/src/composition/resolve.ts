import { createLazyWebApiChat } from "@victoria/core/adapters/slack/lazy-web-api-chat";
import type { RouteMount } from "../app";
import { resolveRoute } from "../routes/resolve";
import { requireSetting } from "../settings";
import { type FrontDoorComposition, SLACK_HAND_OFF_TIMEOUT_MS } from "./front-door";

/** `POST /resolve`: Slack's buttons and dialogs; the email dialog opens here, the action runs as a job. */
export function composeResolveRoute({ env, logger, dispatcher }: FrontDoorComposition): RouteMount {
  const router = resolveRoute({
    signingSecret: requireSetting(env, "SLACK_SIGNING_SECRET"),
    chat: createLazyWebApiChat({
      token: requireSetting(env, "SLACK_BOT_TOKEN"),
      slackApiUrl: env.SLACK_API_URL || undefined,
      // views.open must happen inside the 3 s trigger window: no slow retries.
      retryConfig: { retries: 0 },
    }),
    dispatcher: dispatcher({ timeoutMs: SLACK_HAND_OFF_TIMEOUT_MS }),
    logger,
  });
  return { path: "/resolve", method: "POST", router };
}
