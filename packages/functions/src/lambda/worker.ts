import { createJobRouter } from "@victoria/core/dispatch/job-router";
import { createJsonLogger } from "@victoria/core/logging/json-logger";
import { SLACK_COMMAND_JOB, slackCommandJobSchema } from "@victoria/core/slack/slack-command-job";
import { readSlackCommandSettings } from "../settings";
import { wireSlackCommandHandler } from "../slack-command-wiring";

const logger = createJsonLogger();

/** Built on first use so a misconfiguration fails the invocation (and is logged), not the import. */
let router: ReturnType<typeof createJobRouter> | undefined;

function getRouter() {
  if (!router) {
    const handleSlackCommand = wireSlackCommandHandler({
      settings: readSlackCommandSettings(process.env),
      env: process.env,
      logger,
    });
    router = createJobRouter({
      [SLACK_COMMAND_JOB]: (payload) => handleSlackCommand(slackCommandJobSchema.parse(payload)),
    });
  }
  return router;
}

/**
 * The asynchronous half of `/authenticate` (and later `/resolve`): invoked with `{kind, payload}`.
 * Failures are logged and swallowed: Lambda's automatic retry of an async invocation could run a
 * command a second time after it already ran and only the reply failed.
 */
export async function handler(event: unknown): Promise<void> {
  try {
    await getRouter().run(event);
  } catch (error) {
    logger.error("worker job failed", {
      errorName: (error as Error).name,
      errorMessage: (error as Error).message,
    });
  }
}
