import { S3Client } from "@aws-sdk/client-s3";
import { listAuditRecords } from "@victoria/core/adapters/aws/s3-audit-log";
import { createVictoria } from "@victoria/core/victoria/engine";
import { BufferedOutput } from "@victoria/core/victoria/output";
import { corePlugins } from "@victoria/core/victoria/plugins/core-plugins";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Twin } from "../src/twin";
import { sendSlash, startTestTwin, type TestTwin } from "./twin-fixture";

/*
 * One request id per request, through the deployment: a slash command's id, minted by the
 * authenticate function, is on its log line, the worker's, the execute function's and its audit
 * records in the audit bucket; `victoria audit show <id>` (run as an operator) prints its story.
 */

let twin: Twin;
let eventually: TestTwin["eventually"];
let functionLog: TestTwin["functionLog"];
let answerAt: TestTwin["answerAt"];

beforeAll(async () => {
  ({ twin, eventually, functionLog, answerAt } = await startTestTwin());
}, 120_000);

afterAll(async () => {
  vi.unstubAllEnvs();
  await twin?.close();
});

/** A slash command from a member in #ops; the text of its answer. */
async function slash(text: string) {
  const { res, responseUrl } = await sendSlash(twin, { user: "U0MEMBER", text });
  expect(res.status).toBe(200);
  return String((await answerAt(responseUrl)).body.text);
}

/** The request id authenticate gave the slash command whose text is `text`. */
function acceptedIds(): string[] {
  return functionLog("Authenticate")
    .filter((line) => line.message === "slack command accepted")
    .map((line) => String(line.requestId));
}

describe("one request id per request, through the twin", () => {
  it("a slash command's id is on every hop's log lines and its audit records; audit show tells its story", async () => {
    const before = acceptedIds().length;
    expect(await slash("config path")).toContain("bundled default config");
    const ids = acceptedIds().slice(before);
    expect(ids).toHaveLength(1);
    const id = ids[0] as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    const of = (functionId: string) => functionLog(functionId).filter((line) => line.requestId === id);
    // The worker ran the job under the id (its own line), and called /execute with it in the signed body.
    expect(of("Worker").map((line) => line.message)).toContain("job finished");
    expect(of("Execute")).toEqual(
      expect.arrayContaining([expect.objectContaining({ message: "execute", exitStatus: 0, argsCount: 2 })]),
    );

    // The audit trail, read as an operator (the functions may only append to it), keys filtered first.
    const bucket = twin.outputs.auditBucket as string;
    const operator = new S3Client({ ...twin.s3.clientConfig, credentials: twin.operatorCredentials });
    const records = await eventually(async () => {
      const found = await listAuditRecords({ client: operator, bucket, requestId: id });
      return found.some((r) => r.phase === "finished") ? found : undefined;
    });
    expect(records.map((r) => [r.phase, r.requestId, r.command])).toEqual([
      ["requested", id, "config path"],
      ["finished", id, "config path"],
    ]);

    // `npm run victoria -- audit show <id>` on an operator's machine: AUDIT_BUCKET and read credentials.
    vi.stubEnv("AWS_ENDPOINT_URL_S3", twin.s3.endpoint);
    vi.stubEnv("AWS_REGION", twin.s3.region);
    vi.stubEnv("AWS_ACCESS_KEY_ID", twin.operatorCredentials.accessKeyId);
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", twin.operatorCredentials.secretAccessKey);
    const victoria = createVictoria({
      plugins: corePlugins,
      providers: { encryption: {}, storage: {} },
      env: { AUDIT_BUCKET: bucket },
    });
    const out = new BufferedOutput();
    const { exitCode } = await victoria.execute(["audit", "show", id], { out });
    expect(exitCode).toBe(0);
    const story = out.text();
    expect(story).toContain(`Request ${id}: 2 audit records in s3://${bucket}/audit/`);
    expect(story).toMatch(/requested {2}sre@example\.com \(U0MEMBER\) {2}slash_command {2}in C0OPS/);
    expect(story).toMatch(/exit status: 0 after \d+ ms/);
    expect(twin.iam.checks.filter((c) => !c.allowed && c.principal !== "Operator")).toEqual([]);
  }, 90_000);

  it("through the deployed /execute, audit show says what it needs and how to run it from a machine", async () => {
    const answer = await slash("audit show 6b0e4c1e-0000-4000-8000-000000000000");
    expect(answer).toContain("npm run victoria -- audit show");
    expect(answer).toContain("s3:ListBucket");
    expect(answer).not.toMatch(/\n\s+at /);
    // It never tried: the execute function holds no read grant on the audit bucket, and asks for none.
    expect(twin.iam.checks.filter((c) => c.principal === "Execute" && c.action === "s3:ListBucket")).toEqual(
      [],
    );
  }, 60_000);
});
