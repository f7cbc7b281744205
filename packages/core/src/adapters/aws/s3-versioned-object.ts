import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { errorName, failure } from "./s3-errors";

/**
 * An object's text and ETag for a compare-and-set (If-Match on the next write), or undefined when
 * it does not exist. One read for the vault, the approval store and the dedupe claims; `what` names
 * the object in errors ("Vault record 42").
 */
export async function readVersionedObject(
  client: S3Client,
  bucket: string,
  key: string,
  what: string,
): Promise<{ text: string; etag: string } | undefined> {
  const where = `s3://${bucket}/${key}`;
  let text: string;
  let etag: string | undefined;
  try {
    const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    text = (await response.Body?.transformToString("utf-8")) ?? "";
    etag = response.ETag;
  } catch (error) {
    if (errorName(error) === "NoSuchKey") return undefined;
    throw failure(`${what} could not be read (${where})`, error);
  }
  if (!etag) throw new Error(`${what} came back without an ETag (${where})`);
  return { text, etag };
}
