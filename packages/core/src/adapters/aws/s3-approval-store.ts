import { DeleteObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { ApprovalRequest } from "../../approvals/approval";
import { encodeApprovalRequest, parseApprovalRequest } from "../../approvals/approval-json";
import type { ApprovalStore } from "../../approvals/approval-store";
import { createConditionalApprovalStore } from "../../approvals/conditional-approval-store";
import { failure, isConditionFailure } from "./s3-errors";
import { listKeys } from "./s3-list-keys";
import { readVersionedObject } from "./s3-versioned-object";

export interface S3ApprovalStoreOptions {
  client: S3Client;
  bucket: string;
  /** Folder-like prefix; requests are `<prefix>approvals/<id>.json` (a missing trailing `/` is added). */
  prefix?: string;
  /** Conditional writes lost to other writers before one update gives up. */
  maxAttempts?: number;
}

/**
 * Approval requests as one S3 object each, safe across Lambda containers without locks:
 * - create puts with `If-None-Match: *`, so an id is created once;
 * - update reads the object and its ETag and puts with `If-Match: <etag>`; 412 (someone wrote in
 *   between), 409 (a conditional write racing on the key) or NoSuchKey make it re-read and decide again.
 * Every write bumps the version inside the body, so a body (and so its ETag, an MD5) never repeats:
 * a writer holding an old ETag can never match a newer object.
 *
 * Grants: `s3:GetObject`, `s3:PutObject` on `arn:aws:s3:::<bucket>/<prefix>approvals/*`; for the
 * pending markers, `s3:ListBucket` on the bucket and `s3:DeleteObject` on `…/approvals/pending/*`.
 */
export function createS3ApprovalStore(options: S3ApprovalStoreOptions): ApprovalStore {
  const { client, bucket } = options;
  const trimmed = (options.prefix ?? "").replace(/^\/+/, "");
  const folder = `${trimmed === "" || trimmed.endsWith("/") ? trimmed : `${trimmed}/`}approvals/`;
  const keyOf = (id: string) => `${folder}${id}.json`;
  // Empty marker objects, one per pending request: the sweep lists these, not every request.
  const pendingFolder = `${folder}pending/`;
  const where = (id: string) => `s3://${bucket}/${keyOf(id)}`;

  /** A conditional put; false when the condition failed (someone else wrote first). */
  async function put(request: ApprovalRequest, condition: { IfNoneMatch: "*" } | { IfMatch: string }) {
    try {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: keyOf(request.id),
          Body: encodeApprovalRequest(request),
          ContentType: "application/json",
          ...condition,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw failure(`Approval request ${request.id} could not be written (${where(request.id)})`, error);
    }
  }

  return createConditionalApprovalStore<string>(
    {
      async read(id) {
        const stored = await readVersionedObject(client, bucket, keyOf(id), `Approval request ${id}`);
        return stored && { request: parseApprovalRequest(id, stored.text, where(id)), token: stored.etag };
      },
      // A 409 here is another create of the same id landing: ids are random, so that is a clash too.
      insert: (request) => put(request, { IfNoneMatch: "*" }),
      replace: (next, etag) => put(next, { IfMatch: etag }),
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
