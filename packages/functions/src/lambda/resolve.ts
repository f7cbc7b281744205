import { createLambdaDispatcher } from "@victoria/core/adapters/aws/lambda-dispatcher";
import { createLazyWebApiChat } from "@victoria/core/adapters/slack/lazy-web-api-chat";
import { createJsonLogger } from "@victoria/core/logging/json-logger";
import { createApp } from "../app";
import { resolveRoute } from "../routes/resolve";
import { requireSetting } from "../settings";
import { functionUrlHandler } from "./lambda-app";

const logger = createJsonLogger();

/** Acknowledges Slack's interaction and hands the action to the worker function. */
export const handler = functionUrlHandler(
  "resolve",
  ["SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "VICTORIA_WORKER_FUNCTION"],
  logger,
  (env) => {
    const router = resolveRoute({
      signingSecret: requireSetting(env, "SLACK_SIGNING_SECRET"),
      chat: createLazyWebApiChat({
        token: requireSetting(env, "SLACK_BOT_TOKEN"),
        slackApiUrl: env.SLACK_API_URL || undefined,
        // views.open must happen inside the 3 s trigger window: no slow retries.
        retryConfig: { retries: 0 },
      }),
      // One attempt: a retried Invoke whose first response was lost would queue the job twice.
      // A failed hand-off is answered with an error so the caller (Slack, Azure) retries instead.
      dispatcher: createLambdaDispatcher({
        functionName: requireSetting(env, "VICTORIA_WORKER_FUNCTION"),
        clientConfig: { maxAttempts: 1, requestHandler: { requestTimeout: 1_000 } },
      }),
      logger,
    });
    return createApp({ logger, routes: [{ path: "/resolve", method: "POST", router }] });
  },
);
