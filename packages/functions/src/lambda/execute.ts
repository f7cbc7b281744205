import { createDeadLetterActionsFromEnv } from "@victoria/core/deadletter/dead-letter-actions-from-env";
import { createJsonLogger } from "@victoria/core/logging/json-logger";
import { Hono } from "hono";
import { handle } from "hono/aws-lambda";
import { createApp } from "../app";
import { createCommandRunner } from "../execute-runner";
import { jsonError } from "../http/json-errors";
import { executeRoute } from "../routes/execute";
import { readExecuteSettings } from "../settings";

const logger = createJsonLogger();

/** Built once per container; a missing setting answers every request with a 500 naming it (fail closed). */
function buildApp(): Hono {
  try {
    const settings = readExecuteSettings(process.env);
    const router = executeRoute({
      // `victoria deadletter …` works on the vault and bus configured for this function.
      runner: createCommandRunner(settings, process.env, () => createDeadLetterActionsFromEnv(process.env)),
      sharedSecret: settings.sharedSecret,
      logger,
    });
    return createApp({ logger, routes: [{ path: "/execute", method: "POST", router }] });
  } catch (error) {
    const message = `Server misconfigured: ${(error as Error).message}`;
    logger.error("execute function misconfigured", { errorMessage: (error as Error).message });
    return new Hono().all("*", (c) => jsonError(c, 500, message));
  }
}

export const handler = handle(buildApp());
