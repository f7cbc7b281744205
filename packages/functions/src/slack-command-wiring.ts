import { createExecuteClient } from "@victoria/core/adapters/http/execute-client";
import type { ApprovalFlow } from "@victoria/core/approvals/approval-flow";
import type { Logger } from "@victoria/core/logging/json-logger";
import type { PolicyGate } from "@victoria/core/policy/policy-gate";
import type { Chat } from "@victoria/core/ports";
import type { AuditLog } from "@victoria/core/security/audit-log";
import type { SlackCommandDeps } from "@victoria/core/slack/slack-command-job";
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
  chat: Chat;
  gate: PolicyGate;
  approvals?: Pick<ApprovalFlow, "request">;
}

/** What the slow half of `/authenticate` runs with: the gate, the audit, `/execute` over HTTP. */
export function wireSlackCommandDeps({
  settings,
  env,
  logger,
  defaultExecuteUrl,
  audit = createAuditLog(env, settings.auditLogFile),
  chat,
  gate,
  approvals,
}: SlackCommandWiring): SlackCommandDeps {
  const executeUrl = settings.executeUrl ?? defaultExecuteUrl;
  if (!executeUrl) throw new Error("VICTORIA_EXECUTE_URL is not set");
  const execute = createExecuteClient({
    url: executeUrl,
    sharedSecret: settings.sharedSecret,
    timeoutMs: settings.executeTimeoutMs,
  });
  return {
    chat,
    gate,
    ...(approvals ? { approvals } : {}),
    audit,
    execute: (args, requestId, requester) => execute.runWithId(args, requestId, { requester }),
    logger,
  };
}
