import type { S3Client } from "@aws-sdk/client-s3";
import { createFileApprovalStore } from "@victoria/core/adapters/local/file-approval-store";
import { createFileBulkJobStore } from "@victoria/core/adapters/local/file-bulk-job-store";
import { createFileRecentCommandStore } from "@victoria/core/adapters/local/file-recent-commands";
import { createFileVault } from "@victoria/core/adapters/local/file-vault";
import { createJsonlAuditLog } from "@victoria/core/adapters/local/jsonl-audit-log";
import type { RecentCommandStore } from "@victoria/core/app-home/recent-commands";
import type { ApprovalStore } from "@victoria/core/approvals/approval-store";
import type { BulkJobStore } from "@victoria/core/deadletter/bulk-job-store";
import type { Vault } from "@victoria/core/deadletter/vault";
import { createMemoryDedupeStore, type DedupeStore } from "@victoria/core/idempotency/dedupe-store";
import { lazyPort } from "@victoria/core/lazy-port";
import type { AuditLog } from "@victoria/core/security/audit-log";
import type { Env } from "./settings";

/**
 * Durable state by environment: on AWS the buckets the deployment names (VAULT_BUCKET,
 * AUDIT_BUCKET, DEDUPE_BUCKET); locally files under VAULT_DIR / AUDIT_LOG_FILE and memory.
 * The S3 adapters (and the S3 client, ~100 KiB) are imported on first use, so a process that
 * stores nothing in S3 never compiles them.
 */
let s3: Promise<S3Client> | undefined;
const s3Client = () => {
  s3 ??= import("@aws-sdk/client-s3").then(({ S3Client }) => new S3Client({}));
  return s3;
};

export function createVault(env: Env): Vault {
  const bucket = env.VAULT_BUCKET;
  if (bucket) {
    return lazyPort<Vault>(
      {
        park: true,
        get: true,
        list: true,
        search: true,
        summaries: true,
        idsWithPrefix: true,
        findByMessageId: true,
        markNotified: true,
        markReminded: true,
        transition: true,
      },
      async () =>
        (await import("@victoria/core/adapters/aws/s3-vault")).createS3Vault({
          client: await s3Client(),
          bucket,
        }),
    );
  }
  return createFileVault(env.VAULT_DIR || ".victoria/vault");
}

export function createAuditLog(env: Env, localFile: string): AuditLog {
  const bucket = env.AUDIT_BUCKET;
  if (bucket) {
    return lazyPort<AuditLog>({ write: true }, async () =>
      (await import("@victoria/core/adapters/aws/s3-audit-log")).createS3AuditLog({
        client: await s3Client(),
        bucket,
      }),
    );
  }
  return createJsonlAuditLog(localFile);
}

/** Shared across Lambda containers when DEDUPE_BUCKET is set; per process otherwise. */
export function createDedupeStore(env: Env): DedupeStore {
  const bucket = env.DEDUPE_BUCKET;
  if (bucket) {
    return lazyPort<DedupeStore>({ claim: true, release: true }, async () =>
      (await import("@victoria/core/adapters/aws/s3-dedupe-store")).createS3DedupeStore({
        client: await s3Client(),
        bucket,
      }),
    );
  }
  return createMemoryDedupeStore();
}

/** Approval requests beside the vault records: the vault bucket on AWS, VAULT_DIR locally. */
export function createApprovalStore(env: Env): ApprovalStore {
  const bucket = env.VAULT_BUCKET;
  if (bucket) {
    return lazyPort<ApprovalStore>({ create: true, get: true, update: true, pending: true }, async () =>
      (await import("@victoria/core/adapters/aws/s3-approval-store")).createS3ApprovalStore({
        client: await s3Client(),
        bucket,
      }),
    );
  }
  return createFileApprovalStore(env.VAULT_DIR || ".victoria/vault");
}

/** Bulk job records beside the vault records: `jobs/` in the vault bucket on AWS, VAULT_DIR locally. */
export function createBulkJobStore(env: Env): BulkJobStore {
  const bucket = env.VAULT_BUCKET;
  if (bucket) {
    return lazyPort<BulkJobStore>({ create: true, get: true, update: true, recent: true }, async () =>
      (await import("@victoria/core/adapters/aws/s3-bulk-job-store")).createS3BulkJobStore({
        client: await s3Client(),
        bucket,
      }),
    );
  }
  return createFileBulkJobStore(env.VAULT_DIR || ".victoria/vault");
}

/** Each person's recent commands for their App Home: `home/` in the vault bucket on AWS, VAULT_DIR locally. */
export function createRecentCommandStore(env: Env): RecentCommandStore {
  const bucket = env.VAULT_BUCKET;
  if (bucket) {
    return lazyPort<RecentCommandStore>({ add: true, recent: true }, async () =>
      (await import("@victoria/core/adapters/aws/s3-recent-commands")).createS3RecentCommandStore({
        client: await s3Client(),
        bucket,
      }),
    );
  }
  return createFileRecentCommandStore(env.VAULT_DIR || ".victoria/vault");
}
