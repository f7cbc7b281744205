import { appendFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { AuditLog, AuditRecord } from "../../security/audit-log";

/**
 * An append-only JSON Lines file: one record per line, never rewritten. A single appendFile per
 * record keeps concurrent writers from interleaving inside a line (O_APPEND writes are atomic for
 * lines this size on local filesystems).
 */
export function createJsonlAuditLog(file: string): AuditLog {
  let ready: Promise<unknown> | undefined;
  return {
    async write(record: AuditRecord) {
      ready ??= mkdir(dirname(file), { recursive: true });
      await ready;
      await appendFile(file, `${JSON.stringify(record)}\n`, { encoding: "utf8", flag: "a" });
    },
  };
}
