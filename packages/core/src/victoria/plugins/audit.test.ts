import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import { startS3StandIn } from "@victoria/emulators/s3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createS3AuditLog } from "../../adapters/aws/s3-audit-log";
import type { AuditRecord } from "../../security/audit-log";
import { AUDIT_READ_ELSEWHERE } from "../../security/audit-trail";
import { createVictoria } from "../engine";
import { BufferedOutput } from "../output";
import { corePlugins } from "./core-plugins";

const providers = { encryption: {}, storage: {} };

function auditShow(env: NodeJS.ProcessEnv, mode?: "server") {
  const victoria = createVictoria({ plugins: corePlugins, providers, env, ...(mode ? { mode } : {}) });
  return async (...argv: string[]) => {
    const out = new BufferedOutput();
    const outcome = await victoria.execute(["audit", "show", ...argv], { out });
    return { ...outcome, output: out.text() };
  };
}

const now = Date.now();
const at = (secondsAgo: number) => new Date(now - secondsAgo * 1000).toISOString();
const record = (overrides: Partial<AuditRecord>): AuditRecord => ({
  phase: "requested",
  requestId: "req-1",
  time: at(60),
  source: "slash_command",
  user: { id: "U1", email: "alice@example.com" },
  channel: "C0OPS",
  command: "config view",
  ...overrides,
});

/** One request's story (written out of order), a neighbour's, and one long gone. */
const STORY: AuditRecord[] = [
  record({ phase: "finished", time: at(59), exitStatus: 0, durationMs: 321 }),
  record({ phase: "requested", time: at(60), command: "config \u001b[31mview\u202e" }),
  record({ requestId: "req-1-other", time: at(58) }),
  record({ requestId: "req-10", time: at(57) }),
  record({ time: at(40 * 86_400), phase: "refused", reason: "old" }),
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "audit-show-"));
  await writeFile(
    join(dir, "audit.jsonl"),
    `${[...STORY.map((r) => JSON.stringify(r)), "{torn", ""].join("\n")}`,
  );
});

describe("victoria audit show (the local JSON Lines trail)", () => {
  it("prints one request's story, oldest first, its command escaped for the terminal", async () => {
    const run = auditShow({ AUDIT_LOG_FILE: join(dir, "audit.jsonl") });
    const { exitCode, output } = await run("req-1");
    expect(exitCode).toBe(0);
    expect(output).toContain("Request req-1: 2 audit records");
    const requested = output.indexOf("requested  alice@example.com (U1)  slash_command  in C0OPS");
    const finished = output.indexOf("finished");
    expect(requested).toBeGreaterThan(0);
    expect(finished).toBeGreaterThan(requested);
    expect(output).toContain("exit status: 0 after 321 ms");
    expect(output).not.toContain("\u001b");
    expect(output).not.toContain("\u202e");
    expect(output).not.toContain("req-1-other");
    expect(output).not.toContain("old");
  });

  it("--json gives the records for scripts; --since widens the window", async () => {
    const run = auditShow({ AUDIT_LOG_FILE: join(dir, "audit.jsonl") });
    const json = await run("req-1", "--json", "--since", "60d");
    expect(json.exitCode).toBe(0);
    const parsed = JSON.parse(json.output) as { records: AuditRecord[] };
    expect(parsed.records.map((r) => r.phase)).toEqual(["refused", "requested", "finished"]);
  });

  it("says so (exit 1) when nothing is found, and refuses a malformed id or --since (exit 2)", async () => {
    const run = auditShow({ AUDIT_LOG_FILE: join(dir, "audit.jsonl") });
    const none = await run("req-404");
    expect(none.exitCode).toBe(1);
    expect(none.output).toContain("No audit records for request req-404");
    for (const id of ["../../etc/passwd", "a b", "r".repeat(101)]) {
      const bad = await run(id);
      expect(bad.exitCode).toBe(2);
      expect(bad.output).toContain("ID must be a request id");
    }
    const since = await run("req-1", "--since", "yesterday");
    expect(since.exitCode).toBe(2);
    const missing = await auditShow({ AUDIT_LOG_FILE: join(dir, "nope.jsonl") })("req-1");
    expect(missing.exitCode).toBe(1);
  });

  it("through /execute on AWS (server mode, a Lambda, or AUDIT_BUCKET) says what it needs and how to run it", async () => {
    for (const env of [
      { AWS_LAMBDA_FUNCTION_NAME: "victoria-execute" },
      { AUDIT_BUCKET: "victoria-audit" },
    ]) {
      const { exitCode, output } = await auditShow(env, "server")("req-1");
      expect(exitCode).toBe(1);
      expect(output).toContain(AUDIT_READ_ELSEWHERE);
      expect(output).toContain("npm run victoria -- audit show");
      expect(output).not.toMatch(/\n\s+at /);
    }
  });
});

describe("victoria audit show (the S3 audit bucket, IAM enforced)", () => {
  const bucket = "victoria-audit";
  let s3: Awaited<ReturnType<typeof startS3StandIn>>;
  /** The operator's shell: the SDK's own variables, read by its default chain. */
  const as = (accessKeyId: string): NodeJS.ProcessEnv => {
    vi.stubEnv("AWS_ENDPOINT_URL_S3", s3.endpoint);
    vi.stubEnv("AWS_REGION", s3.region);
    vi.stubEnv("AWS_ACCESS_KEY_ID", accessKeyId);
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "secret");
    return { AUDIT_BUCKET: bucket };
  };
  beforeAll(async () => {
    // The function may only put; the operator may list and read.
    s3 = await startS3StandIn({
      buckets: [bucket],
      authorize: (key, action) =>
        key === "AKIDFUNCTION"
          ? action === "s3:PutObject"
          : key === "AKIDOPERATOR" && ["s3:ListBucket", "s3:GetObject"].includes(action),
    });
    const writer = createS3AuditLog({
      client: new S3Client({
        ...s3.clientConfig,
        credentials: { accessKeyId: "AKIDFUNCTION", secretAccessKey: "secret" },
      }),
      bucket,
    });
    for (const r of STORY) await writer.write(r);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await s3?.close();
  });

  it("lists only that id's keys and reads only those objects", async () => {
    const before = s3.requests.length;
    const { exitCode, output } = await auditShow(as("AKIDOPERATOR"))("req-1");
    expect(exitCode).toBe(0);
    expect(output).toContain(`Request req-1: 2 audit records in s3://${bucket}/audit/`);
    const reads = s3.requests
      .slice(before)
      .filter((r) => r.method === "GET" && r.path.startsWith(`/${bucket}/audit/`));
    expect(reads.map((r) => r.path)).toHaveLength(2);
  });

  it("with credentials that may only append, answers what it needs (exit 1), no stack trace", async () => {
    const { exitCode, output } = await auditShow(as("AKIDFUNCTION"))("req-1");
    expect(exitCode).toBe(1);
    expect(output).toContain("access denied");
    expect(output).toContain("s3:ListBucket");
    expect(output).not.toMatch(/\n\s+at /);
  });
});
