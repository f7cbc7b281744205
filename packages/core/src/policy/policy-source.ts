import { fileErrorReason, readFileBounded } from "../victoria/bounded-file";
import type { Policy } from "./policy";

/** A policy in the vault bucket is re-read after this long, as the secret is (edits show within 5 min). */
const BUCKET_POLICY_TTL_MS = 5 * 60 * 1000;
const S3_LOCATION = /^s3:\/\/([^/]+)\/(.+)$/;

export type PolicyEnv = Readonly<Record<string, string | undefined>>;

/** Reads an object of a bucket (the function's own role and region); injected so core stays SDK-free. */
export type BucketReader = (bucket: string, key: string) => Promise<Uint8Array>;

/**
 * Where the command policy comes from, by the operator's choice (none: the default policy):
 * - `VICTORIA_POLICY_YAML`: the YAML itself, a key of the configuration secret (AWS);
 * - `VICTORIA_POLICY=s3://<vault bucket>/<key>`: an object in the vault bucket, re-read every 5 minutes;
 * - `VICTORIA_POLICY=<path>`: a file (locally), read once.
 * Answers undefined when no policy is configured; the loader rejects with a PolicyError naming the
 * source, line and field when the policy is invalid, or an Error naming the source when it cannot be read.
 */
export function policyLoader(env: PolicyEnv, readBucket?: BucketReader): (() => Promise<Policy>) | undefined {
  const yaml = env.VICTORIA_POLICY_YAML;
  if (yaml) {
    const parsed = parse(yaml, "VICTORIA_POLICY_YAML");
    parsed.catch(() => undefined);
    return () => parsed;
  }
  const location = env.VICTORIA_POLICY?.trim();
  if (!location) return undefined;
  const s3 = S3_LOCATION.exec(location);
  if (s3) {
    const [, bucket = "", key = ""] = s3;
    let cached: { at: number; loaded: Promise<Policy> } | undefined;
    return () => {
      if (cached === undefined || Date.now() - cached.at > BUCKET_POLICY_TTL_MS) {
        const loaded = readBucketPolicy(bucket, key, location, readBucket);
        // A failed read is not kept: the next request tries again.
        loaded.catch(() => {
          if (cached?.loaded === loaded) cached = undefined;
        });
        cached = { at: Date.now(), loaded };
      }
      return cached.loaded;
    };
  }
  const loaded = readFilePolicy(location);
  loaded.catch(() => undefined);
  return () => loaded;
}

/** The parser (and its YAML library) loads with the first policy, not with every process that has none. */
async function parse(text: string, source: string): Promise<Policy> {
  return (await import("./policy-file")).parsePolicy(text, source);
}

async function readFilePolicy(path: string): Promise<Policy> {
  let bytes: Uint8Array;
  try {
    bytes = await readFileBounded(path);
  } catch (error) {
    throw new Error(`Could not read the policy file '${path}' (VICTORIA_POLICY): ${fileErrorReason(error)}`);
  }
  return parse(Buffer.from(bytes).toString("utf8"), path);
}

async function readBucketPolicy(
  bucket: string,
  key: string,
  source: string,
  readBucket: BucketReader | undefined,
): Promise<Policy> {
  if (!readBucket) throw new Error(`VICTORIA_POLICY names ${source}, but this runtime cannot read buckets`);
  let bytes: Uint8Array;
  try {
    bytes = await readBucket(bucket, key);
  } catch (error) {
    throw new Error(`Could not read the policy ${source} (VICTORIA_POLICY): ${(error as Error).message}`);
  }
  return parse(Buffer.from(bytes).toString("utf8"), source);
}
