import type { DeadLetterActions } from "../deadletter/dead-letter-actions-types";
import type { VictoriaConfig } from "./config";
import type { EncryptionProvider } from "./encryption/envelope-types";
import { ConfigError } from "./errors";
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

/** Builds providers from the config on first use, once per run. */
export function createServices(
  config: VictoriaConfig,
  factories: ProviderFactories,
  env: NodeJS.ProcessEnv,
  deadLetterActions: DeadLetterActionsFactory = unavailableDeadLetters,
): VictoriaServices {
  let encryption: Promise<EncryptionProvider> | undefined;
  let deadLetters: Promise<DeadLetterActions> | undefined;
  const storage = new Map<string, Promise<StorageProvider>>();
  return {
    encryption() {
      encryption ??= (async () => {
        const section = config.encryption_provider;
        if (!section)
          throw new ConfigError(
            "No encryption provider configured: set 'encryption_provider' in victoria.yaml",
          );
        const factory = factories.encryption[section.provider];
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
          const section = config.storage_providers[name];
          if (!section) {
            const configured = Object.keys(config.storage_providers);
            throw new ConfigError(
              `No configuration for storage provider '${name}' in storage_providers (configured: ${configured.join(", ") || "none"})`,
            );
          }
          const factory = factories.storage[name];
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
  };
}
