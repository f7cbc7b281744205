import type { BucketReader } from "@victoria/core/policy/policy-source";
import type { LoadedConfig } from "@victoria/core/victoria/config";
import type { Env } from "./settings";

/** How long a config read from the vault bucket is kept, as the secret is (edits show within 5 min). */
const BUCKET_CONFIG_TTL_MS = 5 * 60 * 1000;
const S3_LOCATION = /^s3:\/\/([^/]+)\/(.+)$/;

/**
 * Where the deployed engine's `victoria.yaml` comes from, by the operator's choice:
 * - `VICTORIA_CONFIG_YAML`: the YAML itself, as a key of the configuration secret;
 * - `VICTORIA_CONFIG=s3://<bucket>/<key>`: an object in the vault bucket (the execute function may
 *   read it), cached for five minutes;
 * - `VICTORIA_CONFIG=<path>`: a file (locally, or one bundled with a `VICTORIA_BIN` layer).
 * Answers `undefined` for a file or nothing (the engine reads the path, or its bundled default).
 */
export function engineConfigLoader(env: Env): (() => Promise<LoadedConfig>) | undefined {
  const yaml = env.VICTORIA_CONFIG_YAML;
  if (yaml) {
    let parsed: Promise<LoadedConfig> | undefined;
    return () => {
      parsed ??= import("@victoria/core/victoria/config").then(({ parseConfig }) => ({
        config: parseConfig(yaml, "VICTORIA_CONFIG_YAML"),
        path: "VICTORIA_CONFIG_YAML (the configuration secret)",
      }));
      return parsed;
    };
  }
  const location = S3_LOCATION.exec(env.VICTORIA_CONFIG ?? "");
  if (!location) return undefined;
  const [, bucket = "", key = ""] = location;
  let cached: { at: number; loaded: Promise<LoadedConfig> } | undefined;
  return () => {
    if (cached === undefined || Date.now() - cached.at > BUCKET_CONFIG_TTL_MS) {
      const loaded = readBucketConfig(bucket, key);
      // A failed read is not kept: the next command tries again.
      loaded.catch(() => {
        if (cached?.loaded === loaded) cached = undefined;
      });
      cached = { at: Date.now(), loaded };
    }
    return cached.loaded;
  };
}

/**
 * Reads an object of the vault bucket for the engine (its config, `VICTORIA_POLICY=s3://…`): the same
 * bounded, worded reads as `store s3 get`; credentials and region from the function.
 */
export const readBucketObject: BucketReader = async (bucket, key) => {
  const { createS3Storage } = await import("@victoria/core/adapters/aws/s3-storage");
  return createS3Storage({ bucket }).get(key);
};

async function readBucketConfig(bucket: string, key: string): Promise<LoadedConfig> {
  const [{ parseConfig }, { ConfigError, CommandFailure }] = await Promise.all([
    import("@victoria/core/victoria/config"),
    import("@victoria/core/victoria/errors"),
  ]);
  const source = `s3://${bucket}/${key}`;
  let bytes: Uint8Array;
  try {
    bytes = await readBucketObject(bucket, key);
  } catch (error) {
    const reason = error instanceof CommandFailure ? error.message : String(error);
    throw new ConfigError(`Error opening config '${source}': ${reason}`);
  }
  return { config: parseConfig(Buffer.from(bytes).toString("utf8"), source), path: source };
}
