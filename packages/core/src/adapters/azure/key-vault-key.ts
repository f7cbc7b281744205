import type { TokenCredential } from "@azure/identity";
import { CryptographyClient, KeyClient, type KeyClientOptions, type KeyVaultKey } from "@azure/keyvault-keys";
import { isTransientError } from "../../failure-class";
import type { KeyEncryptionKey } from "../../victoria/encryption/envelope";
import { CommandFailure } from "../../victoria/errors";

/** What the Python Victoria used (EncryptionAlgorithm.rsa_oaep_256): RSA-OAEP with SHA-256 and MGF1-SHA-256. */
const ALGORITHM = "RSA-OAEP-256";

/**
 * Options passed to the SDK clients: `tlsOptions.ca` to trust a stand-in's certificate,
 * `disableChallengeResourceVerification` for vaults outside `*.vault.azure.net`, `retryOptions`, ...
 */
export type KeyVaultClientOptions = KeyClientOptions;

export interface KeyVaultKeyOptions {
  /** e.g. `https://my-vault.vault.azure.net`. */
  vaultUrl: string;
  /** Name of the key encryption key in the vault. */
  keyName: string;
  credential: TokenCredential;
  clientOptions?: KeyVaultClientOptions;
}

/** The version is the last path segment of a key id: `https://vault/keys/<name>/<version>`. */
export function keyVersionOf(kid: string): string {
  const version = new URL(kid).pathname.split("/").filter(Boolean).at(-1);
  if (version === undefined)
    throw new CommandFailure(`Key Vault returned a key id without a version: ${kid}`);
  return version;
}

interface SdkError {
  name?: string;
  message?: string;
  statusCode?: number;
  code?: string;
}

/** Turns SDK and credential errors into messages a user can act on (status, service code; never tokens). */
function describeFailure(error: unknown, doing: string, vaultUrl: string): CommandFailure {
  const e = (error ?? {}) as SdkError;
  const detail = [e.code, e.message].filter(Boolean).join(": ");
  if (e.name === "AuthenticationError" || e.name === "CredentialUnavailableError") {
    return new CommandFailure(
      `Could not get a token for Azure Key Vault ${vaultUrl} while ${doing}: ${e.message}`,
      { failureClass: isTransientError(error) ? "transient" : "configuration" },
    );
  }
  if (e.statusCode === 404)
    return new CommandFailure(`Azure Key Vault ${vaultUrl}: ${doing}: not found (${detail})`, {
      failureClass: "configuration",
    });
  if (e.statusCode === 401 || e.statusCode === 403) {
    return new CommandFailure(
      `Azure Key Vault ${vaultUrl} refused ${doing} (HTTP ${e.statusCode}: ${detail}); ` +
        "check that the identity may get, encrypt and decrypt with the key",
      { failureClass: "configuration" },
    );
  }
  if (e.statusCode !== undefined) {
    return new CommandFailure(
      `Azure Key Vault ${vaultUrl}: ${doing} failed (HTTP ${e.statusCode}: ${detail})`,
      { failureClass: isTransientError(error) ? "transient" : "invalid" },
    );
  }
  return new CommandFailure(`Azure Key Vault ${vaultUrl}: ${doing} failed: ${detail || String(error)}`, {
    failureClass: isTransientError(error) ? "transient" : "internal",
  });
}

/**
 * A key encryption key in Azure Key Vault. Fetches the key once (its latest version becomes the current
 * version, as the Python Victoria did), then wraps and unwraps data keys remotely with RSA-OAEP-256.
 * Needs the keys/get, keys/encrypt and keys/decrypt permissions.
 */
export async function openKeyVaultKey(options: KeyVaultKeyOptions): Promise<KeyEncryptionKey> {
  const { vaultUrl, keyName, credential } = options;
  // The SDK writes into the options bag it is given (user agent), so each client gets its own copy.
  const clientOptions = () => ({ ...options.clientOptions });
  const keyClient = new KeyClient(vaultUrl, credential, clientOptions());

  async function getKey(version?: string): Promise<KeyVaultKey> {
    const doing =
      version === undefined ? `getting key '${keyName}'` : `getting key '${keyName}' version ${version}`;
    try {
      return await keyClient.getKey(keyName, version === undefined ? {} : { version });
    } catch (error) {
      throw describeFailure(error, doing, vaultUrl);
    }
  }

  const latest = await getKey();
  if (latest.id === undefined) throw new CommandFailure(`Key Vault returned key '${keyName}' without an id`);
  const currentVersion = keyVersionOf(latest.id);
  const clients = new Map<string, Promise<CryptographyClient>>([
    [currentVersion, Promise.resolve(new CryptographyClient(latest, credential, clientOptions()))],
  ]);

  function clientFor(version: string): Promise<CryptographyClient> {
    let client = clients.get(version);
    if (client === undefined) {
      client = getKey(version).then((key) => new CryptographyClient(key, credential, clientOptions()));
      // A failed lookup is not cached, so a later call can retry.
      client.catch(() => clients.delete(version));
      clients.set(version, client);
    }
    return client;
  }

  return {
    version: currentVersion,
    async wrap(dataKey, version) {
      const client = await clientFor(version);
      try {
        return (await client.encrypt({ algorithm: ALGORITHM, plaintext: dataKey })).result;
      } catch (error) {
        throw describeFailure(
          error,
          `wrapping a data key with key '${keyName}' version ${version}`,
          vaultUrl,
        );
      }
    },
    async unwrap(wrapped, version) {
      const client = await clientFor(version);
      try {
        return (await client.decrypt({ algorithm: ALGORITHM, ciphertext: wrapped })).result;
      } catch (error) {
        throw describeFailure(
          error,
          `unwrapping a data key with key '${keyName}' version ${version}`,
          vaultUrl,
        );
      }
    },
  };
}
