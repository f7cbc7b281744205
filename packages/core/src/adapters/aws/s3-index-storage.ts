import {
  DeleteObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { IndexStorage } from "../../deadletter/vault-index-storage";
import { failure, isConditionFailure } from "./s3-errors";
import { readVersionedObject } from "./s3-versioned-object";

/**
 * The vault index's objects below `<folder>` (e.g. `index/`) in the vault bucket. Compare-and-set
 * is S3's own: create with `If-None-Match: *`, replace with `If-Match: <etag>` (412, or 409 for a
 * racing conditional write, is "someone else wrote first"). Needs s3:GetObject, s3:PutObject and
 * s3:ListBucket on the bucket, and s3:DeleteObject on `<folder>*` (compaction removes the change
 * markers and segments it replaced).
 */
export function createS3IndexStorage(
  client: S3Client,
  bucket: string,
  folder: string,
  pageSize?: number,
): IndexStorage {
  const keyOf = (name: string) => `${folder}${name}`;
  const where = (name: string) => `s3://${bucket}/${keyOf(name)}`;

  async function put(name: string, text: string, condition: { IfNoneMatch?: "*"; IfMatch?: string }) {
    try {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: keyOf(name),
          Body: text,
          // Given, so an empty marker is not taken for a stream of unknown length (an SDK warning).
          ContentLength: Buffer.byteLength(text, "utf8"),
          ContentType: "application/json",
          ...condition,
        }),
      );
      return true;
    } catch (error) {
      if ((condition.IfMatch || condition.IfNoneMatch) && isConditionFailure(error)) return false;
      throw failure(`Vault index object could not be written (${where(name)})`, error);
    }
  }

  return {
    read(name) {
      return readVersionedObject(client, bucket, keyOf(name), "Vault index object").then(
        (stored) => stored && { text: stored.text, tag: stored.etag },
      );
    },

    create: (name, text) => put(name, text, { IfNoneMatch: "*" }),
    replace: (name, text, tag) => put(name, text, { IfMatch: tag }),
    async write(name, text) {
      await put(name, text, {});
    },

    async list(prefix) {
      const listed: { name: string; modifiedMs: number }[] = [];
      let token: string | undefined;
      try {
        do {
          const page = await client.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: keyOf(prefix),
              MaxKeys: pageSize,
              ContinuationToken: token,
            }),
          );
          for (const object of page.Contents ?? []) {
            if (object.Key === undefined) continue;
            listed.push({
              name: object.Key.slice(folder.length),
              modifiedMs: object.LastModified?.getTime() ?? Date.now(),
            });
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
      } catch (error) {
        throw failure(`Could not list the vault index in ${where(prefix)}`, error);
      }
      return listed;
    },

    async remove(name) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: keyOf(name) }));
      } catch (error) {
        throw failure(`Vault index object could not be removed (${where(name)})`, error);
      }
    },
  };
}
