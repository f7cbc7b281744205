import { createHash } from "node:crypto";

export const AUDIT_PHASES = [
  "requested",
  "finished",
  "refused",
  "approval-requested",
  "approval",
  "rejected",
  "expired",
] as const;
export type AuditPhase = (typeof AUDIT_PHASES)[number];

/** Who asked for what, from where, when, and how it ended. Written before and after every run. */
export interface AuditRecord {
  /**
   * `requested` before running; `finished` after; `refused` when the gate said no. An approval's
   * life: `approval-requested` (by the requester), `approval` (one approver's; `output` says how many
   * of how many), `rejected`, `expired`; the run it allows is `requested` / `finished` with `approvalId`.
   */
  phase: AuditPhase;
  requestId: string;
  /** ISO-8601 UTC with milliseconds, so records never collide as the original's did. */
  time: string;
  source: "slash_command" | "app_mention" | "direct_message" | "interaction";
  user: { id: string; email?: string };
  team?: string;
  channel?: string;
  /** The command line as the user typed it (after mention stripping). */
  command: string;
  /** Why the request was refused (phase `refused`), or the policy rule behind an approval phase. */
  reason?: string;
  /** The approval request this record belongs to (its phases, and the run it allowed). */
  approvalId?: string;
  exitStatus?: number | "error";
  durationMs?: number;
  /** The start of the output, for the record; never the whole of a large output, never a sensitive one. */
  output?: string;
  /** For sensitive output (a decrypted secret): its SHA-256 and length prove what was shown, not what it said. */
  outputDigest?: string;
  outputLength?: number;
  /**
   * A dead-letter repair (a replay with edits): what it changed (`body`, `set KEY`, `unset KEY`; what
   * was asked when it did not happen) and the new body's SHA-256, never the body or the values.
   */
  edits?: { changes: string[]; bodyDigest?: string };
}

export interface AuditLog {
  /** Rejects when the record could not be stored; callers must not run the command then. */
  write(record: AuditRecord): Promise<void>;
}

export const AUDIT_OUTPUT_LIMIT = 2000;

/** The output as the audit keeps it: truncated, or for a sensitive command only its digest and length. */
export function outputForAudit(
  output: string,
  sensitive: boolean,
): Pick<AuditRecord, "output" | "outputDigest" | "outputLength"> {
  if (!sensitive) return { output: truncateForAudit(output) };
  return {
    outputDigest: `sha256:${createHash("sha256").update(output, "utf8").digest("hex")}`,
    outputLength: output.length,
  };
}

export function truncateForAudit(output: string): string {
  return output.length <= AUDIT_OUTPUT_LIMIT ? output : `${output.slice(0, AUDIT_OUTPUT_LIMIT)}… [truncated]`;
}
