import { createSecretsManagerSource } from "../adapters/aws/secrets-manager-source";
import type { Metrics } from "../observability/metrics";
import { cachedSecretSource, requireKeys, type SecretSource } from "./secrets";

export type Env = Record<string, string | undefined>;

export const SECRET_ID_VARIABLE = "VICTORIA_SECRET_ID";

export interface ResolveEnvironmentOptions {
  /** Where the secret comes from; by default the container's cached source for `VICTORIA_SECRET_ID`. */
  source?: SecretSource;
  /** Keys that must end up non-empty; otherwise MissingSecretKeysError names them all. */
  requiredKeys?: readonly string[];
}

/**
 * The configuration: without `VICTORIA_SECRET_ID` the environment alone; with it, the environment
 * overlaid by the secret's keys. The secret wins because on AWS it is the managed, rotated source
 * of truth: a stale plaintext variable left on the function must not shadow a rotated secret, and
 * settings that are not secret (PORT, VAULT_DIR, URLs) simply stay in the environment.
 */
export async function resolveEnvironment(env: Env, options: ResolveEnvironmentOptions = {}): Promise<Env> {
  const requiredKeys = options.requiredKeys ?? [];
  const secretId = env[SECRET_ID_VARIABLE];
  if (!secretId) {
    requireKeys(env, requiredKeys);
    return { ...env };
  }
  const source = options.source ?? secretSourceFor(secretId);
  const merged: Env = { ...env, ...(await source.get()) };
  requireKeys(merged, requiredKeys, { secretId });
  return merged;
}

export type SecretSourceFactory = (secretId: string) => SecretSource;

/**
 * VICTORIA_SECRET_TTL_SECONDS: how long a container keeps the secret (default 5 minutes). Set on the
 * function, not in the secret: it decides when the secret is read.
 */
function ttlFromEnvironment(): { ttlMs?: number } {
  const seconds = Number(process.env.VICTORIA_SECRET_TTL_SECONDS);
  return Number.isFinite(seconds) && seconds > 0 ? { ttlMs: seconds * 1000 } : {};
}

/** Secrets Manager behind the container's cache; `metrics` counts the cache's misses. */
function defaultFactory(metrics?: Pick<Metrics, "add">): SecretSourceFactory {
  return (secretId) =>
    cachedSecretSource(createSecretsManagerSource({ secretId }), {
      ...ttlFromEnvironment(),
      ...(metrics ? { metrics } : {}),
    });
}

/** One cached source per secret id for the life of the container, so warm invocations reuse it. */
const sources = new Map<string, SecretSource>();

/** The container's cached source for a secret id; `create` is used only the first time. */
export function secretSourceFor(
  secretId: string,
  create: SecretSourceFactory = defaultFactory(),
): SecretSource {
  let source = sources.get(secretId);
  if (!source) {
    source = create(secretId);
    sources.set(secretId, source);
  }
  return source;
}

/**
 * For Lambda entries: `await getEnvironment([...])` per invocation costs a Secrets Manager call
 * only when the container's cache has expired (each such call counted in `metrics`).
 */
export function getEnvironment(
  requiredKeys: readonly string[] = [],
  options: { env?: Env; createSource?: SecretSourceFactory; metrics?: Pick<Metrics, "add"> } = {},
): Promise<Env> {
  const env = options.env ?? process.env;
  const secretId = env[SECRET_ID_VARIABLE];
  const source = secretId
    ? secretSourceFor(secretId, options.createSource ?? defaultFactory(options.metrics))
    : undefined;
  return resolveEnvironment(env, { requiredKeys, ...(source ? { source } : {}) });
}

/** Forgets the container's sources; for tests. */
export function resetSecretSources(): void {
  sources.clear();
}
