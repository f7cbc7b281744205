import { createProcessRunner } from "@victoria/core/adapters/local/process-runner";
import type { DeadLetterActions } from "@victoria/core/deadletter/dead-letter-actions-types";
import { lazyPort } from "@victoria/core/lazy-port";
import type { CommandRunner } from "@victoria/core/ports";
import type { LoadedConfig } from "@victoria/core/victoria/config";
import type { ProviderFactories } from "@victoria/core/victoria/providers";
import { engineConfigLoader, readBucketObject } from "./engine-config-source";
import type { ExecuteSettings } from "./settings";

/**
 * What a `VICTORIA_BIN` child sees of our environment: where its config is, locale and paths — no
 * secret. The operator adds names (e.g. SERVICE_BUS_CONNECTIONS for `deadletter`, AWS credentials
 * for `store s3`) with VICTORIA_BIN_ENV, knowing the child can then print them.
 */
export const CHILD_ENV_NAMES = [
  "PATH",
  "HOME",
  "LANG",
  "LC_ALL",
  "LC_CTYPE",
  "TZ",
  "TMPDIR",
  "NODE_EXTRA_CA_CERTS",
  "VICTORIA_CONFIG",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
] as const;

/** `nobody` on Debian and Amazon Linux: owns nothing, so it can read no one's /proc/<pid>/environ. */
const NOBODY = 65534;

export function childEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const extra = (env.VICTORIA_BIN_ENV ?? "")
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  const childEnv: NodeJS.ProcessEnv = { VICTORIA_SERVER_MODE: "1" };
  for (const name of [...CHILD_ENV_NAMES, ...extra]) {
    const value = env[name];
    if (value !== undefined) childEnv[name] = value;
  }
  return childEnv;
}

/**
 * The child's user: VICTORIA_BIN_UID (and _GID), else `nobody` when we run as root. Without root
 * (Lambda runs as an unprivileged user) the uid cannot change: see the README's security section.
 */
export function childUser(env: NodeJS.ProcessEnv): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(env.VICTORIA_BIN_UID || NOBODY);
  const gid = Number(env.VICTORIA_BIN_GID || env.VICTORIA_BIN_UID || NOBODY);
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || uid < 0 || gid < 0) {
    throw new Error("VICTORIA_BIN_UID and VICTORIA_BIN_GID must be numeric ids");
  }
  return { uid, gid };
}

/**
 * What a host may choose for the in-process engine besides the environment: the local server's
 * stand-ins and its generated config. Lambda gives none of it.
 */
export interface EngineAdapters {
  /** Provider factories instead of the defaults (e.g. Key Vault with a stand-in's credential). */
  providers?: () => Promise<ProviderFactories>;
  /** The config when neither VICTORIA_CONFIG nor VICTORIA_CONFIG_YAML names one (else the bundled default). */
  defaultConfig?: () => Promise<LoadedConfig>;
}

async function loadVictoria(
  env: NodeJS.ProcessEnv,
  deadLetters?: () => Promise<DeadLetterActions>,
  providers?: EngineAdapters["providers"],
) {
  const [{ createVictoria }, factories, { corePlugins }, { configuredPolicyFromEnv }] = await Promise.all([
    import("@victoria/core/victoria/engine"),
    providers?.() ??
      import("@victoria/core/victoria/default-providers").then(({ defaultProviders }) => defaultProviders),
    import("@victoria/core/victoria/plugins/core-plugins"),
    import("@victoria/core/policy/configured-policy"),
  ]);
  // Remote callers only, whoever runs it: no argument may name a server file.
  return createVictoria({
    plugins: corePlugins,
    providers: factories,
    env,
    mode: "server",
    ...(deadLetters ? { deadLetters } : {}),
    // `victoria policy` sees the policy the gate enforces, VICTORIA_POLICY=s3://… included, read
    // once per container and then as the gate's is (a bucket's object every 5 minutes).
    policy: configuredPolicyFromEnv(env, readBucketObject),
  });
}

/** `VICTORIA_BIN` set → that executable; otherwise the TypeScript engine in this process. */
export function createCommandRunner(
  settings: ExecuteSettings,
  env: NodeJS.ProcessEnv = process.env,
  /** Backs `victoria deadletter …`; without it those commands say they are not available here. */
  deadLetters?: () => Promise<DeadLetterActions>,
  engine: EngineAdapters = {},
): CommandRunner {
  const bin = settings.victoriaBin;
  const loadDefaultConfig = engineConfigLoader(env);
  if (bin && loadDefaultConfig) {
    throw new Error(
      "VICTORIA_BIN reads its config from a file (VICTORIA_CONFIG=<path>); VICTORIA_CONFIG_YAML and s3:// locations serve the in-process engine",
    );
  }
  if (bin) {
    const childEnv = childEnvironment(env);
    const user = childUser(env);
    // The engine's command tree says which commands print secrets; commands it lacks count as such.
    return lazyPort<CommandRunner>({ run: true }, async () => {
      const victoria = await loadVictoria(env);
      return createProcessRunner({
        bin,
        timeoutMs: settings.timeoutMs,
        env: childEnv,
        ...(user ? { user } : {}),
        isSensitive: (args) => victoria.isSensitive(args),
      });
    });
  }
  // The engine, its plugins and `yaml` load with the first command, not at start.
  return lazyPort<CommandRunner>({ run: true }, async () => {
    const [victoria, { createInProcessRunner }] = await Promise.all([
      loadVictoria(env, deadLetters, engine.providers),
      import("@victoria/core/victoria/in-process-runner"),
    ]);
    // The operator's config wins: the host's default serves only where none is named.
    const fallback = settings.configPath === null ? engine.defaultConfig : undefined;
    const defaultConfig = loadDefaultConfig ?? fallback;
    return createInProcessRunner({
      victoria,
      configPath: settings.configPath,
      ...(defaultConfig ? { loadDefaultConfig: defaultConfig } : {}),
      timeoutMs: settings.timeoutMs,
    });
  });
}
