import { createReadStream } from "node:fs";
import { appendFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { createInterface } from "node:readline";
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

/**
 * One request's records from the file, oldest first (the file's order), read line by line so a long
 * trail never sits in memory whole. A line that is not a record (a torn write) is skipped. A missing
 * file holds no records.
 */
export async function readJsonlAuditRecords(
  file: string,
  { requestId, since }: { requestId: string; since?: Date },
): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  const lines = createInterface({ input: createReadStream(file, { encoding: "utf8" }), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      // Cheap test first: most lines are other requests'.
      if (!line.includes(requestId)) continue;
      let record: Partial<AuditRecord>;
      try {
        record = JSON.parse(line) as Partial<AuditRecord>;
      } catch {
        continue;
      }
      if (record?.requestId !== requestId || typeof record.time !== "string") continue;
      if (since && Date.parse(record.time) < since.getTime()) continue;
      records.push(record as AuditRecord);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  } finally {
    lines.close();
  }
  return records;
}
