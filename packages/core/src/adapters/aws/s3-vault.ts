import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { matchesFilter } from "../../deadletter/record-filter";
import type { Vault, VaultRecord } from "../../deadletter/vault";
import { createVaultIndex, summaryOf, type VaultIndexOptions } from "../../deadletter/vault-index";
import {
  checkId,
  isId,
  isIdPrefix,
  messageIdDigest,
  newestFirst,
  newRecord,
  parseRecord,
  recordIdOf,
  recordUpdates,
  scanPage,
} from "../../deadletter/vault-records";
import { failure, isConditionFailure } from "./s3-errors";
import { createS3IndexStorage } from "./s3-index-storage";
import { listKeys } from "./s3-list-keys";
import { readVersionedObject } from "./s3-versioned-object";

export interface S3VaultOptions {
  client: S3Client;
  bucket: string;
  /** Folder-like prefix; records are `<prefix>records/<id>.json` (a missing trailing `/` is added). */
  prefix?: string;
  /** Keys per ListObjectsV2 page (S3 caps it at 1000); small values let tests exercise paging. */
  pageSize?: number;
  /** Conditional writes lost to other writers before giving up on one update. */
  maxAttempts?: number;
  /**
   * `search`/`list` through the search index under `<prefix>index/` (the default), or, with
   * false, by reading every record as before the index existed (the benchmark's baseline).
   * Writes keep the index either way.
   */
  useIndex?: boolean;
  /** Tuning of the index (tests make it compact sooner). */
  index?: Pick<
    VaultIndexOptions,
    "compactAfter" | "staleChangeMs" | "concurrency" | "excerptChars" | "readOnly"
  >;
}

/**
 * A vault with one S3 object per record. S3's conditional writes make it safe for any number of
 * concurrent writers without locks:
 * - `park` puts with `If-None-Match: *`; 412 means the record exists, so it is read and returned.
 * - `markNotified`/`transition` read the record and its ETag, then put with `If-Match: <etag>`;
 *   412 means someone else wrote in between, so it re-reads and decides again (a transition whose
 *   record left `from` in the meantime reports the current record instead of retrying).
 * S3 answers 409 ConditionalRequestConflict to conditional writes racing on one key; those retry too.
 *
 * Lookups: `idsWithPrefix` is one ListObjectsV2 of `records/<prefix>`; `findByMessageId` lists the
 * message-id index (`message-ids/<sha256 of the id>/<record id>`, written by `park`) and reads only
 * the records it names. Records parked before the index existed are found by id or prefix only.
 *
 * Search: `search`/`list` read the search index below `<prefix>index/` (vault-index.ts; a manifest,
 * day segments of record summaries, and a change marker each write puts before it changes the
 * record) and then only the records they return, never every record. The first search of a vault
 * without an index builds it from the records, once.
 */
export function createS3Vault(options: S3VaultOptions): Vault {
  const { client, bucket } = options;
  const trimmed = (options.prefix ?? "").replace(/^\/+/, "");
  const base = trimmed === "" || trimmed.endsWith("/") ? trimmed : `${trimmed}/`;
  const folder = `${base}records/`;
  const maxAttempts = options.maxAttempts ?? 50;
  const keyOf = (id: string) => `${folder}${id}.json`;
  const where = (id: string) => `s3://${bucket}/${keyOf(id)}`;
  /** The message-id index: an empty object per record, `<prefix>message-ids/<digest>/<id>`. */
  const indexFolderOf = (messageId: string) => `${base}message-ids/${messageIdDigest(messageId)}/`;

  async function read(id: string): Promise<{ record: VaultRecord; etag: string } | undefined> {
    const stored = await readVersionedObject(client, bucket, keyOf(id), `Vault record ${id}`);
    return stored && { record: parseRecord(id, stored.text, where(id)), etag: stored.etag };
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
      await index.noteChange(id, next.version);
      if (await put(next, { IfMatch: current.etag })) return { record: roundTrip(next), changed: true };
      await backoff(attempt);
    }
    throw new Error(`Vault record ${id} kept changing: gave up after ${maxAttempts} conflicting writes`);
  }

  /**
   * Indexes a record under its message id, so `findByMessageId` lists one small prefix instead of
   * reading every record. Written before the record (unconditionally: writing it twice is
   * harmless), so a parked record is always findable; an entry whose record never landed (a park
   * that failed after it) is skipped by `findByMessageId`.
   */
  async function indexMessageId(record: VaultRecord): Promise<void> {
    const key = `${indexFolderOf(record.message.messageId)}${record.id}`;
    try {
      // ContentLength given: an empty Body alone makes the SDK warn of a stream of unknown length.
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: "", ContentLength: 0 }));
    } catch (error) {
      throw failure(`Vault record ${record.id} could not be indexed (s3://${bucket}/${key})`, error);
    }
  }

  async function readAll(ids: readonly string[]): Promise<VaultRecord[]> {
    const records: VaultRecord[] = [];
    // A few reads at a time: enough to be quick, few enough not to exhaust the client's sockets.
    for (let i = 0; i < ids.length; i += 16) {
      const batch = await Promise.all(ids.slice(i, i + 16).map(read));
      for (const found of batch) if (found) records.push(found.record);
    }
    return records;
  }

  async function everyId(): Promise<string[]> {
    const input = { Bucket: bucket, Prefix: folder, MaxKeys: options.pageSize };
    const keys = await listKeys(client, input, "vault records");
    return keys.flatMap((key) => recordIdOf(key.slice(folder.length)) ?? []);
  }

  const everyRecord = async () => readAll(await everyId());

  const indexFolder = `${base}index/`;
  const index = createVaultIndex({
    ...options.index,
    storage: createS3IndexStorage(client, bucket, indexFolder, options.pageSize),
    read: async (id) => (await read(id))?.record,
    ids: everyId,
    where: `s3://${bucket}/${indexFolder}`,
  });

  return {
    async park(fresh) {
      checkId(fresh.id);
      const record = newRecord(fresh);
      // Both indexes learn of the record before it exists (see vault-index.ts).
      // Both at once; the first failure in this order is the one reported.
      const indexed = await Promise.allSettled([indexMessageId(record), index.noteChange(record.id, 1)]);
      for (const result of indexed) if (result.status === "rejected") throw result.reason;
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
      if (options.useIndex !== false) return index.list(filter);
      return newestFirst((await everyRecord()).filter((r) => matchesFilter(r, filter)));
    },

    async search(filter, page) {
      if (options.useIndex !== false) return index.search(filter, page);
      return scanPage(await everyRecord(), filter, page);
    },

    async summaries(filter) {
      if (options.useIndex !== false) return index.summaries(filter);
      return (await everyRecord()).filter((r) => matchesFilter(r, filter)).map(summaryOf);
    },

    async idsWithPrefix(prefix, limit) {
      if (!isIdPrefix(prefix) || limit <= 0) return [];
      // ListObjectsV2 answers in key order, so the first `limit` keys are the first ids.
      const input = { Bucket: bucket, Prefix: `${folder}${prefix}`, MaxKeys: options.pageSize };
      const keys = await listKeys(client, input, "vault records", limit);
      return keys.flatMap((key) => recordIdOf(key.slice(folder.length)) ?? []);
    },

    async findByMessageId(messageId, limit) {
      if (limit <= 0) return [];
      // One message id has a record per time it was dead-lettered: a handful of index entries.
      const prefix = indexFolderOf(messageId);
      const input = { Bucket: bucket, Prefix: prefix, MaxKeys: options.pageSize };
      const keys = await listKeys(client, input, "the vault's message-id index");
      const ids = keys.map((key) => key.slice(prefix.length)).filter(isId);
      // The digest is not the message id: compare, so a collision cannot name a stranger's record.
      const records = (await readAll(ids)).filter((r) => r.message.messageId === messageId);
      return newestFirst(records).slice(0, limit);
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
