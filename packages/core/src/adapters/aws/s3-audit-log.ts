import { createHash } from "node:crypto";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { AUDIT_PHASES, type AuditLog, type AuditRecord } from "../../security/audit-log";
import { errorName, failure, httpStatus } from "./s3-errors";
import { listKeys } from "./s3-list-keys";

export interface S3AuditLogOptions {
  client: S3Client;
  bucket: string;
  /** Folder-like prefix, `audit/` by default (a missing trailing `/` is added). */
  prefix?: string;
}

/**
 * An append-only audit trail in S3: one object per record at
 * `<prefix>YYYY/MM/DD/<YYYYMMDDTHHMMSS.mmmZ>-<requestId>-<phase>.json` (UTC, from `record.time`).
 * Keys sort chronologically, and the day folders suit Athena partition projection
 * (`projection.day.type=date`, `format=yyyy/MM/dd`, `storage.location.template=s3://…/audit/${day}/`).
 * Each object is one JSON line, so the JSON SerDe reads it as one row.
 *
 * Every write carries `If-None-Match: *`, so a record, once stored, is never overwritten. A 412
 * means the key exists; that is normally our own earlier attempt (an SDK retry after a lost
 * response), so the stored object is read and the write succeeds only if it is byte-identical;
 * anything else rejects, and the caller then refuses to run the command.
 *
 * Grants: `s3:PutObject` on `arn:aws:s3:::<bucket>/<prefix>*` is all a write needs, so the function
 * cannot list or delete the trail. Recognising a retried duplicate needs `s3:GetObject` on the same
 * ARN (S3 offers no write-only way to compare contents); without it a duplicate rejects, which
 * fails closed. A bucket policy denying `s3:PutObject` on the prefix when `s3:if-none-match` is
 * absent (`"Null": {"s3:if-none-match": "true"}`) stops even this role from overwriting; Object
 * Lock or versioning keeps the trail safe from everyone else.
 */
export function createS3AuditLog(options: S3AuditLogOptions): AuditLog {
  const { client, bucket } = options;
  const folder = normalizePrefix(options.prefix ?? "audit/");

  return {
    async write(record) {
      const key = `${folder}${auditKey(record)}`;
      const where = `s3://${bucket}/${key}`;
      const body = `${JSON.stringify(record)}\n`;
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
        try {
          await client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: body,
              ContentType: "application/json",
              IfNoneMatch: "*",
            }),
          );
          return;
        } catch (error) {
          // 409: another conditional write to this key is in flight; its outcome decides ours.
          if (httpStatus(error) === 409 || errorName(error) === "ConditionalRequestConflict") {
            await backoff(attempt);
            continue;
          }
          if (httpStatus(error) !== 412 && errorName(error) !== "PreconditionFailed") {
            throw failure(`Audit record could not be stored (${where})`, error);
          }
        }
        const stored = await readStored(client, bucket, key, where);
        if (stored === body) return;
        if (stored !== undefined) {
          throw new Error(`Audit record conflict (${where}): a different record is already stored there`);
        }
        // Gone between the 412 and the read (only an operator could do that): write it again.
      }
      throw new Error(`Audit record could not be stored (${where}): gave up after ${MAX_ATTEMPTS} attempts`);
    },
  };
}

export interface ListAuditRecordsOptions {
  client: S3Client;
  bucket: string;
  prefix?: string;
  /** Only records at or after this instant; the listing starts at its day, not at the beginning. */
  since?: Date | string;
  /** Keys per ListObjectsV2 page (S3 caps it at 1000); small values let tests exercise paging. */
  pageSize?: number;
  /** Only this request's records: the keys name the id, so others are skipped unread. */
  requestId?: string;
}

/**
 * For tests and operators (needs `s3:ListBucket` and `s3:GetObject`, which the function has no
 * business holding): every record under the prefix, oldest first.
 */
export async function listAuditRecords(options: ListAuditRecordsOptions): Promise<AuditRecord[]> {
  const { client, bucket } = options;
  const folder = normalizePrefix(options.prefix ?? "audit/");
  const since = options.since === undefined ? undefined : new Date(options.since);
  if (since && Number.isNaN(since.getTime())) throw new Error(`Invalid since: ${String(options.since)}`);
  // Keys sort by time, so everything before `since` can be skipped without being listed.
  const startAfter = since ? `${folder}${datePath(since)}/${compactTime(since)}` : undefined;

  const input = { Bucket: bucket, Prefix: folder, StartAfter: startAfter, MaxKeys: options.pageSize };
  const { requestId } = options;
  const ofRequest = requestId === undefined ? undefined : `-${keySafe(requestId)}-`;
  const keys = (await listKeys(client, input, "audit records")).filter((key) => {
    const name = key.slice(folder.length);
    // The id follows the fixed-width day and time; what follows it is checked on the record itself
    // (`abc` + `approval-requested` and `abc-approval` + `requested` share a key's tail).
    if (!KEY_SHAPE.test(name)) return false;
    if (ofRequest === undefined) return true;
    const rest = name.slice(TIME_END);
    return rest.startsWith(ofRequest) && PHASES.has(rest.slice(ofRequest.length, -".json".length));
  });

  const records: AuditRecord[] = [];
  // A few reads at a time: quick, without exhausting the client's sockets.
  for (let i = 0; i < keys.length; i += 16) {
    const batch = await Promise.all(
      keys.slice(i, i + 16).map(async (key) => {
        const where = `s3://${bucket}/${key}`;
        const text = await readStored(client, bucket, key, where);
        return text === undefined ? undefined : parseRecord(text, where);
      }),
    );
    for (const record of batch) {
      if (!record || (requestId !== undefined && record.requestId !== requestId)) continue;
      if (!since || Date.parse(record.time) >= since.getTime()) records.push(record);
    }
  }
  return records;
}

// --- keys ---------------------------------------------------------------------------------------

const MAX_ATTEMPTS = 5;
/** Where the id begins in a key below the prefix: after `YYYY/MM/DD/YYYYMMDDTHHMMSS.mmmZ`. */
const TIME_END = "YYYY/MM/DD/".length + "YYYYMMDDTHHMMSS.mmmZ".length;
const PHASES: ReadonlySet<string> = new Set<string>(AUDIT_PHASES);
const KEY_SHAPE = new RegExp(
  `^\\d{4}/\\d{2}/\\d{2}/\\d{8}T\\d{6}\\.\\d{3}Z-.+-(${AUDIT_PHASES.join("|")})\\.json$`,
);

function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, "");
  return trimmed === "" || trimmed.endsWith("/") ? trimmed : `${trimmed}/`;
}

/** The key below the prefix; throws (so the write rejects) for a record that cannot be filed. */
export function auditKey(record: AuditRecord): string {
  const time = new Date(record.time);
  if (Number.isNaN(time.getTime()) || !/^\d{4}-/.test(time.toISOString())) {
    throw new Error(`Audit record has an invalid time: ${JSON.stringify(record.time)}`);
  }
  if (!PHASES.has(record.phase))
    throw new Error(`Audit record has an invalid phase: ${JSON.stringify(record.phase)}`);
  if (typeof record.requestId !== "string" || record.requestId === "") {
    throw new Error("Audit record has no requestId");
  }
  return `${datePath(time)}/${compactTime(time)}-${keySafe(record.requestId)}-${record.phase}.json`;
}

/** `YYYY/MM/DD` in UTC. */
function datePath(time: Date): string {
  return time.toISOString().slice(0, 10).replaceAll("-", "/");
}

/** ISO 8601 basic format, `20250102T030405.678Z`: sortable, and free of `:` which some tools mangle. */
function compactTime(time: Date): string {
  return time.toISOString().replace(/[-:]/g, "");
}

/**
 * Request ids come from outside (Slack ids, UUIDs) and must not add folders or odd characters to a
 * key. Bytes outside `[A-Za-z0-9._-]` are percent-encoded (injective, so two ids never share a key;
 * the fixed-width time and the trailing `-<phase>.json` keep the id's bounds unambiguous); an
 * over-long id is replaced by `=<sha-256>`, which no encoded id can equal since `=` is encoded.
 */
function keySafe(requestId: string): string {
  const encoded = [...Buffer.from(requestId, "utf8")]
    .map((byte) =>
      /[A-Za-z0-9._-]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`,
    )
    .join("");
  return encoded.length <= 200 ? encoded : `=${createHash("sha256").update(requestId).digest("hex")}`;
}

// --- S3 plumbing --------------------------------------------------------------------------------

/** The object's text, or undefined when it does not exist. */
async function readStored(client: S3Client, bucket: string, key: string, where: string) {
  try {
    const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await response.Body?.transformToString("utf-8")) ?? "";
  } catch (error) {
    if (errorName(error) === "NoSuchKey") return undefined;
    throw failure(`Audit record exists but could not be read to compare (${where})`, error);
  }
}

function parseRecord(text: string, where: string): AuditRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`Audit record is corrupt (${where}): not valid JSON`);
  }
  const record = value as Partial<AuditRecord> | null;
  if (
    typeof record !== "object" ||
    record === null ||
    !PHASES.has(String(record.phase)) ||
    typeof record.requestId !== "string" ||
    typeof record.time !== "string"
  ) {
    throw new Error(`Audit record is corrupt (${where}): not an audit record`);
  }
  return record as AuditRecord;
}

/** Jittered, so writers that collided do not collide again in lockstep. */
function backoff(attempt: number): Promise<void> {
  const cap = Math.min(2 ** attempt * 5, 200);
  return new Promise((done) => setTimeout(done, Math.random() * cap));
}
