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
import { type S3StandIn, startS3StandIn } from "./s3";

let s3: S3StandIn;
let client: S3Client;

beforeAll(async () => {
  s3 = await startS3StandIn();
  client = new S3Client({ ...s3.clientConfig, maxAttempts: 1 });
  await client.send(new CreateBucketCommand({ Bucket: "bucket" }));
});

afterAll(async () => {
  client?.destroy();
  await s3?.close();
});

/** What the SDK made of a failed call: its error name and HTTP status. */
async function failure(promise: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  try {
    await promise;
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    return { name: (error as Error).name, status };
  }
  throw new Error("expected the call to fail");
}

const put = (Key: string, Body: string, extra: { IfMatch?: string; IfNoneMatch?: string } = {}) =>
  client.send(new PutObjectCommand({ Bucket: "bucket", Key, Body, ...extra }));

describe("S3 stand-in, unsigned requests", () => {
  it("answers 403 AccessDenied without an Authorization header", async () => {
    const response = await fetch(`${s3.endpoint}/bucket/k`, { method: "PUT", body: "x" });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("<Code>AccessDenied</Code>");
    expect(s3.keys("bucket")).not.toContain("k");
  });

  it("answers 400 AuthorizationHeaderMalformed for a header that is not SigV4 for s3 in this region", async () => {
    const bearer = await fetch(`${s3.endpoint}/bucket/k`, { headers: { authorization: "Bearer abc" } });
    expect(bearer.status).toBe(400);
    expect(await bearer.text()).toContain("<Code>AuthorizationHeaderMalformed</Code>");
    const elsewhere = new S3Client({ ...s3.clientConfig, region: "eu-west-1", maxAttempts: 1 });
    expect((await failure(elsewhere.send(new GetObjectCommand({ Bucket: "bucket", Key: "k" })))).status).toBe(
      400,
    );
    elsewhere.destroy();
  });
});

describe("S3 stand-in, through the AWS SDK", () => {
  it("puts, gets, heads and deletes objects, with ETags", async () => {
    const written = await put("dir/é file.json", '{"a":"ü"}');
    expect(written.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    const read = await client.send(new GetObjectCommand({ Bucket: "bucket", Key: "dir/é file.json" }));
    expect(await read.Body?.transformToString()).toBe('{"a":"ü"}');
    expect(read.ETag).toBe(written.ETag);
    const head = await client.send(new HeadObjectCommand({ Bucket: "bucket", Key: "dir/é file.json" }));
    expect(head.ContentLength).toBe(Buffer.byteLength('{"a":"ü"}'));
    await client.send(new DeleteObjectCommand({ Bucket: "bucket", Key: "dir/é file.json" }));
    expect(
      await failure(client.send(new GetObjectCommand({ Bucket: "bucket", Key: "dir/é file.json" }))),
    ).toEqual({
      name: "NoSuchKey",
      status: 404,
    });
    expect(
      await failure(client.send(new HeadObjectCommand({ Bucket: "bucket", Key: "dir/é file.json" }))),
    ).toEqual({
      name: "NotFound",
      status: 404,
    });
  });

  it("creates with If-None-Match: * only when the key is absent", async () => {
    await put("once", "1", { IfNoneMatch: "*" });
    expect(await failure(put("once", "2", { IfNoneMatch: "*" }))).toEqual({
      name: "PreconditionFailed",
      status: 412,
    });
    const read = await client.send(new GetObjectCommand({ Bucket: "bucket", Key: "once" }));
    expect(await read.Body?.transformToString()).toBe("1");
  });

  it("replaces with If-Match only while the ETag is current", async () => {
    const first = await put("cas", "v1");
    const second = await put("cas", "v2", { IfMatch: first.ETag as string });
    expect(await failure(put("cas", "v3", { IfMatch: first.ETag as string }))).toEqual({
      name: "PreconditionFailed",
      status: 412,
    });
    await put("cas", "v3", { IfMatch: second.ETag as string });
    expect(await failure(put("absent", "v1", { IfMatch: first.ETag as string }))).toEqual({
      name: "NoSuchKey",
      status: 404,
    });
  });

  it("lets exactly one of many racing conditional creates win", async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => put("race", String(i), { IfNoneMatch: "*" })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  });

  it("lists by prefix in pages with continuation tokens", async () => {
    await client.send(new CreateBucketCommand({ Bucket: "listing" }));
    const keys = ["p/a", "p/b", "p/c", "p/d", "p/e", "q/z"];
    for (const Key of [...keys].reverse()) {
      await client.send(new PutObjectCommand({ Bucket: "listing", Key, Body: Key }));
    }
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: "listing", Prefix: "p/", MaxKeys: 2, ContinuationToken: token }),
      );
      pages += 1;
      seen.push(...(page.Contents ?? []).map((c) => c.Key as string));
      expect(page.KeyCount).toBe(page.Contents?.length ?? 0);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    expect(seen).toEqual(["p/a", "p/b", "p/c", "p/d", "p/e"]);
    expect(pages).toBe(3);
    const after = await client.send(new ListObjectsV2Command({ Bucket: "listing", StartAfter: "p/d" }));
    expect(after.Contents?.map((c) => c.Key)).toEqual(["p/e", "q/z"]);
    expect(
      await failure(
        client.send(new ListObjectsV2Command({ Bucket: "listing", ContinuationToken: "not a token" })),
      ),
    ).toMatchObject({ status: 400 });
  });

  it("answers NoSuchBucket for a missing bucket and 409 for creating one twice", async () => {
    expect(await failure(client.send(new ListObjectsV2Command({ Bucket: "missing" })))).toEqual({
      name: "NoSuchBucket",
      status: 404,
    });
    expect(await failure(client.send(new CreateBucketCommand({ Bucket: "bucket" })))).toEqual({
      name: "BucketAlreadyOwnedByYou",
      status: 409,
    });
  });

  it("rejects a body whose CRC32 does not match", async () => {
    const response = await fetch(`${s3.endpoint}/bucket/crc`, {
      method: "PUT",
      body: "payload",
      headers: {
        authorization: `AWS4-HMAC-SHA256 Credential=K/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${"0".repeat(64)}`,
        "x-amz-checksum-crc32": "AAAAAA==",
      },
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("<Code>BadDigest</Code>");
  });
});
