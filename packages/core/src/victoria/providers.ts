import type { EncryptionProvider } from "./encryption/envelope-types";
import type { StorageProvider } from "./storage/storage-types";

/**
 * Builds a provider from its `victoria.yaml` section. Factories validate their own config
 * (throwing ConfigError naming the field) and are free to import their SDK lazily, so a run
 * that never touches Azure never loads the Azure SDK.
 */
export type EncryptionFactory = (
  config: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
) => Promise<EncryptionProvider>;
export type StorageFactory = (
  config: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
) => Promise<StorageProvider>;

/** Provider implementations by the names `victoria.yaml` uses (`encryption_provider.provider`, `storage_providers` keys). */
export interface ProviderFactories {
  encryption: Record<string, EncryptionFactory>;
  storage: Record<string, StorageFactory>;
}
