/** A place Victoria keeps files: a local folder, an Azure Blob container, an S3 bucket. */
export interface StorageProvider {
  put(key: string, data: Uint8Array): Promise<void>;
  /** Throws CommandFailure naming the key when it does not exist. */
  get(key: string): Promise<Uint8Array>;
  /** Every key, sorted. */
  ls(): Promise<string[]>;
}
