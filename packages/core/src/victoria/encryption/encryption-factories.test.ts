import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TokenCredential } from "@azure/identity";
import { type KeyVaultStandIn, startKeyVaultStandIn } from "@victoria/emulators/key-vault";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CommandFailure, ConfigError } from "../errors";
import { createAzureEncryptionFactory, encryptionFactories } from "./encryption-factories";
import {
  PYTHON_ENVELOPE,
  PYTHON_KEY_FINGERPRINT,
  PYTHON_KEY_PEM,
  PYTHON_PLAINTEXT,
} from "./python-envelope.fixture";

let dir: string;
let vault: KeyVaultStandIn;
const credential: TokenCredential = {
  getToken: async () => ({ token: "t", expiresOnTimestamp: Date.now() + 3_600_000 }),
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "victoria-factories-"));
  vault = await startKeyVaultStandIn();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await vault.close();
});

describe("encryptionFactories.local", () => {
  const local = encryptionFactories.local;
  if (local === undefined) throw new Error("no local factory");

  it("builds a provider from key_file that reads Python's envelopes", async () => {
    const keyFile = join(dir, "kek.pem");
    await writeFile(keyFile, PYTHON_KEY_PEM);
    const provider = await local({ key_file: keyFile }, {});
    expect(Buffer.from(await provider.decrypt(PYTHON_ENVELOPE)).toString()).toBe(PYTHON_PLAINTEXT);
  });

  it("takes a version as written, and previous_keys by version", async () => {
    const keyFile = join(dir, "kek2.pem");
    await writeFile(keyFile, PYTHON_KEY_PEM);
    const provider = await local(
      { key_file: keyFile, version: 2, previous_keys: { [PYTHON_KEY_FINGERPRINT]: keyFile } },
      {},
    );
    const rotated = await provider.rotate(PYTHON_ENVELOPE);
    expect(rotated.version).toBe("2");
  });

  it("names missing and malformed fields", async () => {
    await expect(local({}, {})).rejects.toThrow(
      new ConfigError("encryption_provider.config.key_file is required"),
    );
    await expect(local({ key_file: ["a"] }, {})).rejects.toThrow(
      "encryption_provider.config.key_file must be a string",
    );
    await expect(local({ key_file: "k.pem", previous_keys: ["k.pem"] }, {})).rejects.toThrow(
      "encryption_provider.config.previous_keys must be a mapping of key version to key file",
    );
  });
});

describe("encryptionFactories.azure", () => {
  const azure = encryptionFactories.azure;
  if (azure === undefined) throw new Error("no azure factory");
  const vaultConfig = () => ({ vault_url: vault.url, key: "kek" });

  it("names the missing vault_url and key", async () => {
    await expect(azure({ key: "kek" }, {})).rejects.toThrow(
      new ConfigError("encryption_provider.config.vault_url is required"),
    );
    await expect(azure({ vault_url: "https://v.vault.azure.net" }, {})).rejects.toThrow(
      "encryption_provider.config.key is required",
    );
    await expect(azure({ vault_url: "v.vault.azure.net", key: "k" }, {})).rejects.toThrow(
      "encryption_provider.config.vault_url must be an https URL",
    );
  });

  it("names the missing credentials, falling back to the environment, and never prints secrets", async () => {
    const failure = await azure(vaultConfig(), {
      AZURE_TENANT_ID: "tenant-123",
      AZURE_CLIENT_SECRET: "hunter2",
    }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as Error).message).toBe(
      "encryption_provider.config.client_id (or AZURE_CLIENT_ID) is required for Azure Key Vault, " +
        "unless encryption_provider.config.auth_via_cli is true",
    );
    const none = await azure(vaultConfig(), {}).catch((e: unknown) => e);
    expect((none as Error).message).toMatch(
      /^encryption_provider\.config\.tenant_id \(or AZURE_TENANT_ID\), .*client_secret/,
    );
  });

  it("builds a ClientSecretCredential from config and environment (a token failure names no secret)", async () => {
    vault.createKey("authority");
    const factory = createAzureEncryptionFactory({ clientOptions: { tlsOptions: { ca: vault.ca } } });
    const failure = await factory(
      { vault_url: vault.url, key: "authority", client_secret: "s3cret-value" },
      {
        AZURE_TENANT_ID: "tenant-1",
        AZURE_CLIENT_ID: "client-1",
        AZURE_AUTHORITY_HOST: "https://127.0.0.1:9",
      },
    ).catch((e: unknown) => e);
    // The vault's challenge names another tenant than the credential's, so @azure/identity refuses
    // before any network call (a full token flow needs an Entra stand-in); the failure says it was the token.
    expect(failure).toBeInstanceOf(CommandFailure);
    expect((failure as Error).message).toMatch(/^Could not get a token for Azure Key Vault .*: .*tenant/);
    expect((failure as Error).message).not.toContain("s3cret-value");
  });

  it("encrypts and decrypts with the vault key; a loopback vault needs no challenge-domain switch", async () => {
    const version = vault.createKey("kek");
    const factory = createAzureEncryptionFactory({
      credential,
      clientOptions: { tlsOptions: { ca: vault.ca } },
    });
    const provider = await factory(vaultConfig(), {});
    const envelope = await provider.encrypt(Buffer.from("through the factory"));
    expect(envelope.version).toBe(version);
    expect(Buffer.from(await provider.decrypt(envelope)).toString()).toBe("through the factory");
  });
});
