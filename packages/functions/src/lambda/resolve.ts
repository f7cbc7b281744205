import { createLambdaDispatcher } from "@victoria/core/adapters/aws/lambda-dispatcher";
import { createWebApiChat } from "@victoria/core/adapters/slack/web-api-chat";
import { createJsonLogger } from "@victoria/core/logging/json-logger";
import { Hono } from "hono";
import { handle } from "hono/aws-lambda";
import { createApp } from "../app";
import { jsonError } from "../http/json-errors";
import { resolveRoute } from "../routes/resolve";
import { requireSetting } from "../settings";

const logger = createJsonLogger();

/** Acknowledges Slack's interaction and hands the action to the worker function. */
function buildApp(): Hono {
  try {
    const router = resolveRoute({
      signingSecret: requireSetting(process.env, "SLACK_SIGNING_SECRET"),
      chat: createWebApiChat({
        token: requireSetting(process.env, "SLACK_BOT_TOKEN"),
        slackApiUrl: process.env.SLACK_API_URL || undefined,
        // views.open must happen inside the 3 s trigger window: no slow retries.
        retryConfig: { retries: 0 },
      }),
      dispatcher: createLambdaDispatcher({
        functionName: requireSetting(process.env, "VICTORIA_WORKER_FUNCTION"),
        clientConfig: { maxAttempts: 2, requestHandler: { requestTimeout: 1_000 } },
      }),
      logger,
    });
    return createApp({ logger, routes: [{ path: "/resolve", method: "POST", router }] });
  } catch (error) {
    logger.error("resolve function misconfigured", { errorMessage: (error as Error).message });
    const message = `Server misconfigured: ${(error as Error).message}`;
    return new Hono().all("*", (c) => jsonError(c, 500, message));
  }
}

export const handler = handle(buildApp());
