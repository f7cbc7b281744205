import { createDeadLetterActionsFromEnv } from "@victoria/core/deadletter/dead-letter-actions-from-env";
import { createJsonLogger } from "@victoria/core/logging/json-logger";
import { createApp } from "../app";
import { createCommandRunner } from "../execute-runner";
import { executeRoute } from "../routes/execute";
import { readExecuteSettings } from "../settings";
import { functionUrlHandler } from "./lambda-app";

const logger = createJsonLogger();

export const handler = functionUrlHandler("execute", ["VICTORIA_SHARED_SECRET"], logger, (env) => {
  const settings = readExecuteSettings(env);
  const router = executeRoute({
    // `victoria deadletter …` works on the vault and bus configured for this function.
    runner: createCommandRunner(settings, env, () => createDeadLetterActionsFromEnv(env)),
    sharedSecret: settings.sharedSecret,
    logger,
  });
  return createApp({ logger, routes: [{ path: "/execute", method: "POST", router }] });
});
