import { createJsonLogger, type Logger } from "../logging/json-logger";
import type { Metrics } from "../observability/metrics";

/** Configuration keys and their values, as one JSON secret holds them (docs/configuration.md). */
export type SecretValues = Record<string, string>;

/** Where the configuration secret comes from (AWS Secrets Manager in production, a stub in tests). */
export interface SecretSource {
  /** `forceFetch` bypasses any cache, e.g. after a signature failure that a rotation could explain. */
  get(options?: { forceFetch?: boolean }): Promise<SecretValues>;
}

/**
 * A secret could not be read or understood. The message names the secret id and what is wrong,
 * never the secret's content. `transient` marks failures worth riding out on cached values
 * (throttling, 5xx, the network); a missing secret, a refused permission or malformed content is
 * not transient: those are deliberate or lasting, and must fail closed.
 */
export class SecretSourceError extends Error {
  override readonly name = "SecretSourceError";
  readonly secretId: string;
  readonly transient: boolean;
  /** The AWS error name (or network error code) when the cause was a failed call. */
  readonly awsErrorName: string | undefined;

  constructor(message: string, details: { secretId: string; transient: boolean; awsErrorName?: string }) {
    super(message);
    this.secretId = details.secretId;
    this.transient = details.transient;
    this.awsErrorName = details.awsErrorName;
  }
}

export function isTransientSecretError(error: unknown): boolean {
  return error instanceof SecretSourceError && error.transient;
}

/** Required configuration is missing; names the keys (never values) and where they were looked for. */
export class MissingSecretKeysError extends Error {
  override readonly name = "MissingSecretKeysError";
  readonly missingKeys: readonly string[];
  readonly secretId: string | undefined;

  constructor(missingKeys: readonly string[], options: { secretId?: string } = {}) {
    const where =
      options.secretId === undefined ? "the environment" : `secret '${options.secretId}' or the environment`;
    super(`Missing configuration: ${missingKeys.join(", ")} (not set in ${where})`);
    this.missingKeys = [...missingKeys];
    this.secretId = options.secretId;
  }
}

/**
 * The required keys, each present and non-empty (an empty string counts as missing, as it does
 * for every setting), or a MissingSecretKeysError naming all that are not.
 */
export function requireKeys<K extends string>(
  values: Readonly<Record<string, string | undefined>>,
  keys: readonly K[],
  options: { secretId?: string } = {},
): Record<K, string> {
  const missing = keys.filter((key) => !values[key]);
  if (missing.length > 0) throw new MissingSecretKeysError(missing, options);
  return Object.fromEntries(keys.map((key) => [key, values[key]])) as Record<K, string>;
}

export const DEFAULT_SECRET_TTL_MS = 5 * 60_000;
/** How long past the TTL cached values may stand in for a secret that cannot be refreshed. */
export const DEFAULT_STALE_GRACE_MS = 10 * 60_000;
/** After a refresh failed and stale values were served, how long before trying again. */
export const DEFAULT_RETRY_AFTER_FAILURE_MS = 30_000;

export interface CachedSecretSourceOptions {
  ttlMs?: number;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
  staleGraceMs?: number;
  retryAfterFailureMs?: number;
  /** Which refresh failures may be ridden out on stale values; by default the transient ones. */
  serveStaleOn?: (error: unknown) => boolean;
  logger?: Logger;
  /** Counts SecretCacheMisses: each fetch from the source (not each call the cache answered). */
  metrics?: Pick<Metrics, "add">;
}

/**
 * Caches a source's values for `ttlMs`; keep one per container (module level) so warm
 * invocations do not call Secrets Manager. Concurrent callers share one in-flight fetch.
 *
 * On a failed refresh after expiry: a *transient* failure (throttling, 5xx, network) is ridden
 * out on the last good values for at most `staleGraceMs` past the TTL, with a warning logged per
 * failed attempt and no new attempt for `retryAfterFailureMs` (so an outage does not add the SDK's
 * retries to every request). Values that were right minutes ago are the best answer while AWS
 * hiccups, and the bound keeps a rotated-away value from living on indefinitely. Any other failure
 * (deleted secret, revoked permission, KMS refusal, malformed content) fails at once: those are
 * deliberate or need a human, and Lambda must fail closed rather than run on config an operator
 * has taken away.
 */
export function cachedSecretSource(
  source: SecretSource,
  options: CachedSecretSourceOptions = {},
): SecretSource {
  const ttlMs = options.ttlMs ?? DEFAULT_SECRET_TTL_MS;
  const graceMs = options.staleGraceMs ?? DEFAULT_STALE_GRACE_MS;
  const retryMs = options.retryAfterFailureMs ?? DEFAULT_RETRY_AFTER_FAILURE_MS;
  const now = options.now ?? Date.now;
  const serveStaleOn = options.serveStaleOn ?? isTransientSecretError;
  const logger = options.logger ?? createJsonLogger();

  let cached: { values: SecretValues; fetchedAt: number } | undefined;
  /** Set when stale values were served after a failure: no refetch before this time. */
  let retryAt = 0;
  let inFlight: Promise<SecretValues> | undefined;

  const staleLimit = (fetchedAt: number) => fetchedAt + ttlMs + graceMs;

  function fallBack(error: unknown): SecretValues {
    const time = now();
    if (!cached || time >= staleLimit(cached.fetchedAt) || !serveStaleOn(error)) throw error;
    retryAt = time + retryMs;
    logger.warn("secret refresh failed; serving the cached configuration", {
      // Our sources' messages name the secret and the failure, never values.
      errorName: error instanceof SecretSourceError ? error.awsErrorName : (error as Error)?.name,
      errorMessage: error instanceof Error ? error.message : String(error),
      cachedAgeMs: time - cached.fetchedAt,
      staleUntil: new Date(staleLimit(cached.fetchedAt)).toISOString(),
    });
    return cached.values;
  }

  function refresh(): Promise<SecretValues> {
    if (inFlight) return inFlight;
    options.metrics?.add("SecretCacheMisses", 1);
    const fetching = (async () => {
      try {
        const values = Object.freeze({ ...(await source.get({ forceFetch: true })) });
        cached = { values, fetchedAt: now() };
        retryAt = 0;
        return values;
      } catch (error) {
        return fallBack(error);
      }
    })();
    inFlight = fetching;
    // Cleared only once settled (and only if still ours), even when `source.get` throws synchronously.
    const clear = () => {
      if (inFlight === fetching) inFlight = undefined;
    };
    fetching.then(clear, clear);
    return fetching;
  }

  return {
    get(getOptions) {
      if (cached && !getOptions?.forceFetch) {
        const time = now();
        if (time < cached.fetchedAt + ttlMs) return Promise.resolve(cached.values);
        if (time < retryAt && time < staleLimit(cached.fetchedAt)) return Promise.resolve(cached.values);
      }
      return refresh();
    },
  };
}
