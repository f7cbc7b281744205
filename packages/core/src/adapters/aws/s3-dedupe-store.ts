import { createHash } from "node:crypto";
import { DeleteObjectCommand, GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { DedupeStore } from "../../idempotency/dedupe-store";
import { errorName, failure } from "./s3-errors";
import { type PutCondition, putConditionalObject } from "./s3-versioned-object";

export interface S3DedupeStoreOptions {
  client: S3Client;
  bucket: string;
  /** Folder-like prefix, `dedupe/` by default (a missing trailing `/` is added). */
  prefix?: string;
  /** Milliseconds since the epoch; injectable so tests can expire claims. */
  now?: () => number;
  /** Conditional writes lost to other claimers before giving up on one claim. */
  maxAttempts?: number;
}

/**
 * A dedupe store shared by every Lambda container (the in-memory one is per container): one
 * object per key at `<prefix><sha256(key)>` holding `{ key, expiresAt }` (ISO-8601).
 *
 * - claim puts with `If-None-Match: *`; the one writer that creates the object wins. On 412 the
 *   object is read: a live claim answers false; an expired one is replaced with `If-Match: <etag>`,
 *   so of several claimers of one expired key exactly one wins and the others re-read and lose.
 * - release deletes the object, so the next delivery (Slack's retry) is taken.
 *
 * Grants: `s3:PutObject`, `s3:GetObject`, `s3:DeleteObject` on `arn:aws:s3:::<bucket>/<prefix>*`.
 * Expired objects are never swept here: add an S3 lifecycle rule expiring `<prefix>` objects after
 * 1 day (lifecycle works in whole days, so TTLs should stay under a day; a longer one would be cut
 * short when the rule deletes the object).
 */
export function createS3DedupeStore(options: S3DedupeStoreOptions): DedupeStore {
  const { client, bucket } = options;
  const folder = normalizePrefix(options.prefix ?? "dedupe/");
  const now = options.now ?? Date.now;
  const maxAttempts = options.maxAttempts ?? 20;
  const keyOf = (key: string) => `${folder}${createHash("sha256").update(key, "utf8").digest("hex")}`;

  /** A conditional put of a fresh claim; false when the condition failed (someone else got there). */
  async function put(key: string, ttlMs: number, condition: PutCondition) {
    const body = JSON.stringify({ key, expiresAt: new Date(now() + ttlMs).toISOString() });
    return putConditionalObject(
      client,
      { bucket, key: keyOf(key), body, condition },
      `Could not claim ${JSON.stringify(key)} (s3://${bucket}/${keyOf(key)})`,
    );
  }

  /** The current claim's expiry and ETag, or undefined when there is none. */
  async function read(key: string): Promise<{ expiresAt: number; etag: string } | undefined> {
    const where = `s3://${bucket}/${keyOf(key)}`;
    let text: string;
    let etag: string | undefined;
    try {
      const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: keyOf(key) }));
      text = (await response.Body?.transformToString("utf-8")) ?? "";
      etag = response.ETag;
    } catch (error) {
      if (errorName(error) === "NoSuchKey") return undefined;
      throw failure(`Could not read the claim on ${JSON.stringify(key)} (${where})`, error);
    }
    if (!etag) throw new Error(`The claim on ${JSON.stringify(key)} came back without an ETag (${where})`);
    // Unreadable contents count as expired (NaN): only we write here, and replacing heals it.
    return { expiresAt: parseExpiry(text), etag };
  }

  return {
    async claim(key, ttlMs) {
      for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
        if (await put(key, ttlMs, { IfNoneMatch: "*" })) return true;
        const current = await read(key);
        if (current) {
          if (current.expiresAt > now()) return false;
          if (await put(key, ttlMs, { IfMatch: current.etag })) return true;
        }
        // Lost a race (replaced, released or still landing under a 409): look again.
        await backoff(attempt);
      }
      throw new Error(
        `Could not claim ${JSON.stringify(key)}: gave up after ${maxAttempts} conflicting writes`,
      );
    },

    async release(key) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: keyOf(key) }));
      } catch (error) {
        throw failure(`Could not release ${JSON.stringify(key)} (s3://${bucket}/${keyOf(key)})`, error);
      }
    },
  };
}

function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, "");
  return trimmed === "" || trimmed.endsWith("/") ? trimmed : `${trimmed}/`;
}

function parseExpiry(text: string): number {
  try {
    const value = JSON.parse(text) as { expiresAt?: unknown } | null;
    return typeof value?.expiresAt === "string" ? Date.parse(value.expiresAt) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Jittered, so claimers that collided do not collide again in lockstep. */
function backoff(attempt: number): Promise<void> {
  const cap = Math.min(2 ** attempt, 100);
  return new Promise((done) => setTimeout(done, Math.random() * cap));
}
