import type { TokenCredential } from "@azure/identity";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { isTransientError } from "../../failure-class";
import { MAX_READ_BYTES } from "../../victoria/bounded-file";
import { CommandFailure } from "../../victoria/errors";
import type { StorageProvider } from "../../victoria/storage/storage-types";

/** How to reach the storage account: a connection string, or an account URL and an Entra ID credential. */
export type BlobAccount = { connectionString: string } | { accountUrl: string; credential: TokenCredential };

export interface BlobStorageOptions {
  account: BlobAccount;
  container: string;
  /** Blobs per listBlobsFlat page (the service caps it at 5000); small values let tests exercise paging. */
  pageSize?: number;
}

/** A StorageProvider over one Azure Blob Storage container. */
export class BlobStorage implements StorageProvider {
  constructor(
    private readonly container: ContainerClient,
    private readonly pageSize?: number,
  ) {}

  async put(key: string, data: Uint8Array): Promise<void> {
    try {
      await this.container.getBlockBlobClient(checked(key)).uploadData(data);
    } catch (error) {
      throw this.failure(`Could not store '${key}'`, error);
    }
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      // A plain GET rather than downloadToBuffer: its HEAD probe fails without the service's error code.
      const response = await this.container.getBlobClient(checked(key)).download();
      const chunks: Buffer[] = [];
      let total = 0;
      const tooLarge = () =>
        new CommandFailure(
          `'${key}' is larger than the ${MAX_READ_BYTES.toLocaleString("en")} bytes a command reads`,
        );
      // A declared length is refused before reading; a stream without one is cut at the bound.
      if ((response.contentLength ?? 0) > MAX_READ_BYTES) {
        response.readableStreamBody?.destroy();
        throw tooLarge();
      }
      for await (const chunk of response.readableStreamBody ?? []) {
        total += (chunk as Buffer).length;
        if (total > MAX_READ_BYTES) {
          response.readableStreamBody?.destroy();
          throw tooLarge();
        }
        chunks.push(chunk as Buffer);
      }
      return new Uint8Array(Buffer.concat(chunks));
    } catch (error) {
      if (errorCode(error) === "BlobNotFound") {
        throw new CommandFailure(
          `No such key '${key}' in Azure Blob container '${this.container.containerName}'`,
          { failureClass: "not_found" },
        );
      }
      throw this.failure(`Could not read '${key}'`, error);
    }
  }

  async ls(): Promise<string[]> {
    const keys: string[] = [];
    try {
      for await (const page of this.container.listBlobsFlat().byPage({ maxPageSize: this.pageSize })) {
        for (const blob of page.segment.blobItems) keys.push(blob.name);
      }
    } catch (error) {
      throw this.failure("Could not list blobs", error);
    }
    // The service lists in UTF-8 byte order; sorting keeps the same order as the other providers.
    return keys.sort();
  }

  /** SDK errors become failures the user can act on (missing container, denied access). */
  private failure(what: string, error: unknown): CommandFailure {
    if (error instanceof CommandFailure) return error;
    const name = this.container.containerName;
    const code = errorCode(error);
    if (code === "ContainerNotFound")
      return new CommandFailure(`${what}: Azure Blob container '${name}' does not exist`, {
        failureClass: "configuration",
      });
    // The first line only: the SDK appends request ids and timestamps that are noise to a CLI user.
    const message = (error instanceof Error ? error.message : String(error)).split("\n")[0];
    return new CommandFailure(
      `${what} in Azure Blob container '${name}': ${code ? `${code}: ` : ""}${message}`,
      { failureClass: isTransientError(error) ? "transient" : "configuration" },
    );
  }
}

function checked(key: string): string {
  if (key === "") throw new CommandFailure("Invalid key '': keys cannot be empty");
  return key;
}

/** The service's error code (`BlobNotFound`, `ContainerNotFound`, ...) carried by a RestError. */
function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  return typeof error.code === "string" ? error.code : undefined;
}

export function createBlobStorage(options: BlobStorageOptions): BlobStorage {
  const { account } = options;
  const service =
    "connectionString" in account
      ? BlobServiceClient.fromConnectionString(account.connectionString)
      : new BlobServiceClient(account.accountUrl, account.credential);
  return new BlobStorage(service.getContainerClient(options.container), options.pageSize);
}
