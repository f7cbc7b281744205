import { S3Client } from "@aws-sdk/client-s3";
import { type S3StandIn, type S3StandInOptions, startS3StandIn } from "./s3";

export interface S3TestClient {
  s3: S3StandIn;
  /** Talks to `s3` and never retries, so a test sees every failure as it happens. */
  client: S3Client;
  /** Destroys the client, then closes the stand-in. */
  close(): Promise<void>;
}

/** Starts the S3 stand-in and an `S3Client` configured for it, for tests over the wire. */
export async function startS3TestClient(options: S3StandInOptions = {}): Promise<S3TestClient> {
  const s3 = await startS3StandIn(options);
  const client = new S3Client({ ...s3.clientConfig, maxAttempts: 1 });
  return {
    s3,
    client,
    async close() {
      client.destroy();
      await s3.close();
    },
  };
}
