import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { isTransientError } from "../../failure-class";
import { MAX_READ_BYTES } from "../../victoria/bounded-file";
import { CommandFailure } from "../../victoria/errors";
import type { StorageProvider } from "../../victoria/storage/storage-types";

export interface S3StorageOptions {
  bucket: string;
  /** Folder-like prefix inside the bucket; keys are stored under `<prefix>/`. */
  prefix?: string;
  /** Omitted: the SDK's own resolution (AWS_REGION, profile). */
  region?: string;
  /** An S3-compatible server (MinIO, s3rver, ...); omitted for AWS itself. */
  endpoint?: string;
  forcePathStyle?: boolean;
  /** Static keys for S3-compatible servers; omitted: the SDK's default credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Keys per ListObjectsV2 page (S3 caps it at 1000); small values let tests exercise paging. */
  pageSize?: number;
}

/** A StorageProvider over an S3 bucket, optionally under a prefix. */
export class S3Storage implements StorageProvider {
  private readonly prefix: string;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    prefix = "",
    private readonly pageSize?: number,
  ) {
    const trimmed = prefix.replace(/^\/+|\/+$/g, "");
    this.prefix = trimmed === "" ? "" : `${trimmed}/`;
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), Body: data }),
      );
    } catch (error) {
      throw this.failure(`Could not store '${key}'`, error);
    }
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
      );
      if (!response.Body) return new Uint8Array();
      // Refused before the body is read: a command never holds more than MAX_READ_BYTES of it.
      if ((response.ContentLength ?? 0) > MAX_READ_BYTES) {
        await response.Body.transformToWebStream().cancel();
        throw tooLarge(key, response.ContentLength ?? 0);
      }
      return await response.Body.transformToByteArray();
    } catch (error) {
      if (error instanceof CommandFailure) throw error;
      if (errorName(error) === "NoSuchKey") {
        throw new CommandFailure(`No such key '${key}' in S3 bucket '${this.bucket}'`, {
          failureClass: "not_found",
        });
      }
      throw this.failure(`Could not read '${key}'`, error);
    }
  }

  async ls(): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix || undefined,
            ContinuationToken: token,
            MaxKeys: this.pageSize,
          }),
        );
        for (const object of page.Contents ?? []) {
          if (object.Key !== undefined) keys.push(object.Key.slice(this.prefix.length));
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (error) {
      throw this.failure("Could not list objects", error);
    }
    // S3 already lists in UTF-8 byte order; sorting keeps the same order as the other providers.
    return keys.sort();
  }

  private objectKey(key: string): string {
    if (key === "") throw new CommandFailure("Invalid key '': keys cannot be empty");
    return `${this.prefix}${key}`;
  }

  /** SDK errors become failures the user can act on (missing bucket, access denied, no credentials). */
  private failure(what: string, error: unknown): CommandFailure {
    const name = errorName(error);
    if (name === "NoSuchBucket")
      return new CommandFailure(`${what}: S3 bucket '${this.bucket}' does not exist`, {
        failureClass: "configuration",
      });
    const message = error instanceof Error ? error.message : String(error);
    return new CommandFailure(`${what} in S3 bucket '${this.bucket}': ${name ? `${name}: ` : ""}${message}`, {
      failureClass: isTransientError(error) ? "transient" : "configuration",
    });
  }
}

function tooLarge(key: string, bytes: number): CommandFailure {
  return new CommandFailure(
    `'${key}' is ${bytes.toLocaleString("en")} bytes, more than the ${MAX_READ_BYTES.toLocaleString("en")} a command reads`,
  );
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

export function createS3Storage(options: S3StorageOptions): S3Storage {
  const client = new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    credentials: options.credentials,
    // S3-compatible servers often reject the CRC32 checksums newer SDKs send by default.
    ...(options.endpoint
      ? { requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" }
      : {}),
  });
  return new S3Storage(client, options.bucket, options.prefix, options.pageSize);
}
