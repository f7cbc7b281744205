/**
 * An envelope-encrypted value, as the Python Victoria wrote it: base64 fields,
 * `data` = AES-256-GCM ciphertext with its 16-byte tag appended, `iv` = 12-byte nonce,
 * `key` = the data key wrapped (RSA-OAEP-256) by the key encryption key, `version` = that key's version.
 */
export interface EncryptionEnvelope {
  data: string;
  iv: string;
  key: string;
  version: string;
}

/** Envelope encryption as the `encrypt` plugin and config loading use it. */
export interface EncryptionProvider {
  encrypt(plaintext: Uint8Array): Promise<EncryptionEnvelope>;
  /** Throws StaleKeyVersionError when the envelope was made with another key version. */
  decrypt(envelope: EncryptionEnvelope): Promise<Uint8Array>;
  /** Re-encrypt with the current (or the given) key version. */
  rotate(envelope: EncryptionEnvelope, version?: string): Promise<EncryptionEnvelope>;
}
