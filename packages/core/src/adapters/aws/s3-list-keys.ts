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
 * order. A failure says `Could not list <what> in s3://<bucket>/<prefix>` and keeps the SDK error.
 */
export async function listKeys(client: S3Client, input: ListKeysInput, what: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await client.send(new ListObjectsV2Command({ ...input, ContinuationToken: token }));
      for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } catch (error) {
    throw failure(`Could not list ${what} in s3://${input.Bucket}/${input.Prefix}`, error);
  }
  return keys;
}
