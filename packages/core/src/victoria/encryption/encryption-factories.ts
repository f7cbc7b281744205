import type { TokenCredential } from "@azure/identity";
import { type EntraAuthorityOptions, entraAuthority } from "../../adapters/azure/entra-authority";
import type { KeyVaultClientOptions } from "../../adapters/azure/key-vault-key";
import { ConfigError } from "../errors";
import type { EncryptionFactory } from "../providers";
import { createEnvelopeEncryption } from "./envelope";
import { loadLocalKeyEncryptionKey } from "./local-key";

const SECTION = "encryption_provider.config";

function optionalString(config: Record<string, unknown>, field: string): string | undefined {
  const value = config[field];
  if (value === undefined || value === null || value === "") return undefined;
  // YAML reads `version: 2` as a number; a version is a name, so take it as written.
  if (typeof value === "number") return String(value);
  if (typeof value !== "string") throw new ConfigError(`${SECTION}.${field} must be a string`);
  return value;
}

function requiredString(config: Record<string, unknown>, field: string): string {
  const value = optionalString(config, field);
  if (value === undefined) throw new ConfigError(`${SECTION}.${field} is required`);
  return value;
}

function stringMap(config: Record<string, unknown>, field: string): Record<string, string> | undefined {
  const value = config[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigError(`${SECTION}.${field} must be a mapping of key version to key file`);
  }
  return Object.fromEntries(
    Object.entries(value).map(([version, path]) => {
      if (typeof path !== "string" || path === "") {
        throw new ConfigError(`${SECTION}.${field}.${version} must be the path of a key file`);
      }
      return [version, path];
    }),
  );
}

/**
 * `provider: local` — an RSA private key in a PEM file wraps the data keys (RSA-OAEP-256), for use
 * without a cloud. Config: `key_file`, optional `version` (default: the key's fingerprint) and
 * `previous_keys: {<version>: <key_file>}` so envelopes made with older keys can still be rotated.
 * Relative paths are taken from the working directory.
 */
export const localEncryptionFactory: EncryptionFactory = async (config) => {
  const kek = await loadLocalKeyEncryptionKey({
    keyFile: requiredString(config, "key_file"),
    version: optionalString(config, "version"),
    previousKeyFiles: stringMap(config, "previous_keys"),
    configPath: SECTION,
  });
  return createEnvelopeEncryption(kek);
};

export interface AzureEncryptionDeps {
  /** Use this credential instead of one built from config and environment (tests, managed identity). */
  credential?: TokenCredential;
  /** Extra SDK client options, e.g. `tlsOptions: { ca }` to trust a stand-in's certificate. */
  clientOptions?: KeyVaultClientOptions;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

async function credentialFrom(
  config: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): Promise<TokenCredential> {
  if (config.auth_via_cli === true) {
    const { AzureCliCredential } = await import("@azure/identity");
    return new AzureCliCredential();
  }
  const fromConfigOrEnv = (field: string, variable: string) =>
    optionalString(config, field) ?? (env[variable] || undefined);
  const tenantId = fromConfigOrEnv("tenant_id", "AZURE_TENANT_ID");
  const clientId = fromConfigOrEnv("client_id", "AZURE_CLIENT_ID");
  const clientSecret = fromConfigOrEnv("client_secret", "AZURE_CLIENT_SECRET");
  if (tenantId === undefined || clientId === undefined || clientSecret === undefined) {
    const missing = [
      tenantId === undefined && "tenant_id (or AZURE_TENANT_ID)",
      clientId === undefined && "client_id (or AZURE_CLIENT_ID)",
      clientSecret === undefined && "client_secret (or AZURE_CLIENT_SECRET)",
    ].filter((name) => name !== false);
    const names = missing.map((name) => `${SECTION}.${name}`).join(", ");
    const verb = missing.length === 1 ? "is" : "are";
    throw new ConfigError(
      `${names} ${verb} required for Azure Key Vault, unless ${SECTION}.auth_via_cli is true`,
    );
  }
  // Loaded only now: a config error, or a run without Azure, never pays for the SDK.
  const { ClientSecretCredential } = await import("@azure/identity");
  let authority: EntraAuthorityOptions;
  try {
    authority = entraAuthority(env);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  return new ClientSecretCredential(tenantId, clientId, clientSecret, authority);
}

/**
 * `provider: azure` — the key encryption key lives in Azure Key Vault, as in the Python Victoria.
 * Config: `vault_url`, `key`, and `tenant_id`/`client_id`/`client_secret` (falling back to
 * AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET; AZURE_AUTHORITY_HOST sets the authority),
 * or `auth_via_cli: true` to use the Azure CLI's login. The SDK is loaded only when this runs.
 */
export function createAzureEncryptionFactory(deps: AzureEncryptionDeps = {}): EncryptionFactory {
  return async (config, env) => {
    const vaultUrl = requiredString(config, "vault_url");
    const keyName = requiredString(config, "key");
    let hostname: string;
    try {
      const parsed = new URL(vaultUrl);
      if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw new Error(parsed.protocol);
      hostname = parsed.hostname;
    } catch {
      throw new ConfigError(
        `${SECTION}.vault_url must be an https URL, e.g. https://my-vault.vault.azure.net`,
      );
    }
    const credential = deps.credential ?? (await credentialFrom(config, env));
    const { openKeyVaultKey } = await import("../../adapters/azure/key-vault-key");
    const kek = await openKeyVaultKey({
      vaultUrl,
      keyName,
      credential,
      clientOptions: {
        // A loopback vault is a stand-in; its challenge cannot name a *.vault.azure.net resource.
        disableChallengeResourceVerification: LOOPBACK.has(hostname),
        ...deps.clientOptions,
      },
    });
    return createEnvelopeEncryption(kek);
  };
}

/** Encryption providers by the names `encryption_provider.provider` uses. */
export const encryptionFactories: Record<string, EncryptionFactory> = {
  local: localEncryptionFactory,
  azure: createAzureEncryptionFactory(),
};
