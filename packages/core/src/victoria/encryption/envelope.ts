import { createCipheriv, createDecipheriv, randomBytes as nodeRandomBytes } from "node:crypto";
import { CommandFailure } from "../errors";
import type { EncryptionEnvelope, EncryptionProvider } from "./envelope-types";

/** AES-256-GCM, as the Python Victoria used it (cryptography's AESGCM). */
const DATA_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const CIPHER = "aes-256-gcm";

/** The key that wraps each value's data key (Key Vault key, local RSA key), addressed by version. */
export interface KeyEncryptionKey {
  /** The version new envelopes are made with (for Key Vault, the key's latest version). */
  readonly version: string;
  /** Wraps (encrypts) a data key with the given version of the key. */
  wrap(dataKey: Uint8Array, version: string): Promise<Uint8Array>;
  /** Unwraps a data key wrapped by the given version of the key. */
  unwrap(wrapped: Uint8Array, version: string): Promise<Uint8Array>;
}

export interface EnvelopeEncryptionOptions {
  /** Source of data keys and nonces; replace only in tests, to get known envelopes. */
  randomBytes?: (size: number) => Uint8Array;
}

/** The envelope was made with an older (or other) key version than the one in use. */
export class StaleKeyVersionError extends CommandFailure {
  override readonly name = "StaleKeyVersionError";
  constructor(
    readonly version: string,
    readonly currentVersion: string,
  ) {
    super(
      `Encryption key version ${version} is out of date (the current version is ${currentVersion}); ` +
        "please re-encrypt it with 'victoria encrypt rotate <file> <path>'",
    );
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict standard base64 (padding required), as Python's b64decode accepts; whitespace from YAML folding is ignored. */
function decodeField(envelope: EncryptionEnvelope, field: "data" | "iv" | "key"): Buffer {
  const text = envelope[field].replace(/\s+/g, "");
  if (text.length % 4 !== 0 || !BASE64.test(text)) {
    throw new CommandFailure(`Encrypted envelope field '${field}' is not valid base64`);
  }
  return Buffer.from(text, "base64");
}

function sealWith(dataKey: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Buffer {
  const cipher = createCipheriv(CIPHER, dataKey, nonce, { authTagLength: TAG_BYTES });
  // ciphertext || tag: the layout AESGCM.encrypt returns, so Python and TypeScript envelopes interchange.
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

function openWith(dataKey: Uint8Array, nonce: Uint8Array, sealed: Buffer): Buffer {
  const decipher = createDecipheriv(CIPHER, dataKey, nonce, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new CommandFailure(
      "Could not decrypt the envelope: authentication failed (its data, iv or key was altered or belongs to another envelope)",
    );
  }
}

/** Envelope encryption: a fresh AES-256-GCM data key and nonce per value, the data key wrapped by `kek`. */
export function createEnvelopeEncryption(
  kek: KeyEncryptionKey,
  options: EnvelopeEncryptionOptions = {},
): EncryptionProvider {
  const random = options.randomBytes ?? ((size: number) => nodeRandomBytes(size));

  function take(size: number, what: string): Buffer {
    // Copied so that zeroing the data key later never touches the caller's buffer.
    const bytes = Buffer.from(random(size));
    if (bytes.length !== size)
      throw new Error(`random source returned ${bytes.length} bytes for the ${what}`);
    return bytes;
  }

  async function encryptWith(plaintext: Uint8Array, version: string): Promise<EncryptionEnvelope> {
    const dataKey = take(DATA_KEY_BYTES, "data key");
    const nonce = take(NONCE_BYTES, "nonce");
    try {
      const sealed = sealWith(dataKey, nonce, plaintext);
      const wrapped = await kek.wrap(dataKey, version);
      return {
        data: sealed.toString("base64"),
        iv: nonce.toString("base64"),
        key: Buffer.from(wrapped).toString("base64"),
        version,
      };
    } finally {
      dataKey.fill(0);
    }
  }

  /** Decrypts with the key version the envelope names, whether or not it is current. */
  async function open(envelope: EncryptionEnvelope): Promise<Buffer> {
    const sealed = decodeField(envelope, "data");
    const nonce = decodeField(envelope, "iv");
    const wrapped = decodeField(envelope, "key");
    if (nonce.length !== NONCE_BYTES) {
      throw new CommandFailure(
        `Encrypted envelope field 'iv' must be ${NONCE_BYTES} bytes, got ${nonce.length}`,
      );
    }
    if (sealed.length < TAG_BYTES) {
      throw new CommandFailure(
        `Encrypted envelope field 'data' is too short (${sealed.length} bytes) to hold the ${TAG_BYTES}-byte tag`,
      );
    }
    if (wrapped.length === 0) throw new CommandFailure("Encrypted envelope field 'key' is empty");
    const dataKey = Buffer.from(await kek.unwrap(wrapped, envelope.version));
    try {
      if (dataKey.length !== DATA_KEY_BYTES) {
        throw new CommandFailure(
          `The unwrapped data key is ${dataKey.length} bytes, not ${DATA_KEY_BYTES}: the envelope's 'key' is not an AES-256 data key`,
        );
      }
      return openWith(dataKey, nonce, sealed);
    } finally {
      dataKey.fill(0);
    }
  }

  return {
    encrypt: (plaintext) => encryptWith(plaintext, kek.version),
    async decrypt(envelope) {
      if (envelope.version !== kek.version) throw new StaleKeyVersionError(envelope.version, kek.version);
      return open(envelope);
    },
    async rotate(envelope, version = kek.version) {
      const plaintext = await open(envelope);
      try {
        return await encryptWith(plaintext, version);
      } finally {
        plaintext.fill(0);
      }
    },
  };
}
