import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
} from "node:crypto";
import { readFile } from "node:fs/promises";
import { CommandFailure, ConfigError } from "../errors";
import type { KeyEncryptionKey } from "./envelope";

/** RSA-OAEP with SHA-256 for both the OAEP digest and MGF1: Key Vault's RSA-OAEP-256. */
const OAEP_SHA256 = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" } as const;

/** A short, stable name for an RSA key: the first 32 hex digits of SHA-256 over its SubjectPublicKeyInfo DER. */
export function keyFingerprint(key: KeyObject): string {
  const spki = createPublicKey(key).export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("hex").slice(0, 32);
}

/** Parses a PEM RSA private key (PKCS#8 or PKCS#1); `source` names it in errors, the key text never appears. */
export function parseRsaPrivateKey(pem: string | Buffer, source: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: "pem" });
  } catch {
    throw new ConfigError(`${source} is not an unencrypted PEM private key (PKCS#8 or PKCS#1)`);
  }
  if (key.asymmetricKeyType !== "rsa") {
    throw new ConfigError(
      `${source} holds a ${key.asymmetricKeyType} key; an RSA key is needed for RSA-OAEP-256`,
    );
  }
  return key;
}

export interface LocalKeyOptions {
  /** The current key. */
  privateKey: KeyObject;
  /** Its version; defaults to its fingerprint. */
  version?: string;
  /** Older keys by the version their envelopes carry, so `rotate` can still open those envelopes. */
  previousKeys?: Record<string, KeyObject>;
}

/** A key encryption key held in local RSA private keys: no cloud, same envelopes. */
export function createLocalKeyEncryptionKey(options: LocalKeyOptions): KeyEncryptionKey {
  const version = options.version ?? keyFingerprint(options.privateKey);
  const keys = new Map<string, KeyObject>(Object.entries(options.previousKeys ?? {}));
  keys.set(version, options.privateKey);

  function keyFor(wanted: string): KeyObject {
    const key = keys.get(wanted);
    if (key === undefined) {
      throw new CommandFailure(
        `Local key version ${wanted} is not available (the current version is ${version}); ` +
          "to rotate envelopes made with it, list its key file under encryption_provider.config.previous_keys",
      );
    }
    return key;
  }

  return {
    version,
    async wrap(dataKey, wanted) {
      return publicEncrypt({ key: createPublicKey(keyFor(wanted)), ...OAEP_SHA256 }, dataKey);
    },
    async unwrap(wrapped, wanted) {
      const key = keyFor(wanted);
      try {
        return privateDecrypt({ key, ...OAEP_SHA256 }, wrapped);
      } catch {
        throw new CommandFailure(
          `Could not unwrap the data key with local key version ${wanted}: the envelope's 'key' is corrupt or was wrapped by another key`,
        );
      }
    },
  };
}

async function readKeyFile(path: string, field: string): Promise<KeyObject> {
  let pem: Buffer;
  try {
    pem = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : String(code);
    throw new ConfigError(`${field}: cannot read key file '${path}': ${reason}`);
  }
  return parseRsaPrivateKey(pem, `${field} ('${path}')`);
}

export interface LocalKeyFiles {
  keyFile: string;
  version?: string;
  /** Version → key file of keys used before the current one. */
  previousKeyFiles?: Record<string, string>;
  /** How config errors name the section, e.g. `encryption_provider.config`. */
  configPath?: string;
}

/** Loads a local key encryption key from PEM files. */
export async function loadLocalKeyEncryptionKey(files: LocalKeyFiles): Promise<KeyEncryptionKey> {
  const at = files.configPath ?? "encryption_provider.config";
  const privateKey = await readKeyFile(files.keyFile, `${at}.key_file`);
  const previousKeys: Record<string, KeyObject> = {};
  for (const [version, path] of Object.entries(files.previousKeyFiles ?? {})) {
    previousKeys[version] = await readKeyFile(path, `${at}.previous_keys.${version}`);
  }
  return createLocalKeyEncryptionKey({ privateKey, version: files.version, previousKeys });
}
