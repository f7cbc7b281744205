import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { errorName, failure, isConditionFailure } from "./s3-errors";

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

/** Create-only (`If-None-Match: *`) or compare-and-set (`If-Match: <etag>` of the read it follows). */
export type PutCondition = { IfNoneMatch: "*" } | { IfMatch: string };

/**
 * A conditional put of a JSON body: true when written, false when the condition failed (412: someone
 * wrote in between; 409: a conditional write racing on the key), so the caller re-reads and decides
 * again. Any other failure throws with `failed` ("Bulk job 42 could not be written (s3://…)").
 */
export async function putConditionalObject(
  client: S3Client,
  put: { bucket: string; key: string; body: string; condition: PutCondition },
  failed: string,
): Promise<boolean> {
  try {
    await client.send(
      new PutObjectCommand({
        Bucket: put.bucket,
        Key: put.key,
        Body: put.body,
        ContentType: "application/json",
        ...put.condition,
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw failure(failed, error);
  }
}
