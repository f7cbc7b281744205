import { constants, createPrivateKey, privateDecrypt } from "node:crypto";
import type { TokenCredential } from "@azure/identity";
import { type KeyVaultStandIn, startKeyVaultStandIn } from "@victoria/emulators/key-vault";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEnvelopeEncryption, StaleKeyVersionError } from "../../victoria/encryption/envelope";
import {
  PYTHON_ENVELOPE,
  PYTHON_KEY_PEM,
  PYTHON_PLAINTEXT,
} from "../../victoria/encryption/python-envelope.fixture";
import { CommandFailure } from "../../victoria/errors";
import { type KeyVaultClientOptions, keyVersionOf, openKeyVaultKey } from "./key-vault-key";

/** Hands out a fixed token and remembers the scopes it was asked for. */
function staticCredential(token = "test-token") {
  const scopes: string[][] = [];
  const credential: TokenCredential = {
    async getToken(scope) {
      scopes.push(Array.isArray(scope) ? scope : [scope]);
      return { token, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
  return { credential, scopes };
}

let vault: KeyVaultStandIn;
let clientOptions: KeyVaultClientOptions;

beforeAll(async () => {
  vault = await startKeyVaultStandIn({ acceptToken: (token) => token === "test-token" });
  // Trust the stand-in's certificate for these clients only; no process-wide TLS switch.
  clientOptions = {
    tlsOptions: { ca: vault.ca },
    disableChallengeResourceVerification: true,
    retryOptions: { maxRetries: 0 },
  };
});
afterAll(() => vault.close());

describe("keyVersionOf", () => {
  it("takes the last path segment of a key id", () => {
    expect(keyVersionOf("https://v.vault.azure.net/keys/kek/0123abcd")).toBe("0123abcd");
  });
});

describe("Key Vault key encryption key, over the wire", () => {
  it("gets the key through the bearer challenge and uses its latest version", async () => {
    const version = vault.createKey("challenge");
    const { credential, scopes } = staticCredential();
    const start = vault.requests.length;
    const kek = await openKeyVaultKey({
      vaultUrl: vault.url,
      keyName: "challenge",
      credential,
      clientOptions,
    });
    expect(kek.version).toBe(version);
    const seen = vault.requests.slice(start);
    expect(seen.map((r) => r.authorized)).toEqual([false, true]);
    expect(seen[1]?.path).toBe("/keys/challenge/");
    expect(scopes).toEqual([["https://vault.azure.net/.default"]]);
  });

  it("wraps with RSA-OAEP-256 in the vault and unwraps again", async () => {
    const version = vault.createKey("oaep", PYTHON_KEY_PEM);
    const kek = await openKeyVaultKey({
      vaultUrl: vault.url,
      keyName: "oaep",
      credential: staticCredential().credential,
      clientOptions,
    });
    const dataKey = Buffer.alloc(32, 7);
    const wrapped = await kek.wrap(dataKey, version);
    // Independently of the stand-in: the vault's private key opens it with OAEP SHA-256 / MGF1 SHA-256.
    const opened = privateDecrypt(
      {
        key: createPrivateKey(PYTHON_KEY_PEM),
        padding: constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: "sha256",
      },
      wrapped,
    );
    expect(opened.equals(dataKey)).toBe(true);
    expect(Buffer.from(await kek.unwrap(wrapped, version)).equals(dataKey)).toBe(true);
  });

  it("decrypts an envelope Python made, its data key wrapped by the vault key", async () => {
    const version = vault.createKey("python", PYTHON_KEY_PEM);
    const kek = await openKeyVaultKey({
      vaultUrl: vault.url,
      keyName: "python",
      credential: staticCredential().credential,
      clientOptions,
    });
    // Same RSA key, so only the version (which the vault names) differs from the fixture.
    const plaintext = await createEnvelopeEncryption(kek).decrypt({ ...PYTHON_ENVELOPE, version });
    expect(Buffer.from(plaintext).toString("utf8")).toBe(PYTHON_PLAINTEXT);
  });

  it("after the key is rotated: old envelopes are stale until rotated to the new version", async () => {
    const first = vault.createKey("rotating");
    const open = () =>
      openKeyVaultKey({
        vaultUrl: vault.url,
        keyName: "rotating",
        credential: staticCredential().credential,
        clientOptions,
      });
    const before = createEnvelopeEncryption(await open());
    const old = await before.encrypt(Buffer.from("db password"));
    expect(old.version).toBe(first);

    const second = vault.rotateKey("rotating");
    const afterKek = await open();
    expect(afterKek.version).toBe(second);
    const after = createEnvelopeEncryption(afterKek);

    const failure = await after.decrypt(old).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StaleKeyVersionError);
    expect((failure as Error).message).toContain(`version ${first} is out of date`);

    const rotated = await after.rotate(old);
    expect(rotated.version).toBe(second);
    expect(Buffer.from(await after.decrypt(rotated)).toString()).toBe("db password");
    // The old version still exists in the vault, so rotating back to it works too.
    expect((await after.rotate(rotated, first)).version).toBe(first);
  });

  describe("failures become CommandFailures that say what went wrong", () => {
    it("a key that does not exist", async () => {
      const failure = await openKeyVaultKey({
        vaultUrl: vault.url,
        keyName: "missing",
        credential: staticCredential().credential,
        clientOptions,
      }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(CommandFailure);
      expect((failure as Error).message).toContain(
        `Azure Key Vault ${vault.url}: getting key 'missing': not found`,
      );
      expect((failure as Error).message).toContain("KeyNotFound");
    });

    it("a key version that does not exist", async () => {
      vault.createKey("versions");
      const kek = await openKeyVaultKey({
        vaultUrl: vault.url,
        keyName: "versions",
        credential: staticCredential().credential,
        clientOptions,
      });
      await expect(kek.unwrap(Buffer.alloc(256), "0".repeat(32))).rejects.toThrow(
        `getting key 'versions' version ${"0".repeat(32)}: not found`,
      );
    });

    it("a token the vault refuses (and the token is not in the message)", async () => {
      vault.createKey("refused");
      const failure = await openKeyVaultKey({
        vaultUrl: vault.url,
        keyName: "refused",
        credential: staticCredential("wrong-token").credential,
        clientOptions,
      }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(CommandFailure);
      expect((failure as Error).message).toMatch(/refused getting key 'refused' \(HTTP 401/);
      expect((failure as Error).message).not.toContain("wrong-token");
    });

    it("a wrapped key the vault cannot decrypt", async () => {
      const version = vault.createKey("garbage");
      const kek = await openKeyVaultKey({
        vaultUrl: vault.url,
        keyName: "garbage",
        credential: staticCredential().credential,
        clientOptions,
      });
      await expect(kek.unwrap(Buffer.alloc(256, 1), version)).rejects.toThrow(
        /unwrapping a data key with key 'garbage' version .* failed \(HTTP 400: BadParameter/,
      );
    });

    it("a vault whose certificate is not trusted", async () => {
      const failure = await openKeyVaultKey({
        vaultUrl: vault.url,
        keyName: "challenge",
        credential: staticCredential().credential,
        clientOptions: { ...clientOptions, tlsOptions: {} },
      }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(CommandFailure);
      expect((failure as Error).message).toMatch(/self-signed certificate/);
    });

    it("a challenge for another domain, unless verification is turned off", async () => {
      await expect(
        openKeyVaultKey({
          vaultUrl: vault.url,
          keyName: "challenge",
          credential: staticCredential().credential,
          clientOptions: { ...clientOptions, disableChallengeResourceVerification: false },
        }),
      ).rejects.toThrow(/does not match the requested domain/);
    });
  });

  it("works over plain HTTP when the client allows it", async () => {
    const plain = await startKeyVaultStandIn({ tls: false });
    try {
      const version = plain.createKey("plain");
      const kek = await openKeyVaultKey({
        vaultUrl: plain.url,
        keyName: "plain",
        credential: staticCredential().credential,
        clientOptions: { allowInsecureConnection: true, disableChallengeResourceVerification: true },
      });
      const provider = createEnvelopeEncryption(kek);
      const envelope = await provider.encrypt(Buffer.from("over http"));
      expect(envelope.version).toBe(version);
      expect(Buffer.from(await provider.decrypt(envelope)).toString()).toBe("over http");
    } finally {
      await plain.close();
    }
  });
});
