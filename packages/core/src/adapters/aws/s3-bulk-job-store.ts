import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { type BulkJob, parseBulkJob } from "../../deadletter/bulk-job";
import { type BulkJobStore, createConditionalJobStore } from "../../deadletter/bulk-job-store";
import { failure, isConditionFailure } from "./s3-errors";
import { listKeys } from "./s3-list-keys";
import { readVersionedObject } from "./s3-versioned-object";

export interface S3BulkJobStoreOptions {
  client: S3Client;
  bucket: string;
  /** Folder-like prefix; jobs are `<prefix>jobs/<id>.json`. */
  prefix?: string;
}

/**
 * Bulk jobs as one S3 object each in the vault bucket: created with `If-None-Match: *`, updated with
 * `If-Match: <etag>` (a 412/409 makes the store re-read and re-apply), as the approval store does.
 * The version inside the body changes with every write, so an ETag never repeats.
 *
 * Grants: `s3:GetObject`, `s3:PutObject` on `<bucket>/<prefix>jobs/*`, `s3:ListBucket` on the bucket.
 */
export function createS3BulkJobStore(options: S3BulkJobStoreOptions): BulkJobStore {
  const { client, bucket } = options;
  const trimmed = (options.prefix ?? "").replace(/^\/+/, "");
  const folder = `${trimmed === "" || trimmed.endsWith("/") ? trimmed : `${trimmed}/`}jobs/`;
  const keyOf = (id: string) => `${folder}${id}.json`;
  const where = (id: string) => `s3://${bucket}/${keyOf(id)}`;

  async function put(job: BulkJob, condition: { IfNoneMatch: "*" } | { IfMatch: string }) {
    try {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: keyOf(job.id),
          Body: JSON.stringify(job),
          ContentType: "application/json",
          ...condition,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw failure(`Bulk job ${job.id} could not be written (${where(job.id)})`, error);
    }
  }

  return createConditionalJobStore<string>({
    async read(id) {
      const stored = await readVersionedObject(client, bucket, keyOf(id), `Bulk job ${id}`);
      return stored && { job: parseBulkJob(stored.text, where(id)), token: stored.etag };
    },
    insert: (job) => put(job, { IfNoneMatch: "*" }),
    replace: (next, etag) => put(next, { IfMatch: etag }),
    async ids() {
      const keys = await listKeys(client, { Bucket: bucket, Prefix: folder }, "bulk jobs");
      return keys.flatMap((key) => {
        const name = key.slice(folder.length);
        return name.endsWith(".json") && !name.includes("/") ? [name.slice(0, -".json".length)] : [];
      });
    },
  });
}
