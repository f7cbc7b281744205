import { createHash } from "node:crypto";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { S3StandIn } from "@victoria/emulators/s3";
import { startS3TestClient } from "@victoria/emulators/s3-test-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createS3DedupeStore } from "./s3-dedupe-store";

// Over the wire against the loopback S3 stand-in, which honours If-None-Match and If-Match.
let s3: S3StandIn;
let client: S3Client;
let close: () => Promise<void>;
const bucket = "victoria-dedupe";

beforeAll(async () => {
  ({ s3, client, close } = await startS3TestClient({ buckets: [bucket] }));
});

afterAll(() => close?.());

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const count = (results: boolean[]) => results.filter(Boolean).length;

describe("S3 dedupe store over the wire", () => {
  it("lets the first claim through and refuses the second", async () => {
    const store = createS3DedupeStore({ client, bucket, prefix: "basic" });
    expect(await store.claim("Ev1", 60_000)).toBe(true);
    expect(await store.claim("Ev1", 60_000)).toBe(false);
    expect(await store.claim("Ev2", 60_000)).toBe(true);
  });

  it("stores { key, expiresAt } at dedupe/<sha256(key)>", async () => {
    const store = createS3DedupeStore({ client, bucket, now: () => Date.parse("2025-01-01T00:00:00Z") });
    await store.claim("trigger/1", 5_000);
    const object = await client.send(
      new GetObjectCommand({ Bucket: bucket, Key: `dedupe/${sha256("trigger/1")}` }),
    );
    expect(JSON.parse((await object.Body?.transformToString()) ?? "")).toEqual({
      key: "trigger/1",
      expiresAt: "2025-01-01T00:00:05.000Z",
    });
  });

  it("gives exactly one of 20 concurrent claimers of a key the claim", async () => {
    // Separate stores: as if each were a different Lambda container.
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        createS3DedupeStore({ client, bucket, prefix: "race/" }).claim("Ev-race", 60_000),
      ),
    );
    expect(count(results)).toBe(1);
  });

  it("lets an expired key be claimed again, and only then", async () => {
    let now = 1_000_000;
    const store = createS3DedupeStore({ client, bucket, prefix: "expiry/", now: () => now });
    expect(await store.claim("Ev1", 100)).toBe(true);
    now += 99;
    expect(await store.claim("Ev1", 100)).toBe(false);
    now += 1;
    expect(await store.claim("Ev1", 100)).toBe(true);
    expect(await store.claim("Ev1", 100)).toBe(false);
  });

  it("gives exactly one of 20 concurrent re-claimers of an expired key the claim", async () => {
    let now = 1_000_000;
    const stores = Array.from({ length: 20 }, () =>
      createS3DedupeStore({ client, bucket, prefix: "reclaim/", now: () => now }),
    );
    expect(await stores[0]?.claim("Ev1", 100)).toBe(true);
    now += 1_000;
    const before = s3.requests.length;
    const results = await Promise.all(stores.map((store) => store.claim("Ev1", 100)));
    expect(count(results)).toBe(1);
    // The replacement went through If-Match: one 200 among the conditional overwrites.
    const puts = s3.requests.slice(before).filter((r) => r.method === "PUT");
    expect(puts.filter((r) => r.status === 200)).toHaveLength(1);
  });

  it("takes a claim again after release", async () => {
    const store = createS3DedupeStore({ client, bucket, prefix: "release/" });
    expect(await store.claim("Ev1", 60_000)).toBe(true);
    await store.release("Ev1");
    expect(s3.keys(bucket).filter((k) => k.startsWith("release/"))).toEqual([]);
    expect(await store.claim("Ev1", 60_000)).toBe(true);
    expect(await store.claim("Ev1", 60_000)).toBe(false);
    await store.release("never-claimed");
  });

  it("treats an unreadable claim object as expired and replaces it", async () => {
    const store = createS3DedupeStore({ client, bucket, prefix: "corrupt/" });
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: `corrupt/${sha256("Ev1")}`, Body: "{nope" }),
    );
    expect(await store.claim("Ev1", 60_000)).toBe(true);
    expect(await store.claim("Ev1", 60_000)).toBe(false);
  });

  it("rejects with the bucket named when S3 refuses", async () => {
    const store = createS3DedupeStore({ client, bucket: "no-such-bucket" });
    await expect(store.claim("Ev1", 60_000)).rejects.toThrow(
      /Could not claim "Ev1" \(s3:\/\/no-such-bucket\/dedupe\/[0-9a-f]{64}\): NoSuchBucket/,
    );
    await expect(store.release("Ev1")).rejects.toThrow(/Could not release "Ev1".*NoSuchBucket/);
  });
});
