import { ConfigError } from "../victoria/errors";
import type { AuditRecord } from "./audit-log";

/** Where `victoria audit show` reads the audit trail: the deployment's S3 bucket or the local file. */
export interface AuditTrail {
  /** Names the store in what the command prints (`s3://bucket/audit/`, a file path). */
  where: string;
  /** One request's records at or after `since`, oldest first. */
  story(requestId: string, since: Date): Promise<AuditRecord[]>;
}

export type AuditTrailFactory = () => Promise<AuditTrail>;

/** The local trail's default path, as the local server writes it (docs/configuration.md). */
export const DEFAULT_AUDIT_LOG_FILE = ".victoria/audit.jsonl";

/** How to read the trail where the functions cannot: their role may append to it, never list it. */
export const AUDIT_READ_ELSEWHERE =
  "audit show reads the audit trail, which the deployed functions may only append to (no s3:ListBucket or s3:GetObject on the audit bucket, on purpose). Run it from a machine with read access instead: AUDIT_BUCKET=<the audit bucket> npm run victoria -- audit show <request id> (credentials allowing s3:ListBucket and s3:GetObject on that bucket).";

/**
 * The trail this environment names: AUDIT_BUCKET (listed with the caller's own AWS credentials) or
 * AUDIT_LOG_FILE. A remote caller (`/execute`, mode `server`) is refused where the trail is the
 * bucket or the process is a Lambda function: the functions hold no read grant on it, by design.
 */
export function auditTrailFromEnv(env: NodeJS.ProcessEnv, mode: "cli" | "server"): AuditTrailFactory {
  return async () => {
    const bucket = env.AUDIT_BUCKET;
    if (mode === "server" && (bucket || env.AWS_LAMBDA_FUNCTION_NAME)) {
      throw new ConfigError(AUDIT_READ_ELSEWHERE);
    }
    if (bucket) return (await import("../adapters/aws/s3-audit-trail")).createS3AuditTrail(bucket);
    const file = env.AUDIT_LOG_FILE || DEFAULT_AUDIT_LOG_FILE;
    const { readJsonlAuditRecords } = await import("../adapters/local/jsonl-audit-log");
    return { where: file, story: (requestId, since) => readJsonlAuditRecords(file, { requestId, since }) };
  };
}
