import { type EntraAuthorityOptions, entraAuthority } from "../../adapters/azure/entra-authority";
import * as z from "../../validation/zod";
import { ConfigError } from "../errors";
import type { StorageFactory } from "../providers";
import { LocalFolderStorage } from "./local-folder";

/**
 * Field schemas whose messages never echo the value (connection strings and keys must not reach
 * output that may end up in Slack), phrased to follow `storage_providers.<name>.<field>`.
 */
const text = () =>
  z.string({ error: (issue) => (issue.input === undefined ? "is required" : "must be a string") }).check(
    z.minLength(1, {
      error: "must not be empty",
    }),
  );
const flag = () => z.boolean({ error: "must be true or false" });
const url = () => z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });
/** The Python Victoria treated `""` (and YAML's empty value) as "not set"; configs written for it do too. */
const optional = <T extends z.ZodMiniType>(schema: T) =>
  z.pipe(
    z.transform((value: unknown): unknown => (value === "" || value === null ? undefined : value)),
    // As classic zod's preprocess: the transform passes any value on, and `schema` checks it.
    z.optional(schema) as z.ZodMiniType<z.output<T> | undefined, unknown>,
  );

const localSchema = z.object({ container: text() });

const s3Schema = z
  .object({
    bucket: text(),
    prefix: optional(z.string({ error: "must be a string" })),
    region: optional(text()),
    endpoint: optional(url()),
    force_path_style: optional(flag()),
    access_key_id: optional(text()),
    secret_access_key: optional(text()),
  })
  .check(
    z.refine((c) => (c.access_key_id === undefined) === (c.secret_access_key === undefined), {
      error: "access_key_id and secret_access_key must be given together",
    }),
  );

/** As in the Python Victoria, plus `account_url` for accounts outside the public cloud. */
const azureSchema = z
  .object({
    container: text(),
    connection_string: optional(text()),
    account_url: optional(url()),
    account_name: optional(text()),
    auth_via_cli: optional(flag()),
  })
  .check(
    z.superRefine((c, ctx) => {
      const hasAccount = c.account_url !== undefined || c.account_name !== undefined;
      if (c.auth_via_cli && !hasAccount) {
        ctx.addIssue({
          code: "custom",
          path: ["account_name"],
          message: "(or account_url) is required with auth_via_cli",
        });
      } else if (c.connection_string === undefined && !hasAccount) {
        ctx.addIssue({
          code: "custom",
          path: ["connection_string"],
          message: "is required (or account_url / account_name with Entra ID credentials)",
        });
      }
    }),
  );

/** Validates a `storage_providers.<name>` section, naming the offending field on failure. */
function parseSection<S extends z.ZodMiniType>(
  name: string,
  schema: S,
  config: Record<string, unknown>,
): z.output<S> {
  const result = schema.safeParse(config);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) =>
    issue.path.length === 0
      ? `storage_providers.${name}: ${issue.message}`
      : `${[`storage_providers.${name}`, ...issue.path.map(String)].join(".")} ${issue.message}`,
  );
  throw new ConfigError(problems.join("; "));
}

const local: StorageFactory = async (config) => {
  const { container } = parseSection("local", localSchema, config);
  return new LocalFolderStorage(container);
};

const s3: StorageFactory = async (config, env) => {
  const c = parseSection("s3", s3Schema, config);
  const { createS3Storage } = await import("../../adapters/aws/s3-storage");
  return createS3Storage({
    bucket: c.bucket,
    prefix: c.prefix,
    // A custom endpoint has no region of its own to discover; SigV4 still needs one.
    region: c.region ?? (c.endpoint ? (env.AWS_REGION ?? "us-east-1") : undefined),
    endpoint: c.endpoint,
    forcePathStyle: c.force_path_style,
    credentials:
      c.access_key_id && c.secret_access_key
        ? { accessKeyId: c.access_key_id, secretAccessKey: c.secret_access_key }
        : undefined,
  });
};

const azure: StorageFactory = async (config, env) => {
  const c = parseSection("azure", azureSchema, config);
  const { createBlobStorage } = await import("../../adapters/azure/blob-storage");
  if (c.connection_string !== undefined && !c.auth_via_cli) {
    try {
      return createBlobStorage({
        account: { connectionString: c.connection_string },
        container: c.container,
      });
    } catch {
      // The SDK's parse errors are generic; the string itself is a secret and stays out of the message.
      throw new ConfigError(
        "storage_providers.azure.connection_string is not a valid Azure Storage connection string",
      );
    }
  }
  const accountUrl =
    c.account_url ?? (c.account_name ? `https://${c.account_name}.blob.core.windows.net/` : undefined);
  // Unreachable after validation; narrows the type.
  if (accountUrl === undefined) throw new ConfigError("storage_providers.azure.account_name is required");
  const credential = await entraCredential(c.auth_via_cli === true, env);
  return createBlobStorage({ account: { accountUrl, credential }, container: c.container });
};

/** The Azure CLI login when asked for (as the Python Victoria did), else a service principal from the environment. */
async function entraCredential(viaCli: boolean, env: NodeJS.ProcessEnv) {
  const identity = await import("@azure/identity");
  if (viaCli) return new identity.AzureCliCredential();
  const tenant = env.AZURE_TENANT_ID;
  const client = env.AZURE_CLIENT_ID;
  const secret = env.AZURE_CLIENT_SECRET;
  if (!tenant || !client || !secret) {
    const missing = Object.entries({
      AZURE_TENANT_ID: tenant,
      AZURE_CLIENT_ID: client,
      AZURE_CLIENT_SECRET: secret,
    })
      .filter(([, value]) => !value)
      .map(([key]) => key);
    throw new ConfigError(
      `storage_providers.azure: without connection_string, set ${missing.join(", ")} in the environment`,
    );
  }
  let authority: EntraAuthorityOptions;
  try {
    authority = entraAuthority(env);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  return new identity.ClientSecretCredential(tenant, client, secret, authority);
}

/** Storage provider implementations by their `storage_providers` key. */
export const storageFactories: Record<string, StorageFactory> = { local, s3, azure };
