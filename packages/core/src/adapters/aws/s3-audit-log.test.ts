import { createServer } from "node:net";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { S3StandIn } from "@victoria/emulators/s3";
import { startS3TestClient } from "@victoria/emulators/s3-test-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditRecord } from "../../security/audit-log";
import { auditKey, createS3AuditLog, listAuditRecords } from "./s3-audit-log";

// Over the wire against the loopback S3 stand-in, which honours If-None-Match (s3rver does not).
let s3: S3StandIn;
let client: S3Client;
let close: () => Promise<void>;
const bucket = "victoria-audit";

beforeAll(async () => {
  ({ s3, client, close } = await startS3TestClient({ buckets: [bucket] }));
});

afterAll(() => close?.());

const record = (overrides: Partial<AuditRecord> = {}): AuditRecord => ({
  phase: "requested",
  requestId: "req-1",
  time: "2025-03-04T05:06:07.089Z",
  source: "slash_command",
  user: { id: "U1", email: "a@example.com" },
  team: "T1",
  channel: "C1",
  command: "config view",
  ...overrides,
});

const under = (prefix: string) => s3.keys(bucket).filter((k) => k.startsWith(prefix));

/** A port nothing listens on: bound once by us, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("S3 audit log over the wire", () => {
  it("files records under UTC date keys that sort by time", async () => {
    const audit = createS3AuditLog({ client, bucket, prefix: "dated" });
    await audit.write(record({ phase: "finished", time: "2025-03-04T05:06:08.000Z", exitStatus: 0 }));
    await audit.write(record());
    // 23:30 at UTC-2 is the next UTC day.
    await audit.write(record({ requestId: "req-2", time: "2025-12-31T23:30:00.000-02:00" }));
    expect(under("dated/")).toEqual([
      "dated/2025/03/04/20250304T050607.089Z-req-1-requested.json",
      "dated/2025/03/04/20250304T050608.000Z-req-1-finished.json",
      "dated/2026/01/01/20260101T013000.000Z-req-2-requested.json",
    ]);
  });

  it("uses audit/ by default and keeps odd request ids inside one key", async () => {
    await createS3AuditLog({ client, bucket }).write(record({ requestId: "../a/b c" }));
    expect(under("audit/")).toEqual(["audit/2025/03/04/20250304T050607.089Z-..%2Fa%2Fb%20c-requested.json"]);
    expect(auditKey(record({ requestId: "x".repeat(300) }))).toMatch(/-=[0-9a-f]{64}-requested\.json$/);
    expect(auditKey(record({ requestId: "a/b" }))).not.toBe(auditKey(record({ requestId: "a%2Fb" })));
  });

  it("round-trips the content as one JSON line", async () => {
    const audit = createS3AuditLog({ client, bucket, prefix: "roundtrip/" });
    const written = record({ phase: "finished", exitStatus: "error", durationMs: 12, output: "é\n✓" });
    await audit.write(written);
    const [key] = under("roundtrip/");
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(object.ContentType).toBe("application/json");
    const text = (await object.Body?.transformToString("utf-8")) ?? "";
    expect(text).toBe(`${JSON.stringify(written)}\n`);
    expect(await listAuditRecords({ client, bucket, prefix: "roundtrip/" })).toEqual([written]);
  });

  it("accepts a repeated identical write without overwriting it", async () => {
    const audit = createS3AuditLog({ client, bucket, prefix: "dup/" });
    const before = s3.requests.length;
    await audit.write(record());
    await audit.write(record());
    await Promise.all(Array.from({ length: 10 }, () => audit.write(record())));
    const puts = s3.requests.slice(before).filter((r) => r.method === "PUT");
    expect(puts.map((r) => r.status)).toEqual([200, ...Array(11).fill(412)]);
    expect(under("dup/")).toHaveLength(1);
  });

  it("rejects a different record at the same key and keeps the first", async () => {
    const audit = createS3AuditLog({ client, bucket, prefix: "conflict/" });
    await audit.write(record());
    await expect(audit.write(record({ command: "secrets rotate" }))).rejects.toThrow(
      "Audit record conflict (s3://victoria-audit/conflict/2025/03/04/20250304T050607.089Z-req-1-requested.json)",
    );
    expect(await listAuditRecords({ client, bucket, prefix: "conflict/" })).toEqual([record()]);
  });

  it("fails closed on a duplicate when it may not read the trail (PutObject-only role)", async () => {
    const putOnly = new S3Client({ ...s3.clientConfig, maxAttempts: 1 });
    putOnly.middlewareStack.add(
      (next, context) => (args) => {
        if (context.commandName === "GetObjectCommand") {
          throw Object.assign(new Error("Access Denied"), { name: "AccessDenied" });
        }
        return next(args);
      },
      { step: "initialize" },
    );
    const audit = createS3AuditLog({ client: putOnly, bucket, prefix: "putonly/" });
    await audit.write(record());
    await expect(audit.write(record())).rejects.toThrow(/could not be read to compare.*AccessDenied/);
    putOnly.destroy();
  });

  it("rejects when S3 is unreachable or the bucket is missing, so the caller refuses to run", async () => {
    const port = await closedPort();
    const offline = new S3Client({
      ...s3.clientConfig,
      endpoint: `http://127.0.0.1:${port}`,
      maxAttempts: 1,
    });
    await expect(createS3AuditLog({ client: offline, bucket }).write(record())).rejects.toThrow(
      /^Audit record could not be stored \(s3:\/\/victoria-audit\/audit\/2025\/03\/04\//,
    );
    offline.destroy();
    await expect(createS3AuditLog({ client, bucket: "no-such-bucket" }).write(record())).rejects.toThrow(
      /could not be stored.*NoSuchBucket/,
    );
  });

  it("rejects a record it cannot file, writing nothing", async () => {
    const audit = createS3AuditLog({ client, bucket, prefix: "invalid/" });
    await expect(audit.write(record({ time: "yesterday" }))).rejects.toThrow("invalid time");
    await expect(audit.write(record({ requestId: "" }))).rejects.toThrow("no requestId");
    expect(under("invalid/")).toEqual([]);
  });

  it("lists records oldest first across pages, from a given instant", async () => {
    const audit = createS3AuditLog({ client, bucket, prefix: "listed/" });
    const times = ["2025-01-01T00:00:00.000Z", "2025-01-02T12:00:00.000Z", "2025-01-02T12:00:00.001Z"];
    const written = times.map((time, i) => record({ requestId: `r${i}`, time }));
    for (const r of [...written].reverse()) await audit.write(r);
    expect(await listAuditRecords({ client, bucket, prefix: "listed/", pageSize: 1 })).toEqual(written);
    expect(await listAuditRecords({ client, bucket, prefix: "listed/", since: times[1] })).toEqual(
      written.slice(1),
    );
    expect(
      await listAuditRecords({ client, bucket, prefix: "listed/", since: new Date("2025-01-03T00:00:00Z") }),
    ).toEqual([]);
  });
});
