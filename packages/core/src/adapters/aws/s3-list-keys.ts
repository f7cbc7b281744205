import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { failure } from "./s3-errors";

export interface ListKeysInput {
  Bucket: string;
  Prefix: string;
  StartAfter?: string;
  /** Keys per ListObjectsV2 page (S3 caps it at 1000). */
  MaxKeys?: number;
}

/**
 * Every key below `Prefix` (after `StartAfter`, when given), following ListObjectsV2's pages in
 * order; with `limit`, the first that many (no page is asked for past them). A failure says
 * `Could not list <what> in s3://<bucket>/<prefix>` and keeps the SDK error.
 */
export async function listKeys(
  client: S3Client,
  input: ListKeysInput,
  what: string,
  limit = Number.POSITIVE_INFINITY,
): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  try {
    while (keys.length < limit) {
      const left = limit - keys.length;
      const maxKeys = left < (input.MaxKeys ?? 1000) ? left : input.MaxKeys;
      const page = await client.send(
        new ListObjectsV2Command({ ...input, MaxKeys: maxKeys, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (!token) break;
    }
  } catch (error) {
    throw failure(`Could not list ${what} in s3://${input.Bucket}/${input.Prefix}`, error);
  }
  return keys;
}
