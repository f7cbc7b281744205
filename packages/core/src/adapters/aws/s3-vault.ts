import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type {
  NewVaultRecord,
  TransitionResult,
  Vault,
  VaultRecord,
  VaultState,
} from "../../deadletter/vault";

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
      const ids: string[] = [];
      let token: string | undefined;
      try {
        do {
          const page = await client.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: folder,
              ContinuationToken: token,
              MaxKeys: options.pageSize,
            }),
          );
          for (const object of page.Contents ?? []) {
            const id = /^([0-9a-f]+)\.json$/.exec(object.Key?.slice(folder.length) ?? "")?.[1];
            if (id !== undefined) ids.push(id);
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
      } catch (error) {
        throw failure(`Could not list vault records in s3://${bucket}/${folder}`, error);
      }
      const records: VaultRecord[] = [];
      // A few reads at a time: enough to be quick, few enough not to exhaust the client's sockets.
      for (let i = 0; i < ids.length; i += 16) {
        const batch = await Promise.all(ids.slice(i, i + 16).map(read));
        for (const found of batch) if (found && matches(found.record, filter)) records.push(found.record);
      }
      return newestFirst(records);
    },

    async markNotified(id, notification) {
      checkId(id);
      const result = await update(id, (current) => ({
        ...current,
        notification,
        version: current.version + 1,
      }));
      if (!result) throw new Error(`Vault record ${id} does not exist`);
      return result.record;
    },

    async transition(id, from, to, resolution): Promise<TransitionResult> {
      if (!isId(id)) return { ok: false, current: undefined };
      const result = await update(id, (current) =>
        current.state === from
          ? { ...current, state: to, resolution, version: current.version + 1 }
          : undefined,
      );
      if (!result) return { ok: false, current: undefined };
      return result.changed ? { ok: true, record: result.record } : { ok: false, current: result.record };
    },
  };
}

function isConditionFailure(error: unknown): boolean {
  const name = errorName(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  // 404 NoSuchKey: If-Match on a key that does not exist (nothing to update; the re-read says so).
  return (
    name === "PreconditionFailed" ||
    name === "ConditionalRequestConflict" ||
    name === "NoSuchKey" ||
    status === 412 ||
    status === 409
  );
}

/** Jittered exponential backoff, so writers that lost a race do not collide again in lockstep. */
function backoff(attempt: number): Promise<void> {
  const cap = Math.min(2 ** attempt, 100);
  return new Promise((done) => setTimeout(done, Math.random() * cap));
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function failure(context: string, error: unknown): Error {
  const name = errorName(error);
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`${context}: ${name && name !== "Error" ? `${name}: ` : ""}${message}`, { cause: error });
}

// --- records ------------------------------------------------------------------------------------

const STATES: ReadonlySet<string> = new Set<VaultState>(["parked", "replayed", "emailed", "deleted"]);

/** Only the fields a new record has: a caller passing a whole VaultRecord cannot smuggle in state. */
function newRecord(fresh: NewVaultRecord): VaultRecord {
  const { id, cluster, namespace, entity, parkedAt, message } = fresh;
  return { id, cluster, namespace, entity, parkedAt, state: "parked", version: 1, message };
}

/** Callers get back what was stored (JSON's view of it), never an alias of their own objects. */
function roundTrip(record: VaultRecord): VaultRecord {
  return JSON.parse(JSON.stringify(record)) as VaultRecord;
}

function isId(id: string): boolean {
  return /^[0-9a-f]{1,128}$/.test(id);
}

function checkId(id: string): void {
  if (!isId(id)) throw new Error(`Invalid vault record id ${JSON.stringify(id)}: expected lowercase hex`);
}

/** Parses a stored record, failing with a message that names it rather than a bare SyntaxError. */
function parseRecord(id: string, text: string, where: string): VaultRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`Vault record ${id} is corrupt (${where}): not valid JSON`);
  }
  const record = value as Partial<VaultRecord> | null;
  const problem =
    typeof record !== "object" || record === null || Array.isArray(record)
      ? "not a JSON object"
      : record.id !== id
        ? `it holds id ${JSON.stringify(record.id)}`
        : !STATES.has(String(record.state))
          ? `unknown state ${JSON.stringify(record.state)}`
          : !Number.isInteger(record.version)
            ? "no integer version"
            : typeof record.message !== "object" || record.message === null
              ? "no message"
              : undefined;
  if (problem) throw new Error(`Vault record ${id} is corrupt (${where}): ${problem}`);
  return record as VaultRecord;
}

function matches(record: VaultRecord, filter: { state?: VaultState; notificationId?: string }): boolean {
  if (filter.state !== undefined && record.state !== filter.state) return false;
  return filter.notificationId === undefined || record.notification?.id === filter.notificationId;
}

/** Newest first: by `parkedAt` (as instants, so precision differences do not matter), then by id. */
function newestFirst(records: VaultRecord[]): VaultRecord[] {
  const time = (r: VaultRecord) => Date.parse(r.parkedAt);
  return records.sort((a, b) => {
    const byTime = (time(b) || 0) - (time(a) || 0);
    if (byTime !== 0) return byTime;
    if (a.parkedAt !== b.parkedAt) return a.parkedAt < b.parkedAt ? 1 : -1;
    return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
  });
}
