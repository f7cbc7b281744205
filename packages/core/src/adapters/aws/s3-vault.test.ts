import { createHash, randomUUID } from "node:crypto";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { S3StandIn } from "@victoria/emulators/s3";
import { startS3TestClient } from "@victoria/emulators/s3-test-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleRecord, vaultContract } from "../../deadletter/vault-contract";
import { createS3Vault } from "./s3-vault";

// s3rver ignores If-None-Match / If-Match on PutObject, so these run against the loopback S3
// stand-in, which the real S3Client talks to over HTTP (path-style, SigV4-signed).
let s3: S3StandIn;
let client: S3Client;
let close: () => Promise<void>;
const bucket = "victoria-vault";

beforeAll(async () => {
  ({ s3, client, close } = await startS3TestClient({ buckets: [bucket] }));
});

afterAll(() => close?.());

/** A client that counts the commands it sends, to prove what went over the wire. */
function countingClient(): { client: S3Client; calls: Record<string, number> } {
  const counted = new S3Client({ ...s3.clientConfig, maxAttempts: 1 });
  const calls: Record<string, number> = {};
  counted.middlewareStack.add(
    (next, context) => (args) => {
      const name = context.commandName ?? "unknown";
      calls[name] = (calls[name] ?? 0) + 1;
      return next(args);
    },
    { step: "initialize" },
  );
  return { client: counted, calls };
}

vaultContract("S3 vault", async (tuning = {}) => {
  const prefix = `contract-${randomUUID()}/`;
  const put = (Key: string, Body: string) => client.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));
  return {
    vault: createS3Vault({ client, bucket, prefix, ...tuning }),
    backdoor: {
      async putRecordUnindexed(record) {
        await put(`${prefix}records/${record.id}.json`, JSON.stringify(record));
      },
      async putIndexObject(name, text) {
        await put(`${prefix}index/${name}`, text);
      },
      async indexNames() {
        const folder = `${prefix}index/`;
        return s3
          .keys(bucket)
          .filter((key) => key.startsWith(folder))
          .map((key) => key.slice(folder.length));
      },
      twin: () => createS3Vault({ client, bucket, prefix, ...tuning }),
    },
  };
});

describe("S3 vault over the wire", () => {
  it("keeps one JSON object per record at <prefix>records/<id>.json, indexed by message id", async () => {
    const vault = createS3Vault({ client, bucket, prefix: "layout" });
    const { record } = await vault.park(sampleRecord(1));
    const digest = createHash("sha256").update("msg-1").digest("hex").slice(0, 32);
    expect(s3.keys(bucket).filter((k) => k.startsWith("layout/"))).toEqual([
      // The search index's change marker: version 1 of the record (see vault-index.ts).
      `layout/index/changes/${record.id}.1`,
      `layout/message-ids/${digest}/${record.id}`,
      `layout/records/${record.id}.json`,
    ]);
    const unprefixed = createS3Vault({ client, bucket });
    await unprefixed.park(sampleRecord(2));
    expect(s3.keys(bucket)).toContain(`records/${sampleRecord(2).id}.json`);
  });

  it("parks with If-None-Match and updates with If-Match", async () => {
    const vault = createS3Vault({ client, bucket, prefix: "conditional/" });
    const before = s3.requests.length;
    const { record } = await vault.park(sampleRecord(1));
    await vault.park(sampleRecord(1));
    await vault.transition(record.id, "parked", "deleted", { by: "a", at: "2025-01-01T00:00:00Z" });
    const puts = s3.requests.slice(before).filter((r) => r.method === "PUT" && r.path.includes("/records/"));
    expect(puts.map((r) => r.status)).toEqual([200, 412, 200]);
  });

  it("pages through more records than one ListObjectsV2 page holds (search without the index)", async () => {
    const { client: counted, calls } = countingClient();
    const vault = createS3Vault({ client: counted, bucket, prefix: "paged/", pageSize: 3, useIndex: false });
    const fresh = Array.from({ length: 8 }, (_, i) =>
      sampleRecord(i, { parkedAt: `2025-01-0${i + 1}T00:00:00.000Z` }),
    );
    for (const record of fresh) await vault.park(record);
    const listed = await vault.list();
    expect(listed.map((r) => r.id)).toEqual(fresh.map((r) => r.id).reverse());
    expect(calls.ListObjectsV2Command).toBe(3);
    expect((await vault.list({ state: "parked" })).length).toBe(8);
    counted.destroy();
  });

  it("does not list objects that are not records, nor other prefixes' records", async () => {
    const vault = createS3Vault({ client, bucket, prefix: "mixed/" });
    const { record } = await vault.park(sampleRecord(1));
    await createS3Vault({ client, bucket, prefix: "mixed/records/nested/" }).park(sampleRecord(2));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: "mixed/records/README.txt", Body: "hi" }));
    expect((await vault.list()).map((r) => r.id)).toEqual([record.id]);
  });

  it("fails with a clear error naming the id for a corrupt record", async () => {
    const vault = createS3Vault({ client, bucket, prefix: "corrupt/" });
    const { record } = await vault.park(sampleRecord(1));
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: `corrupt/records/${record.id}.json`, Body: "{nope" }),
    );
    const message = `Vault record ${record.id} is corrupt (s3://${bucket}/corrupt/records/${record.id}.json): not valid JSON`;
    await expect(vault.get(record.id)).rejects.toThrow(message);
    await expect(vault.list()).rejects.toThrow(message);
    await expect(vault.markNotified(record.id, { channel: "C", ts: "1", id: "N", at: "x" })).rejects.toThrow(
      message,
    );
  });

  it("names the bucket when it does not exist", async () => {
    const vault = createS3Vault({ client, bucket: "no-such-bucket", prefix: "p/" });
    await expect(vault.list()).rejects.toThrow(
      "Could not list the vault index in s3://no-such-bucket/p/index/changes/: NoSuchBucket",
    );
    await expect(
      createS3Vault({ client, bucket: "no-such-bucket", prefix: "p/", useIndex: false }).list(),
    ).rejects.toThrow("Could not list vault records in s3://no-such-bucket/p/records/: NoSuchBucket");
    await expect(vault.park(sampleRecord(1))).rejects.toThrow(
      `Vault record ${sampleRecord(1).id} could not be indexed (s3://no-such-bucket/p/message-ids/`,
    );
  });

  it("finds ids by prefix with one ListObjectsV2 and reads no record", async () => {
    const { client: counted, calls } = countingClient();
    const vault = createS3Vault({ client: counted, bucket, prefix: "by-prefix/", pageSize: 2 });
    const ids = [];
    for (let n = 0; n < 6; n++) ids.push((await vault.park(sampleRecord(n))).record.id);
    for (const name of Object.keys(calls)) delete calls[name];
    const first = ids.sort()[0] as string;
    expect(await vault.idsWithPrefix(first.slice(0, 8), 6)).toEqual([first]);
    expect(calls).toEqual({ ListObjectsV2Command: 1 });
    // A limit asks for no page past it, whatever the page size.
    expect(await vault.idsWithPrefix("", 3)).toEqual(ids.slice(0, 3));
    expect(calls).toEqual({ ListObjectsV2Command: 3 });
    counted.destroy();
  });

  it("finds a message id through its index, reading only that message's records", async () => {
    const { client: counted, calls } = countingClient();
    const vault = createS3Vault({ client: counted, bucket, prefix: "by-message/" });
    for (let n = 0; n < 10; n++) await vault.park(sampleRecord(n));
    for (const name of Object.keys(calls)) delete calls[name];
    expect((await vault.findByMessageId("msg-7", 5)).map((r) => r.id)).toEqual([sampleRecord(7).id]);
    expect(calls).toEqual({ ListObjectsV2Command: 1, GetObjectCommand: 1 });
    expect(await vault.findByMessageId("msg-70", 5)).toEqual([]);
    counted.destroy();
  });

  it("skips an index entry whose record never landed (a park that failed after indexing)", async () => {
    const vault = createS3Vault({ client, bucket, prefix: "dangling/" });
    const digest = createHash("sha256").update("msg-1").digest("hex").slice(0, 32);
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `dangling/message-ids/${digest}/${sampleRecord(1).id}`,
        Body: "",
      }),
    );
    expect(await vault.findByMessageId("msg-1", 5)).toEqual([]);
    const { record } = await vault.park(sampleRecord(1));
    expect(await vault.findByMessageId("msg-1", 5)).toEqual([record]);
  });
});
