import type { S3Client } from "@aws-sdk/client-s3";
import { parseBulkJob } from "../../deadletter/bulk-job";
import { type BulkJobStore, createConditionalJobStore } from "../../deadletter/bulk-job-store";
import { listKeys } from "./s3-list-keys";
import { createS3VersionedJson } from "./s3-versioned-json";

export interface S3BulkJobStoreOptions {
  client: S3Client;
  bucket: string;
  /** Folder-like prefix; jobs are `<prefix>jobs/<id>.json`. */
  prefix?: string;
}

/**
 * Bulk jobs as one S3 object each in the vault bucket, created and updated only conditionally
 * (s3-versioned-json.ts), as the approval store does: a lost race makes the store re-read and
 * re-apply. The version inside the body changes with every write, so an ETag never repeats.
 *
 * Grants: `s3:GetObject`, `s3:PutObject` on `<bucket>/<prefix>jobs/*`, `s3:ListBucket` on the bucket.
 */
export function createS3BulkJobStore(options: S3BulkJobStoreOptions): BulkJobStore {
  const { client, bucket } = options;
  const objects = createS3VersionedJson({ ...options, name: "jobs", what: (id) => `Bulk job ${id}` });
  const { folder } = objects;

  return createConditionalJobStore<string>({
    async read(id) {
      const stored = await objects.read(id);
      return stored && { job: parseBulkJob(stored.text, objects.where(id)), token: stored.etag };
    },
    insert: (job) => objects.create(job.id, JSON.stringify(job)),
    replace: (next, etag) => objects.replace(next.id, JSON.stringify(next), etag),
    async ids() {
      const keys = await listKeys(client, { Bucket: bucket, Prefix: folder }, "bulk jobs");
      return keys.flatMap((key) => {
        const name = key.slice(folder.length);
        return name.endsWith(".json") && !name.includes("/") ? [name.slice(0, -".json".length)] : [];
      });
    },
  });
}
