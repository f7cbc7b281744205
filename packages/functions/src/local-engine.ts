import { createPrivateKey, generateKeyPair } from "node:crypto";
import { link, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { TokenCredential } from "@azure/identity";
import type { LoadedConfig } from "@victoria/core/victoria/config";
import type { ProviderFactories } from "@victoria/core/victoria/providers";
import type { AzuriteBlob } from "@victoria/emulators/azurite";
import type { KeyVaultStandIn } from "@victoria/emulators/key-vault";
import type { S3StandIn } from "@victoria/emulators/s3";
import type { EngineAdapters } from "./execute-runner";
import type { Env } from "./settings";

/** Where the local server keeps what it makes for itself (gitignored), relative to where it runs. */
export const LOCAL_STATE_DIR = ".victoria";
/** The engine config written at every start when VICTORIA_CONFIG is not set. */
export const LOCAL_ENGINE_CONFIG = join(LOCAL_STATE_DIR, "victoria.local.yaml");
/** The RSA key `encrypt` uses locally, made on the first start and kept: it opens what it encrypted. */
export const LOCAL_KEY_FILE = join(LOCAL_STATE_DIR, "local-key.pem");
/** `store local`'s folder, as in the bundled default. */
export const LOCAL_STORE_DIR = join(LOCAL_STATE_DIR, "store");
/** The S3 bucket and Blob container of the stand-ins, and the Key Vault stand-in's key. */
export const STAND_IN_CONTAINER = "victoria-local";
export const STAND_IN_KEY_NAME = "victoria";

/** Stand-ins VICTORIA_LOCAL_PROVIDERS can select, by the names it takes. */
export const LOCAL_PROVIDER_CHOICES = ["keyvault", "s3", "blob"] as const;
export type LocalProviderChoice = (typeof LOCAL_PROVIDER_CHOICES)[number];

/** `keyvault,s3` / `all` / unset; an unknown name fails the start, naming the variable. */
export function parseLocalProviders(text: string | undefined): LocalProviderChoice[] {
  const names = (text ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  if (names.includes("all")) return [...LOCAL_PROVIDER_CHOICES];
  const known: readonly string[] = LOCAL_PROVIDER_CHOICES;
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new Error(
      `VICTORIA_LOCAL_PROVIDERS names ${unknown.map((name) => `'${name}'`).join(", ")}; expected a comma-separated list of ${LOCAL_PROVIDER_CHOICES.join(", ")}, or all`,
    );
  }
  return LOCAL_PROVIDER_CHOICES.filter((choice) => names.includes(choice));
}

/**
 * Makes the local RSA key unless it exists. Written beside and then linked into place, so a second
 * server starting at the same moment either sees no file or a whole one, and never replaces it.
 */
export async function ensureLocalKey(
  file: string = LOCAL_KEY_FILE,
): Promise<{ created: boolean; pem: string }> {
  try {
    return { created: false, pem: await readFile(file, "utf8") };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const pem = await new Promise<string>((resolve, reject) =>
    generateKeyPair(
      "rsa",
      {
        modulusLength: 3072,
        privateKeyEncoding: { type: "pkcs8", format: "pem" },
        publicKeyEncoding: { type: "spki", format: "pem" },
      },
      (error, _publicKey, privateKey) => (error ? reject(error) : resolve(privateKey)),
    ),
  );
  await mkdir(dirname(file), { recursive: true });
  const pending = `${file}.${process.pid}.tmp`;
  await writeFile(pending, pem, { mode: 0o600 });
  try {
    await link(pending, file);
    return { created: true, pem };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return { created: false, pem: await readFile(file, "utf8") };
  } finally {
    await rm(pending, { force: true });
  }
}

/** A YAML scalar for any text: JSON's double-quoted strings are YAML's too. */
const scalar = (text: string) => JSON.stringify(text);

interface ConfigParts {
  keyVault?: { url: string; key: string };
  s3?: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
  blob?: { connectionString: string };
}

/** The local engine config: `encrypt` with the local key (or Key Vault's stand-in), `store` in folders and stand-ins. */
export function localEngineConfigYaml({ keyVault, s3, blob }: ConfigParts): string {
  const lines = [
    "# Written by the local server (npm start) at every start because VICTORIA_CONFIG is not set:",
    "# edits here are lost. To change it, copy it, edit the copy and start with VICTORIA_CONFIG=<the copy>.",
    "# VICTORIA_LOCAL_PROVIDERS=keyvault,s3,blob (or all) adds the stand-ins of Key Vault, S3 and Blob.",
    "logging_config:",
    "  version: 1",
    "  root:",
    "    level: INFO",
    "",
    "encryption_provider:",
    ...(keyVault
      ? [
          "  # the Key Vault stand-in, holding the local key (envelopes open with either)",
          "  provider: azure",
          "  config:",
          `    vault_url: ${scalar(keyVault.url)}`,
          `    key: ${scalar(keyVault.key)}`,
        ]
      : [
          "  # an RSA key made on the first start; keep it: it opens what it encrypted",
          "  provider: local",
          "  config:",
          `    key_file: ${scalar(LOCAL_KEY_FILE)}`,
        ]),
    "",
    "storage_providers:",
    "  local:",
    `    container: ${scalar(LOCAL_STORE_DIR)}`,
    ...(s3
      ? [
          "  s3: # the S3 stand-in, in memory",
          `    bucket: ${scalar(STAND_IN_CONTAINER)}`,
          `    endpoint: ${scalar(s3.endpoint)}`,
          `    region: ${scalar(s3.region)}`,
          "    force_path_style: true",
          `    access_key_id: ${scalar(s3.accessKeyId)}`,
          `    secret_access_key: ${scalar(s3.secretAccessKey)}`,
        ]
      : []),
    ...(blob
      ? [
          "  azure: # Azurite's blob service, in memory",
          `    container: ${scalar(STAND_IN_CONTAINER)}`,
          `    connection_string: ${scalar(blob.connectionString)}`,
        ]
      : []),
    "",
    "plugins_config:",
    "  config:",
    "    indent: 2",
    "",
    "plugins_config_location: {}",
    "",
  ];
  return lines.join("\n");
}

/** Written beside and renamed into place, so a command never reads half a file. */
async function writeWhole(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const pending = `${file}.${process.pid}.tmp`;
  await writeFile(pending, text);
  await rename(pending, file);
}

/** The Key Vault stand-in accepts any bearer token; the challenge flow still asks for one. */
const standInCredential: TokenCredential = {
  getToken: async () => ({ token: "local-stand-in", expiresOnTimestamp: Date.now() + 60 * 60 * 1000 }),
};

/** Providers as by default, but the stand-in's vault with its certificate trusted and its token. */
function providersWithKeyVault(vault: KeyVaultStandIn): () => Promise<ProviderFactories> {
  let providers: Promise<ProviderFactories> | undefined;
  return () => {
    providers ??= (async () => {
      const [{ defaultProviders }, { createAzureEncryptionFactory }] = await Promise.all([
        import("@victoria/core/victoria/default-providers"),
        import("@victoria/core/victoria/encryption/encryption-factories"),
      ]);
      const standIn = createAzureEncryptionFactory({
        credential: standInCredential,
        clientOptions: vault.ca === undefined ? {} : { tlsOptions: { ca: vault.ca } },
      });
      const real = defaultProviders.encryption.azure;
      return {
        ...defaultProviders,
        encryption: {
          ...defaultProviders.encryption,
          // Only the stand-in gets the stand-in's trust and token; any other vault is the real thing.
          azure: (config, env) =>
            config.vault_url === vault.url || real === undefined ? standIn(config, env) : real(config, env),
        },
      };
    })();
    return providers;
  };
}

export interface LocalEngine {
  /** The config file written for this start, or undefined when the operator named one. */
  configFile?: string;
  /** What `/execute`'s in-process engine is given. */
  adapters: EngineAdapters;
  /** Lines for the start banner: where `encrypt` and `store` go. */
  summary: string[];
  close(): Promise<void>;
}

/**
 * The engine config of `npm start`: unless VICTORIA_CONFIG or VICTORIA_CONFIG_YAML names one, a local
 * key for `encrypt` (made on the first start), a local folder for `store`, and the stand-ins that
 * VICTORIA_LOCAL_PROVIDERS selects. The file is written for people (and for a VICTORIA_BIN child);
 * the in-process engine keeps this start's text, so two servers in one folder cannot swap configs.
 */
export async function prepareLocalEngine(env: Env): Promise<LocalEngine> {
  const choices = parseLocalProviders(env.VICTORIA_LOCAL_PROVIDERS);
  if (env.VICTORIA_CONFIG || env.VICTORIA_CONFIG_YAML) {
    const own = env.VICTORIA_CONFIG_YAML
      ? "VICTORIA_CONFIG_YAML"
      : `VICTORIA_CONFIG (${env.VICTORIA_CONFIG})`;
    return {
      adapters: {},
      summary: [
        `  victoria config: ${own}${choices.length > 0 ? "; VICTORIA_LOCAL_PROVIDERS is ignored with your own config" : ""}`,
      ],
      close: async () => {},
    };
  }
  if (env.VICTORIA_BIN && choices.includes("keyvault")) {
    throw new Error(
      "VICTORIA_LOCAL_PROVIDERS=keyvault serves the in-process engine only (its certificate and token are this process's); unset VICTORIA_BIN",
    );
  }
  let keyVault: KeyVaultStandIn | undefined;
  let s3: S3StandIn | undefined;
  let blob: AzuriteBlob | undefined;
  const close = async () => {
    await Promise.all([keyVault?.close(), s3?.close(), blob?.close()]);
  };
  try {
    const key = await ensureLocalKey();
    // Started side by side: Azurite alone takes seconds.
    await Promise.all([
      choices.includes("keyvault") &&
        (async () => {
          const [{ startKeyVaultStandIn }, { keyFingerprint }] = await Promise.all([
            import("@victoria/emulators/key-vault"),
            import("@victoria/core/victoria/encryption/local-key"),
          ]);
          keyVault = await startKeyVaultStandIn();
          // The local key at the local key's version: envelopes made either way open either way.
          keyVault.createKey(STAND_IN_KEY_NAME, key.pem, keyFingerprint(createPrivateKey(key.pem)));
        })(),
      choices.includes("s3") &&
        (async () => {
          const { startS3StandIn } = await import("@victoria/emulators/s3");
          s3 = await startS3StandIn({ buckets: [STAND_IN_CONTAINER] });
        })(),
      choices.includes("blob") &&
        (async () => {
          const { startAzuriteBlob } = await import("@victoria/emulators/azurite");
          blob = await startAzuriteBlob({ containers: [STAND_IN_CONTAINER] });
        })(),
    ]);
    const s3Config = s3 && {
      endpoint: s3.endpoint,
      region: s3.region,
      accessKeyId: s3.clientConfig.credentials.accessKeyId,
      secretAccessKey: s3.clientConfig.credentials.secretAccessKey,
    };
    const yaml = localEngineConfigYaml({
      ...(keyVault ? { keyVault: { url: keyVault.url, key: STAND_IN_KEY_NAME } } : {}),
      ...(s3Config ? { s3: s3Config } : {}),
      ...(blob ? { blob: { connectionString: blob.connectionString } } : {}),
    });
    await writeWhole(LOCAL_ENGINE_CONFIG, yaml);
    let loaded: Promise<LoadedConfig> | undefined;
    const defaultConfig = () => {
      loaded ??= import("@victoria/core/victoria/config").then(({ parseConfig }) => ({
        config: parseConfig(yaml, LOCAL_ENGINE_CONFIG),
        path: LOCAL_ENGINE_CONFIG,
      }));
      return loaded;
    };
    const vault = keyVault;
    return {
      configFile: LOCAL_ENGINE_CONFIG,
      adapters: { defaultConfig, ...(vault ? { providers: providersWithKeyVault(vault) } : {}) },
      summary: [
        `  victoria config: ${LOCAL_ENGINE_CONFIG} (written at start; VICTORIA_CONFIG=<file> to use your own)`,
        vault
          ? `    encrypt: Key Vault stand-in ${vault.url}, key '${STAND_IN_KEY_NAME}' (the local key ${LOCAL_KEY_FILE})`
          : `    encrypt: local key ${LOCAL_KEY_FILE}${key.created ? " (made now; keep it: it opens what it encrypts)" : ""}`,
        [
          `    store: local → ${LOCAL_STORE_DIR}`,
          ...(s3 ? [`s3 → S3 stand-in ${s3.endpoint}, bucket ${STAND_IN_CONTAINER}`] : []),
          ...(blob ? [`azure → Azurite (Blob) ${blob.url}, container ${STAND_IN_CONTAINER}`] : []),
        ].join("; "),
        ...(choices.length < LOCAL_PROVIDER_CHOICES.length
          ? [`    (VICTORIA_LOCAL_PROVIDERS=${LOCAL_PROVIDER_CHOICES.join(",")} adds stand-ins; in memory)`]
          : []),
      ],
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
