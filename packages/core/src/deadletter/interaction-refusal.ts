import type { Logger } from "../logging/json-logger";
import type { AuditLog } from "../security/audit-log";

/** Who clicked or submitted, as every interaction job carries it. */
export interface InteractionOrigin {
  requestId: string;
  userId: string;
  teamId?: string;
  channel?: string;
}

/**
 * Audits a button or dialog the gate refused (or held for approval). A failed audit write is logged,
 * not thrown: the person is still told, and the refusal stands either way.
 */
export async function auditInteractionRefusal(
  deps: { audit: AuditLog; logger: Logger; now: () => Date },
  job: InteractionOrigin,
  refusal: { command: string; reason: string; email?: string },
): Promise<void> {
  const { email } = refusal;
  await deps.audit
    .write({
      phase: "refused",
      requestId: job.requestId,
      time: deps.now().toISOString(),
      source: "interaction",
      user: email ? { id: job.userId, email } : { id: job.userId },
      team: job.teamId,
      channel: job.channel,
      command: refusal.command,
      reason: refusal.reason,
    })
    .catch((e: Error) =>
      deps.logger.error("audit write failed", { requestId: job.requestId, errorMessage: e.message }),
    );
}
