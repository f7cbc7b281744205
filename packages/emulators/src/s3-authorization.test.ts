import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AccessAnswer } from "./aws-authorization";
import { type S3StandIn, startS3StandIn } from "./s3";

/** Who holds which key, and the exact (action, resource) pairs each may use. */
const PRINCIPALS: Record<string, { name: string; allowed: Array<[string, string]> }> = {
  AKIDWORKER: {
    name: "Worker",
    allowed: [
      ["s3:ListBucket", "arn:aws:s3:::vault"],
      ["s3:GetObject", "arn:aws:s3:::vault/records/1.json"],
      ["s3:PutObject", "arn:aws:s3:::vault/records/1.json"],
      ["s3:GetObject", "arn:aws:s3:::vault/records/missing.json"],
    ],
  },
  AKIDAUTHENTICATE: {
    name: "Authenticate",
    // No s3:ListBucket on the dedupe bucket, as in infra/storage.ts.
    allowed: [["s3:GetObject", "arn:aws:s3:::dedupe/claims/missing"]],
  },
};

const checks: Array<{ accessKeyId: string; action: string; resource: string }> = [];

function authorize(accessKeyId: string, action: string, resource: string): AccessAnswer {
  checks.push({ accessKeyId, action, resource });
  const principal = PRINCIPALS[accessKeyId];
  if (!principal) return { allowed: false };
  const allowed = principal.allowed.some(([a, r]) => a === action && r === resource);
  return { allowed, principal: principal.name };
}

let s3: S3StandIn;
const clients: S3Client[] = [];

function clientFor(accessKeyId: string): S3Client {
  const client = new S3Client({
    ...s3.clientConfig,
    credentials: { accessKeyId, secretAccessKey: "secret" },
    maxAttempts: 1,
  });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  s3 = await startS3StandIn({ buckets: ["vault", "dedupe"], authorize });
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await s3?.close();
});

/** What the SDK made of a failed call. */
async function failure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error("expected the call to fail");
}

function denial(principal: string, action: string, resource: string): string {
  return `User: arn:aws:sts::000000000000:assumed-role/${principal}/${principal} is not authorized to perform: ${action} on resource: "${resource}" because no identity-based policy allows the ${action} action`;
}

describe("S3 stand-in with authorize", () => {
  it("authorizes each operation as S3 does: its action on the object or bucket ARN", async () => {
    const worker = clientFor("AKIDWORKER");
    const before = checks.length;
    await worker.send(new PutObjectCommand({ Bucket: "vault", Key: "records/1.json", Body: "{}" }));
    await worker.send(new GetObjectCommand({ Bucket: "vault", Key: "records/1.json" }));
    await worker.send(new HeadObjectCommand({ Bucket: "vault", Key: "records/1.json" }));
    await worker.send(new ListObjectsV2Command({ Bucket: "vault", Prefix: "records/" }));
    await failure(worker.send(new DeleteObjectCommand({ Bucket: "vault", Key: "records/1.json" })));
    await failure(worker.send(new CreateBucketCommand({ Bucket: "another" })));
    expect(checks.slice(before).map(({ action, resource }) => [action, resource])).toEqual([
      ["s3:PutObject", "arn:aws:s3:::vault/records/1.json"],
      ["s3:GetObject", "arn:aws:s3:::vault/records/1.json"],
      ["s3:GetObject", "arn:aws:s3:::vault/records/1.json"],
      ["s3:ListBucket", "arn:aws:s3:::vault"],
      ["s3:DeleteObject", "arn:aws:s3:::vault/records/1.json"],
      ["s3:CreateBucket", "arn:aws:s3:::another"],
    ]);
    expect(checks.slice(before).every((c) => c.accessKeyId === "AKIDWORKER")).toBe(true);
  });

  it("refuses an action no grant allows with 403 AccessDenied in S3's words, changing nothing", async () => {
    const worker = clientFor("AKIDWORKER");
    expect(
      await failure(worker.send(new DeleteObjectCommand({ Bucket: "vault", Key: "records/1.json" }))),
    ).toEqual({
      name: "AccessDenied",
      status: 403,
      message: denial("Worker", "s3:DeleteObject", "arn:aws:s3:::vault/records/1.json"),
    });
    expect(s3.keys("vault")).toEqual(["records/1.json"]);
    expect(
      await failure(worker.send(new PutObjectCommand({ Bucket: "dedupe", Key: "claims/x", Body: "1" }))),
    ).toEqual({
      name: "AccessDenied",
      status: 403,
      message: denial("Worker", "s3:PutObject", "arn:aws:s3:::dedupe/claims/x"),
    });
    expect(s3.keys("dedupe")).toEqual([]);
    expect(await failure(worker.send(new CreateBucketCommand({ Bucket: "another" })))).toMatchObject({
      name: "AccessDenied",
      status: 403,
    });
  });

  it("answers a refused HeadObject 403 with no body, as S3 does", async () => {
    const authenticate = clientFor("AKIDAUTHENTICATE");
    // With no body to read a code from, the SDK can only go by the status (it names this "Unknown").
    const refused = await failure(
      authenticate.send(new HeadObjectCommand({ Bucket: "vault", Key: "records/1.json" })),
    );
    expect(refused.status).toBe(403);
    const raw = await fetch(`${s3.endpoint}/vault/records/1.json`, {
      method: "HEAD",
      headers: {
        authorization: `AWS4-HMAC-SHA256 Credential=AKIDAUTHENTICATE/20261205/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${"0".repeat(64)}`,
      },
    });
    expect(raw.status).toBe(403);
    expect(await raw.text()).toBe("");
  });

  it("answers a missing key NoSuchKey only to a caller that may list the bucket", async () => {
    const worker = clientFor("AKIDWORKER");
    expect(
      await failure(worker.send(new GetObjectCommand({ Bucket: "vault", Key: "records/missing.json" }))),
    ).toMatchObject({ name: "NoSuchKey", status: 404 });

    const authenticate = clientFor("AKIDAUTHENTICATE");
    expect(
      await failure(authenticate.send(new GetObjectCommand({ Bucket: "dedupe", Key: "claims/missing" }))),
    ).toEqual({
      name: "AccessDenied",
      status: 403,
      message: denial("Authenticate", "s3:ListBucket", "arn:aws:s3:::dedupe"),
    });
    const head = await failure(
      authenticate.send(new HeadObjectCommand({ Bucket: "dedupe", Key: "claims/missing" })),
    );
    expect(head.status).toBe(403);
    expect(head.name).not.toBe("NotFound");
  });

  it("answers a missing bucket NoSuchBucket, even to a caller that may not use it", async () => {
    const authenticate = clientFor("AKIDAUTHENTICATE");
    expect(
      await failure(authenticate.send(new GetObjectCommand({ Bucket: "missing", Key: "k" }))),
    ).toMatchObject({ name: "NoSuchBucket", status: 404 });
    expect(await failure(authenticate.send(new ListObjectsV2Command({ Bucket: "missing" })))).toMatchObject({
      name: "NoSuchBucket",
      status: 404,
    });
  });

  it("refuses an access key id no one holds with 403 InvalidAccessKeyId, before anything else", async () => {
    const stranger = clientFor("STANDIN");
    for (const command of [
      new GetObjectCommand({ Bucket: "vault", Key: "records/1.json" }),
      new ListObjectsV2Command({ Bucket: "missing" }),
    ]) {
      expect(await failure(stranger.send(command as GetObjectCommand))).toEqual({
        name: "InvalidAccessKeyId",
        status: 403,
        message: "The AWS Access Key Id you provided does not exist in our records.",
      });
    }
    const raw = await fetch(`${s3.endpoint}/vault/records/1.json`, {
      headers: {
        authorization: `AWS4-HMAC-SHA256 Credential=NOBODY/20261205/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${"0".repeat(64)}`,
      },
    });
    expect(raw.status).toBe(403);
    expect(await raw.text()).toMatch(
      /<Error><Code>InvalidAccessKeyId<\/Code><Message>The AWS Access Key Id you provided does not exist in our records.<\/Message><AWSAccessKeyId>NOBODY<\/AWSAccessKeyId><RequestId>[0-9a-f-]+<\/RequestId><\/Error>$/,
    );
  });

  it("takes a plain boolean answer, naming the access key id in a refusal", async () => {
    const strict = await startS3StandIn({
      buckets: ["b"],
      authorize: (_key, action) => action === "s3:PutObject",
    });
    const client = new S3Client({
      ...strict.clientConfig,
      credentials: { accessKeyId: "AKIDANY", secretAccessKey: "secret" },
      maxAttempts: 1,
    });
    try {
      await client.send(new PutObjectCommand({ Bucket: "b", Key: "k", Body: "v" }));
      expect(await failure(client.send(new GetObjectCommand({ Bucket: "b", Key: "k" })))).toEqual({
        name: "AccessDenied",
        status: 403,
        message: denial("AKIDANY", "s3:GetObject", "arn:aws:s3:::b/k"),
      });
    } finally {
      client.destroy();
      await strict.close();
    }
  });
});
