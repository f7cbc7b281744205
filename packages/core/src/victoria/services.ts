import type { DeadLetterActions } from "../deadletter/dead-letter-actions-types";
import {
  type ConfiguredPolicy,
  type ConfiguredPolicyFactory,
  configuredPolicyFromEnv,
} from "../policy/configured-policy";
import { type AuditTrail, type AuditTrailFactory, auditTrailFromEnv } from "../security/audit-trail";
import { fileErrorReason, readFileBounded } from "./bounded-file";
import type { VictoriaConfig } from "./config";
import type { EncryptionProvider } from "./encryption/envelope-types";
import { CommandFailure, ConfigError } from "./errors";
import type { VictoriaServices } from "./plugin";
import type { ProviderFactories } from "./providers";
import type { StorageProvider } from "./storage/storage-types";

/** Builds the dead-letter operations; given by hosts that have a vault and Service Bus. */
export type DeadLetterActionsFactory = () => Promise<DeadLetterActions>;

export const DEAD_LETTERS_UNAVAILABLE =
  "dead-letter operations are not available here: the vault and Service Bus are not configured";

/** What `deadLetters()` does where the host gave no factory (also the fallback for hand-built services). */
export const unavailableDeadLetters: DeadLetterActionsFactory = () =>
  Promise.reject(new ConfigError(DEAD_LETTERS_UNAVAILABLE));

/** A file named at the terminal (CLI mode), bounded, with a failure that names it and why. */
export async function readLocalFile(path: string): Promise<Uint8Array> {
  try {
    return await readFileBounded(path);
  } catch (error) {
    if (error instanceof CommandFailure) throw error;
    throw new CommandFailure(`Could not open file '${path}': ${fileErrorReason(error)}`);
  }
}

/**
 * Builds providers from the config on first use, once per run. `policy` is the host's command policy
 * (one that can read `s3://` locations, cached across runs); by default, `env`'s, without a bucket reader.
 */
export function createServices(
  config: VictoriaConfig,
  factories: ProviderFactories,
  env: NodeJS.ProcessEnv,
  deadLetterActions: DeadLetterActionsFactory = unavailableDeadLetters,
  mode: "cli" | "server" = "cli",
  policy: ConfiguredPolicyFactory = configuredPolicyFromEnv(env),
  auditTrail: AuditTrailFactory = auditTrailFromEnv(env, mode),
): VictoriaServices {
  let encryption: Promise<EncryptionProvider> | undefined;
  let deadLetters: Promise<DeadLetterActions> | undefined;
  let configuredPolicy: Promise<ConfiguredPolicy> | undefined;
  let trail: Promise<AuditTrail> | undefined;
  const storage = new Map<string, Promise<StorageProvider>>();
  return {
    async localFile(path, argument) {
      if (mode === "server") {
        throw new CommandFailure(
          `${argument} would name a file on the server, which remote commands may not do; see 'victoria <command> --help' for the ways to pass data instead.`,
          { failureClass: "usage" },
        );
      }
      return readLocalFile(path);
    },
    encryption() {
      encryption ??= (async () => {
        const section = config.encryption_provider;
        if (!section)
          throw new ConfigError(
            "No encryption provider configured: set 'encryption_provider' in victoria.yaml",
          );
        // Own properties only: `__proto__` or `toString` must be "unknown", not Object.prototype.
        const factory = Object.hasOwn(factories.encryption, section.provider)
          ? factories.encryption[section.provider]
          : undefined;
        if (!factory) {
          throw new ConfigError(
            `encryption_provider.provider: unknown provider '${section.provider}' (known: ${Object.keys(factories.encryption).join(", ")})`,
          );
        }
        return factory(section.config, env);
      })();
      return encryption;
    },
    storage(name) {
      let provider = storage.get(name);
      if (!provider) {
        provider = (async () => {
          const section = Object.hasOwn(config.storage_providers, name)
            ? config.storage_providers[name]
            : undefined;
          if (!section) {
            const configured = Object.keys(config.storage_providers);
            throw new ConfigError(
              `No configuration for storage provider '${name}' in storage_providers (configured: ${configured.join(", ") || "none"})`,
            );
          }
          const factory = Object.hasOwn(factories.storage, name) ? factories.storage[name] : undefined;
          if (!factory) {
            throw new ConfigError(
              `storage_providers.${name}: unknown provider type (known: ${Object.keys(factories.storage).join(", ")})`,
            );
          }
          return factory(section, env);
        })();
        storage.set(name, provider);
      }
      return provider;
    },
    deadLetters() {
      deadLetters ??= deadLetterActions();
      return deadLetters;
    },
    policy() {
      configuredPolicy ??= policy();
      return configuredPolicy;
    },
    auditTrail() {
      trail ??= auditTrail();
      return trail;
    },
  };
}
