import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { Vault, VaultRecord } from "../../deadletter/vault";
import {
  checkId,
  isId,
  matches,
  newestFirst,
  newRecord,
  parseRecord,
  recordIdOf,
  recordUpdates,
} from "../../deadletter/vault-records";
import { errorName, failure, isConditionFailure } from "./s3-errors";
import { listKeys } from "./s3-list-keys";

export interface S3VaultOptions {
  client: S3Client;
  bucket: string;
  /** Folder-like prefix; records are `<prefix>records/<id>.json` (a missing trailing `/` is added). */
  prefix?: string;
  /** Keys per ListObjectsV2 page (S3 caps it at 1000); small values let tests exercise paging. */
  pageSize?: number;
  /** Conditional writes lost to other writers before giving up on one update. */
  maxAttempts?: number;
}

/**
 * A vault with one S3 object per record. S3's conditional writes make it safe for any number of
 * concurrent writers without locks:
 * - `park` puts with `If-None-Match: *`; 412 means the record exists, so it is read and returned.
 * - `markNotified`/`transition` read the record and its ETag, then put with `If-Match: <etag>`;
 *   412 means someone else wrote in between, so it re-reads and decides again (a transition whose
 *   record left `from` in the meantime reports the current record instead of retrying).
 * S3 answers 409 ConditionalRequestConflict to conditional writes racing on one key; those retry too.
 */
export function createS3Vault(options: S3VaultOptions): Vault {
  const { client, bucket } = options;
  const trimmed = (options.prefix ?? "").replace(/^\/+/, "");
  const folder = `${trimmed === "" || trimmed.endsWith("/") ? trimmed : `${trimmed}/`}records/`;
  const maxAttempts = options.maxAttempts ?? 50;
  const keyOf = (id: string) => `${folder}${id}.json`;
  const where = (id: string) => `s3://${bucket}/${keyOf(id)}`;

  async function read(id: string): Promise<{ record: VaultRecord; etag: string } | undefined> {
    let text: string;
    let etag: string | undefined;
    try {
      const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: keyOf(id) }));
      text = (await response.Body?.transformToString("utf-8")) ?? "";
      etag = response.ETag;
    } catch (error) {
      if (errorName(error) === "NoSuchKey") return undefined;
      throw failure(`Vault record ${id} could not be read (${where(id)})`, error);
    }
    if (!etag) throw new Error(`Vault record ${id} came back without an ETag (${where(id)})`);
    return { record: parseRecord(id, text, where(id)), etag };
  }

  /** A conditional put; false when the condition failed (someone else wrote first). */
  async function put(record: VaultRecord, condition: { IfNoneMatch: "*" } | { IfMatch: string }) {
    try {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: keyOf(record.id),
          Body: JSON.stringify(record),
          ContentType: "application/json",
          ...condition,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw failure(`Vault record ${record.id} could not be written (${where(record.id)})`, error);
    }
  }

  /** Read-modify-write with If-Match until it sticks; `change` answers the new record or why not. */
  async function update(
    id: string,
    change: (current: VaultRecord) => VaultRecord | undefined,
  ): Promise<{ record: VaultRecord; changed: boolean } | undefined> {
    for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
      const current = await read(id);
      if (!current) return undefined;
      const next = change(current.record);
      if (!next) return { record: current.record, changed: false };
      if (await put(next, { IfMatch: current.etag })) return { record: roundTrip(next), changed: true };
      await backoff(attempt);
    }
    throw new Error(`Vault record ${id} kept changing: gave up after ${maxAttempts} conflicting writes`);
  }

  return {
    async park(fresh) {
      checkId(fresh.id);
      const record = newRecord(fresh);
      for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
        if (await put(record, { IfNoneMatch: "*" })) return { record: roundTrip(record), created: true };
        const stored = await read(record.id);
        if (stored) return { record: stored.record, created: false };
        // 409 from a racing create that has not landed yet: it will be readable shortly.
        await backoff(attempt);
      }
      throw new Error(`Vault record ${fresh.id} could not be parked after ${maxAttempts} attempts`);
    },

    async get(id) {
      // An id that is not ours cannot name a record (and must never become part of a key).
      return isId(id) ? (await read(id))?.record : undefined;
    },

    async list(filter = {}) {
      const input = { Bucket: bucket, Prefix: folder, MaxKeys: options.pageSize };
      const keys = await listKeys(client, input, "vault records");
      const ids = keys.flatMap((key) => recordIdOf(key.slice(folder.length)) ?? []);
      const records: VaultRecord[] = [];
      // A few reads at a time: enough to be quick, few enough not to exhaust the client's sockets.
      for (let i = 0; i < ids.length; i += 16) {
        const batch = await Promise.all(ids.slice(i, i + 16).map(read));
        for (const found of batch) if (found && matches(found.record, filter)) records.push(found.record);
      }
      return newestFirst(records);
    },

    ...recordUpdates(update),
  };
}

/** Jittered exponential backoff, so writers that lost a race do not collide again in lockstep. */
function backoff(attempt: number): Promise<void> {
  const cap = Math.min(2 ** attempt, 100);
  return new Promise((done) => setTimeout(done, Math.random() * cap));
}

/** Callers get back what was stored (JSON's view of it), never an alias of their own objects. */
function roundTrip(record: VaultRecord): VaultRecord {
  return JSON.parse(JSON.stringify(record)) as VaultRecord;
}
