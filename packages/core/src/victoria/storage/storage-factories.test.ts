import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { S3Storage } from "../../adapters/aws/s3-storage";
import { BlobStorage } from "../../adapters/azure/blob-storage";
import { ConfigError } from "../errors";
import { LocalFolderStorage } from "./local-folder";
import { storageFactories } from "./storage-factories";

const AZURITE_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

function factory(name: string) {
  const found = storageFactories[name];
  if (!found) throw new Error(`no factory ${name}`);
  return found;
}

describe("storageFactories", () => {
  it("offers local, s3 and azure", () => {
    expect(Object.keys(storageFactories).sort()).toEqual(["azure", "local", "s3"]);
  });

  it("builds a local folder provider from `container`", async () => {
    const dir = await mkdtemp(join(tmpdir(), "victoria-factory-"));
    try {
      const storage = await factory("local")({ container: join(dir, "store") }, {});
      expect(storage).toBeInstanceOf(LocalFolderStorage);
      await storage.put("k", new TextEncoder().encode("v"));
      expect(await readFile(join(dir, "store", "k"), "utf8")).toBe("v");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ["local", {}, "storage_providers.local.container is required"],
    ["local", { container: 3 }, "storage_providers.local.container must be a string"],
    ["local", { container: "" }, "storage_providers.local.container must not be empty"],
    ["s3", {}, "storage_providers.s3.bucket is required"],
    ["s3", { bucket: "b", endpoint: "not a url" }, "storage_providers.s3.endpoint must be an http(s) URL"],
    [
      "s3",
      { bucket: "b", force_path_style: "yes" },
      "storage_providers.s3.force_path_style must be true or false",
    ],
    [
      "s3",
      { bucket: "b", access_key_id: "AKIA" },
      "storage_providers.s3: access_key_id and secret_access_key must be given together",
    ],
    ["azure", { connection_string: "x" }, "storage_providers.azure.container is required"],
    ["azure", { container: "c" }, "storage_providers.azure.connection_string is required"],
    [
      "azure",
      { container: "c", auth_via_cli: true },
      "storage_providers.azure.account_name (or account_url) is required with auth_via_cli",
    ],
  ])("%s with %j fails naming the field", async (name, config, message) => {
    const error = await configError(factory(name)(config, {}));
    expect(error.message).toContain(message);
  });

  it("never puts secret values in its messages", async () => {
    const secretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const s3Error = await configError(factory("s3")({ bucket: 7, secret_access_key: secretKey }, {}));
    expect(s3Error.message).not.toContain(secretKey);
    const connectionString = `DefaultEndpointsProtocol=ftp;AccountName=x;AccountKey=${AZURITE_KEY}`;
    const azureError = await configError(
      factory("azure")({ container: "c", connection_string: connectionString }, {}),
    );
    expect(azureError.message).toBe(
      "storage_providers.azure.connection_string is not a valid Azure Storage connection string",
    );
    const typeError = await configError(
      factory("azure")({ container: "c", connection_string: { key: AZURITE_KEY } }, {}),
    );
    expect(typeError.message).not.toContain(AZURITE_KEY);
  });

  it("builds an S3 provider without contacting S3", async () => {
    const storage = await factory("s3")(
      { bucket: "b", prefix: "p", endpoint: "http://127.0.0.1:1", force_path_style: true },
      { AWS_REGION: "eu-west-2" },
    );
    expect(storage).toBeInstanceOf(S3Storage);
  });

  it("builds an Azure provider from a connection string without contacting Azure", async () => {
    const connectionString = `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${AZURITE_KEY};BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;`;
    const storage = await factory("azure")({ container: "c", connection_string: connectionString }, {});
    expect(storage).toBeInstanceOf(BlobStorage);
  });

  it("builds an Azure provider from account_url with a service principal from the environment", async () => {
    const env = { AZURE_TENANT_ID: "tenant", AZURE_CLIENT_ID: "client", AZURE_CLIENT_SECRET: "s3cret" };
    const storage = await factory("azure")(
      { container: "c", account_url: "https://acct.blob.core.windows.net" },
      env,
    );
    expect(storage).toBeInstanceOf(BlobStorage);
  });

  it("treats empty values as unset, as the Python Victoria did", async () => {
    const error = await configError(
      factory("azure")(
        { container: "c", connection_string: "", account_name: null, auth_via_cli: false },
        {},
      ),
    );
    expect(error.message).toContain("storage_providers.azure.connection_string is required");
    const storage = await factory("s3")({ bucket: "b", prefix: null, region: "", endpoint: "" }, {});
    expect(storage).toBeInstanceOf(S3Storage);
  });

  it("uses the Azure CLI login for auth_via_cli with account_name, as the Python Victoria did", async () => {
    const storage = await factory("azure")({ container: "c", account_name: "acct", auth_via_cli: true }, {});
    expect(storage).toBeInstanceOf(BlobStorage);
  });

  it("names the missing service principal variables, not their values", async () => {
    const error = await configError(
      factory("azure")(
        { container: "c", account_name: "acct" },
        { AZURE_TENANT_ID: "t", AZURE_CLIENT_SECRET: "s3cret" },
      ),
    );
    expect(error.message).toBe(
      "storage_providers.azure: without connection_string, set AZURE_CLIENT_ID in the environment",
    );
  });
});
