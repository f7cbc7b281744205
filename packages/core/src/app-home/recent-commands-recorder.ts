import type { Logger } from "../logging/json-logger";
import type { AuditLog } from "../security/audit-log";
import { isRecentCommandUserId, type RecentCommandStore, recentCommandOf } from "./recent-commands";

/**
 * The audit log, also noting each person's finished and refused commands in their recent list.
 * One place sees every command's outcome (slash command, mention, DM, button, approved run), and the
 * audit itself stays append-only: the list is a copy kept for the App Home, never what is audited.
 * A failure to note is logged, never thrown: the command and its audit record stand.
 */
export function recordingRecentCommands(
  audit: AuditLog,
  recent: RecentCommandStore,
  logger: Logger,
): AuditLog {
  return {
    async write(record) {
      await audit.write(record);
      const entry = recentCommandOf(record);
      if (!entry || !isRecentCommandUserId(record.user.id)) return;
      await recent.add(record.user.id, entry).catch((error: Error) =>
        logger.warn("could not note the recent command", {
          requestId: record.requestId,
          errorMessage: error.message,
        }),
      );
    },
  };
}
