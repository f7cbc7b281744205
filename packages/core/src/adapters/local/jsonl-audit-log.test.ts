import { chmod, mkdir, mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AuditRecord } from "../../security/audit-log";
import { createJsonlAuditLog } from "./jsonl-audit-log";

const record = (requestId: string): AuditRecord => ({
  phase: "requested",
  requestId,
  time: new Date(0).toISOString(),
  source: "slash_command",
  user: { id: "U1", email: "a@example.com" },
  command: "config view",
});

describe("JSON Lines audit log", () => {
  it("appends one parseable line per record, creating the folder, keeping concurrent writes whole", async () => {
    const file = join(await mkdtemp(join(tmpdir(), "audit-")), "nested", "audit.jsonl");
    const audit = createJsonlAuditLog(file);
    await Promise.all(Array.from({ length: 50 }, (_, i) => audit.write(record(`r${i}`))));
    const lines = (await readFile(file, "utf8")).trimEnd().split("\n");
    expect(lines).toHaveLength(50);
    expect(new Set(lines.map((l) => (JSON.parse(l) as AuditRecord).requestId)).size).toBe(50);
  });

  it("rejects when the file cannot be written", async () => {
    const dir = await mkdtemp(join(tmpdir(), "audit-ro-"));
    await mkdir(join(dir, "ro"));
    await chmod(join(dir, "ro"), 0o500);
    const audit = createJsonlAuditLog(join(dir, "ro", "audit.jsonl"));
    // root ignores permissions; a directory in the file's place fails for everyone.
    const blocked = createJsonlAuditLog(dir);
    await expect(blocked.write(record("x"))).rejects.toThrow();
    if (process.getuid?.() !== 0) await expect(audit.write(record("y"))).rejects.toThrow();
  });
});
