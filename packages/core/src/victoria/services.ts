import type { VictoriaConfig } from "./config";
import type { EncryptionProvider } from "./encryption/envelope-types";
import { ConfigError } from "./errors";
import type { VictoriaServices } from "./plugin";
import type { ProviderFactories } from "./providers";
import type { StorageProvider } from "./storage/storage-types";

/** Builds providers from the config on first use, once per run. */
export function createServices(
  config: VictoriaConfig,
  factories: ProviderFactories,
  env: NodeJS.ProcessEnv,
): VictoriaServices {
  let encryption: Promise<EncryptionProvider> | undefined;
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
  };
}
