/** Who asked for what, from where, when, and how it ended. Written before and after every run. */
export interface AuditRecord {
  /** `requested` before running; `finished` after; `refused` when the chain said no. */
  phase: "requested" | "finished" | "refused";
  requestId: string;
  /** ISO-8601 UTC with milliseconds, so records never collide as the original's did. */
  time: string;
  source: "slash_command" | "app_mention" | "direct_message" | "interaction";
  user: { id: string; email?: string };
  team?: string;
  channel?: string;
  /** The command line as the user typed it (after mention stripping). */
  command: string;
  /** Why the request was refused (phase `refused`). */
  reason?: string;
  exitStatus?: number | "error";
  durationMs?: number;
  /** The start of the output, for the record; never the whole of a large output. */
  output?: string;
}

export interface AuditLog {
  /** Rejects when the record could not be stored; callers must not run the command then. */
  write(record: AuditRecord): Promise<void>;
}

export const AUDIT_OUTPUT_LIMIT = 2000;

export function truncateForAudit(output: string): string {
  return output.length <= AUDIT_OUTPUT_LIMIT ? output : `${output.slice(0, AUDIT_OUTPUT_LIMIT)}… [truncated]`;
}
