import { encryptionFactories } from "./encryption/encryption-factories";
import type { ProviderFactories } from "./providers";
import { storageFactories } from "./storage/storage-factories";

/** Every provider `victoria.yaml` can name; SDK-backed ones load their SDK only when used. */
export const defaultProviders: ProviderFactories = {
  encryption: encryptionFactories,
  storage: storageFactories,
};
