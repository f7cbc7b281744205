import { createExecuteClient } from "@victoria/core/adapters/http/execute-client";
import { createLazyWebApiChat } from "@victoria/core/adapters/slack/lazy-web-api-chat";
import type { Logger } from "@victoria/core/logging/json-logger";
import type { AuditLog } from "@victoria/core/security/audit-log";
import { createDirectoryFromEnv } from "@victoria/core/security/directory-from-env";
import { createSlackCommandHandler, type SlackCommandJob } from "@victoria/core/slack/slack-command-job";
import type { Env, SlackCommandSettings } from "./settings";
import { createAuditLog } from "./storage-from-env";

export interface SlackCommandWiring {
  settings: SlackCommandSettings;
  env: Env;
  logger: Logger;
  /** Where `/execute` is when VICTORIA_EXECUTE_URL is not set (the local server's own). */
  defaultExecuteUrl?: () => string;
  /** The audit log; defaults to the JSON Lines file in AUDIT_LOG_FILE. */
  audit?: AuditLog;
}

/** The slow half of `/authenticate` with production adapters: WebClient, directory, audit, `/execute`. */
export function wireSlackCommandHandler({
  settings,
  env,
  logger,
  defaultExecuteUrl,
  audit = createAuditLog(env, settings.auditLogFile),
}: SlackCommandWiring): (job: SlackCommandJob) => Promise<void> {
  const executeUrl = settings.executeUrl ?? defaultExecuteUrl;
  if (!executeUrl) throw new Error("VICTORIA_EXECUTE_URL is not set");
  const execute = createExecuteClient({
    url: executeUrl,
    sharedSecret: settings.sharedSecret,
    timeoutMs: settings.executeTimeoutMs,
  });
  return createSlackCommandHandler({
    chat: createLazyWebApiChat({ token: settings.botToken, slackApiUrl: settings.slackApiUrl }),
    directory: createDirectoryFromEnv(env),
    allowedMembers: settings.allowedMembers,
    audit,
    execute: (args, requestId, requester) => execute.runWithId(args, requestId, { requester }),
    logger,
  });
}
