import { S3Client } from "@aws-sdk/client-s3";
import { createS3AuditLog } from "@victoria/core/adapters/aws/s3-audit-log";
import { createS3DedupeStore } from "@victoria/core/adapters/aws/s3-dedupe-store";
import { createS3Vault } from "@victoria/core/adapters/aws/s3-vault";
import { createFileVault } from "@victoria/core/adapters/local/file-vault";
import { createJsonlAuditLog } from "@victoria/core/adapters/local/jsonl-audit-log";
import type { Vault } from "@victoria/core/deadletter/vault";
import { createMemoryDedupeStore, type DedupeStore } from "@victoria/core/idempotency/dedupe-store";
import type { AuditLog } from "@victoria/core/security/audit-log";
import type { Env } from "./settings";

/**
 * Durable state by environment: on AWS the buckets the deployment names (VAULT_BUCKET,
 * AUDIT_BUCKET, DEDUPE_BUCKET); locally files under VAULT_DIR / AUDIT_LOG_FILE and memory.
 */
let s3: S3Client | undefined;
const s3Client = () => {
  s3 ??= new S3Client({});
  return s3;
};

export function createVault(env: Env): Vault {
  if (env.VAULT_BUCKET) return createS3Vault({ client: s3Client(), bucket: env.VAULT_BUCKET });
  return createFileVault(env.VAULT_DIR || ".victoria/vault");
}

export function createAuditLog(env: Env, localFile: string): AuditLog {
  if (env.AUDIT_BUCKET) return createS3AuditLog({ client: s3Client(), bucket: env.AUDIT_BUCKET });
  return createJsonlAuditLog(localFile);
}

/** Shared across Lambda containers when DEDUPE_BUCKET is set; per process otherwise. */
export function createDedupeStore(env: Env): DedupeStore {
  if (env.DEDUPE_BUCKET) return createS3DedupeStore({ client: s3Client(), bucket: env.DEDUPE_BUCKET });
  return createMemoryDedupeStore();
}
