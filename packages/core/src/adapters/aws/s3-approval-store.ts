import { DeleteObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { encodeApprovalRequest, parseApprovalRequest } from "../../approvals/approval-json";
import type { ApprovalStore } from "../../approvals/approval-store";
import { createConditionalApprovalStore } from "../../approvals/conditional-approval-store";
import { failure } from "./s3-errors";
import { listKeys } from "./s3-list-keys";
import { createS3VersionedJson } from "./s3-versioned-json";

export interface S3ApprovalStoreOptions {
  client: S3Client;
  bucket: string;
  /** Folder-like prefix; requests are `<prefix>approvals/<id>.json` (a missing trailing `/` is added). */
  prefix?: string;
  /** Conditional writes lost to other writers before one update gives up. */
  maxAttempts?: number;
}

/**
 * Approval requests as one S3 object each, safe across Lambda containers without locks: created and
 * updated only conditionally (s3-versioned-json.ts says how); a lost race (412, 409) or NoSuchKey
 * makes an update re-read and decide again. Every write bumps the version inside the body, so an
 * ETag never repeats.
 *
 * Grants: `s3:GetObject`, `s3:PutObject` on `arn:aws:s3:::<bucket>/<prefix>approvals/*`; for the
 * pending markers, `s3:ListBucket` on the bucket and `s3:DeleteObject` on `…/approvals/pending/*`.
 */
export function createS3ApprovalStore(options: S3ApprovalStoreOptions): ApprovalStore {
  const { client, bucket } = options;
  const objects = createS3VersionedJson({
    ...options,
    name: "approvals",
    what: (id) => `Approval request ${id}`,
  });
  // Empty marker objects, one per pending request: the sweep lists these, not every request.
  const pendingFolder = `${objects.folder}pending/`;

  return createConditionalApprovalStore<string>(
    {
      async read(id) {
        const stored = await objects.read(id);
        return (
          stored && { request: parseApprovalRequest(id, stored.text, objects.where(id)), token: stored.etag }
        );
      },
      // A 409 here is another create of the same id landing: ids are random, so that is a clash too.
      insert: (request) => objects.create(request.id, encodeApprovalRequest(request)),
      replace: (next, etag) => objects.replace(next.id, encodeApprovalRequest(next), etag),
      async markPending(id) {
        try {
          // ContentLength stated: the SDK warns of a "Stream of unknown length" for an empty body.
          await client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: `${pendingFolder}${id}`,
              Body: "",
              ContentLength: 0,
            }),
          );
        } catch (error) {
          throw failure(
            `Approval request ${id} could not be marked pending (s3://${bucket}/${pendingFolder}${id})`,
            error,
          );
        }
      },
      async unmarkPending(id) {
        // DeleteObject of a missing key succeeds, as S3 answers 204 for it.
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${pendingFolder}${id}` }));
      },
      async pendingIds(limit) {
        const keys = await listKeys(
          client,
          { Bucket: bucket, Prefix: pendingFolder },
          "pending approval requests",
          limit,
        );
        return keys.map((key) => key.slice(pendingFolder.length));
      },
    },
    { maxAttempts: options.maxAttempts },
  );
}
