import type { AuditLog, AuditRecord } from "../security/audit-log";
import type { Metrics } from "./metrics";

/**
 * The plugins a command may name (core-plugins.ts; a test keeps the two lists equal). Anything
 * else a person types is `other`: a dimension value is a CloudWatch metric of its own, so it must
 * not be whatever text reached the front door.
 */
export const COMMAND_PLUGINS = ["config", "encrypt", "store", "deadletter", "policy", "audit"] as const;

/** The `Plugin` dimension of a command line: its first word when that is a plugin, else `other`. */
export function pluginOf(command: string): string {
  const first = command.trim().split(/\s+/, 1)[0]?.toLowerCase() ?? "";
  return (COMMAND_PLUGINS as readonly string[]).includes(first) ? first : "other";
}

/**
 * The audit log, also counting each command's outcome: CommandsRun (and CommandsFailed unless it
 * exited 0) for a `finished` record, CommandsRefused for a `refused` one. Every command's end is
 * audited exactly once, by the worker that ran it (`/execute` writes no audit), so this is the one
 * place a command is counted. Counted even when the write fails: the command did end that way.
 */
export function countingCommands(audit: AuditLog, metrics: Metrics): AuditLog {
  const count = (record: AuditRecord) => {
    const dimensions = { Plugin: pluginOf(record.command) };
    if (record.phase === "refused") metrics.add("CommandsRefused", 1, dimensions);
    if (record.phase !== "finished") return;
    metrics.add("CommandsRun", 1, dimensions);
    if (record.exitStatus !== 0) metrics.add("CommandsFailed", 1, dimensions);
  };
  return {
    async write(record) {
      count(record);
      await audit.write(record);
    },
  };
}
