import type { S3Client } from "@aws-sdk/client-s3";
import { type PutCondition, putConditionalObject, readVersionedObject } from "./s3-versioned-object";

export interface S3VersionedJsonOptions {
  client: S3Client;
  bucket: string;
  /** Folder-like prefix (leading `/` dropped, a missing trailing `/` added). */
  prefix?: string;
  /** The folder under the prefix: records are `<prefix><name>/<id>.json`. */
  name: string;
  /** Names one record in errors ("Bulk job 42"). */
  what: (id: string) => string;
}

/**
 * Records as one JSON object each, written only conditionally, safe across Lambda containers
 * without locks: create puts with `If-None-Match: *`, so an id is created once; replace puts with
 * `If-Match: <etag>` of the read it follows, and a 412 (someone wrote in between) or 409 (a
 * conditional write racing on the key) answers false, so the caller re-reads and decides again.
 * Callers bump a version inside the body on every write, so a body (and so its ETag, an MD5) never
 * repeats: a writer holding an old ETag can never match a newer object.
 */
export function createS3VersionedJson(options: S3VersionedJsonOptions) {
  const { client, bucket, what } = options;
  const trimmed = (options.prefix ?? "").replace(/^\/+/, "");
  const folder = `${trimmed === "" || trimmed.endsWith("/") ? trimmed : `${trimmed}/`}${options.name}/`;
  const keyOf = (id: string) => `${folder}${id}.json`;
  const where = (id: string) => `s3://${bucket}/${keyOf(id)}`;

  const put = (id: string, body: string, condition: PutCondition) =>
    putConditionalObject(
      client,
      { bucket, key: keyOf(id), body, condition },
      `${what(id)} could not be written (${where(id)})`,
    );

  return {
    /** `<prefix><name>/`, the key prefix every record (and nothing else of ours) sits under. */
    folder,
    where,
    /** The record's text and ETag, or undefined when it does not exist. */
    read: (id: string) => readVersionedObject(client, bucket, keyOf(id), what(id)),
    create: (id: string, body: string) => put(id, body, { IfNoneMatch: "*" }),
    replace: (id: string, body: string, etag: string) => put(id, body, { IfMatch: etag }),
  };
}
