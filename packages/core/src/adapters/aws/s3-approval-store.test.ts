import { randomUUID } from "node:crypto";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { S3StandIn } from "@victoria/emulators/s3";
import { startS3TestClient } from "@victoria/emulators/s3-test-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApprovalRequest, approve, newApprovalId } from "../../approvals/approval";
import { PENDING_LIMIT } from "../../approvals/approval-store";
import {
  approvalStoreContract,
  approver,
  SOON,
  sampleRequest,
} from "../../approvals/approval-store-contract";
import { createS3ApprovalStore } from "./s3-approval-store";

// Against the loopback S3 stand-in over HTTP: it enforces If-None-Match / If-Match as S3 does
// (s3rver ignores them), and the real S3Client signs and sends every request.
let s3: S3StandIn;
let client: S3Client;
let close: () => Promise<void>;
const bucket = "victoria-approvals";

beforeAll(async () => {
  ({ s3, client, close } = await startS3TestClient({ buckets: [bucket] }));
});

afterAll(() => close?.());

/** A client that notes the condition each PutObject carries, to prove what went over the wire. */
function conditionRecordingClient(): { client: S3Client; puts: string[] } {
  const recording = new S3Client({ ...s3.clientConfig, maxAttempts: 1 });
  const puts: string[] = [];
  recording.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === "PutObjectCommand") {
        const input = args.input as { Key?: string; IfMatch?: string; IfNoneMatch?: string };
        // Pending markers are plain puts; the conditions under test are the request's.
        if (!input.Key?.includes("/pending/"))
          puts.push(input.IfMatch ? `If-Match: ${input.IfMatch}` : `If-None-Match: ${input.IfNoneMatch}`);
      }
      return next(args);
    },
    { step: "initialize" },
  );
  return { client: recording, puts };
}

approvalStoreContract("S3 approval store", async () => {
  const prefix = `contract-${randomUUID()}`;
  const markerFolder = `${prefix}/approvals/pending/`;
  return {
    store: createS3ApprovalStore({ client, bucket, prefix }),
    markers: {
      async plant(id) {
        await client.send(
          new PutObjectCommand({ Bucket: bucket, Key: `${markerFolder}${id}`, Body: "", ContentLength: 0 }),
        );
      },
      ids: async () =>
        s3
          .keys(bucket)
          .filter((key) => key.startsWith(markerFolder))
          .map((key) => key.slice(markerFolder.length)),
    },
  };
});

describe("S3 approval store over the wire", () => {
  it("keeps one JSON object per request at <prefix>approvals/<id>.json, and a marker while pending", async () => {
    const store = createS3ApprovalStore({ client, bucket, prefix: "/layout" });
    const { id } = await store.create(sampleRequest());
    const layout = () => s3.keys(bucket).filter((k) => k.startsWith("layout/"));
    expect(layout().sort()).toEqual([`layout/approvals/${id}.json`, `layout/approvals/pending/${id}`].sort());
    await store.update(id, (r) => approve(r, approver(1), SOON));
    expect(layout()).toEqual([`layout/approvals/${id}.json`]);
    const unprefixed = await createS3ApprovalStore({ client, bucket }).create(sampleRequest());
    expect(s3.keys(bucket)).toContain(`approvals/${unprefixed.id}.json`);
  });

  it("creates with If-None-Match and updates with If-Match; a lost race is a 412 and a re-read", async () => {
    const { client: recording, puts: conditions } = conditionRecordingClient();
    const store = createS3ApprovalStore({ client: recording, bucket, prefix: "conditional/" });
    const request = sampleRequest(1);
    const before = s3.requests.length;
    await store.create(request);
    await expect(store.create(request)).rejects.toThrow("already exists");
    // Marker, request; marker again (harmless), then the refused second create.
    expect(s3.requests.slice(before).map((r) => `${r.method} ${r.status}`)).toEqual([
      "PUT 200",
      "PUT 200",
      "PUT 200",
      "PUT 412",
    ]);

    const racing = s3.requests.length;
    await Promise.all(
      Array.from({ length: 10 }, (_, n) => store.update(request.id, (r) => approve(r, approver(n), SOON))),
    );
    const puts = s3.requests.slice(racing).filter((r) => r.method === "PUT" && !r.path.includes("/pending/"));
    // One If-Match put lands; every other put that went out lost to it (412) and its writer re-read,
    // found the request approved and wrote nothing more.
    expect(puts.filter((r) => r.status === 200)).toHaveLength(1);
    expect(puts.filter((r) => r.status !== 200).every((r) => r.status === 412)).toBe(true);
    expect(conditions.slice(0, 2)).toEqual(["If-None-Match: *", "If-None-Match: *"]);
    expect(conditions.slice(2).every((c) => /^If-Match: "[0-9a-f]{32}"$/.test(c))).toBe(true);
    expect((await store.get(request.id))?.version).toBe(2);
    recording.destroy();
  });

  it("lists the markers page by page (ContinuationToken), reading at most PENDING_LIMIT of them", async () => {
    // S3 pages hold up to 1,000 keys; here `pageSize`, so few markers take several pages.
    let pageSize = 2;
    const lists: Array<{ MaxKeys?: number; ContinuationToken?: string }> = [];
    let reads = 0;
    let created: ApprovalRequest[] = [];
    const paging = new S3Client({ ...s3.clientConfig, maxAttempts: 1 });
    paging.middlewareStack.add(
      (next, context) => (args) => {
        const input = args.input as { Key?: string; MaxKeys?: number; ContinuationToken?: string };
        if (context.commandName === "ListObjectsV2Command") {
          input.MaxKeys = Math.min(input.MaxKeys ?? 1000, pageSize);
          lists.push({ MaxKeys: input.MaxKeys, ContinuationToken: input.ContinuationToken });
        }
        if (context.commandName === "GetObjectCommand") {
          reads += 1;
          // Markers planted below have no request: answered here, as S3 would, to keep the test quick.
          if (!created.some((r) => input.Key?.endsWith(`/${r.id}.json`))) {
            throw Object.assign(new Error("The specified key does not exist."), { name: "NoSuchKey" });
          }
        }
        return next(args);
      },
      { step: "initialize" },
    );
    const prefix = `paging-${randomUUID()}/`;
    const store = createS3ApprovalStore({ client: paging, bucket, prefix });
    created = await Promise.all([1, 2, 3, 4, 5].map(() => store.create(sampleRequest())));
    const listed = await store.pending();
    expect(listed.map((r) => r.id).sort()).toEqual(created.map((r) => r.id).sort());
    expect(lists.map((l) => l.MaxKeys)).toEqual([2, 2, 2]);
    expect(lists[0]?.ContinuationToken).toBeUndefined();
    expect(lists.slice(1).every((l) => typeof l.ContinuationToken === "string")).toBe(true);

    // More markers than a sweep reads (left by creates that crashed between marker and request).
    const extra = Array.from({ length: PENDING_LIMIT + 1 - created.length }, () => newApprovalId());
    for (let i = 0; i < extra.length; i += 100) {
      await Promise.all(
        extra.slice(i, i + 100).map((id) =>
          client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: `${prefix}approvals/pending/${id}`,
              Body: "",
              ContentLength: 0,
            }),
          ),
        ),
      );
    }
    pageSize = 400;
    lists.length = 0;
    reads = 0;
    await store.pending();
    // No page is asked for past the limit: 400 + 400 + 200 markers, one read each.
    expect(lists.map((l) => l.MaxKeys)).toEqual([400, 400, 200]);
    expect(reads).toBe(PENDING_LIMIT);
    paging.destroy();
  });

  it("fails naming the id for a corrupt object", async () => {
    const store = createS3ApprovalStore({ client, bucket, prefix: "corrupt/" });
    const { id } = await store.create(sampleRequest());
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: `corrupt/approvals/${id}.json`, Body: "{no" }),
    );
    const message = `Approval request ${id} is corrupt (s3://${bucket}/corrupt/approvals/${id}.json): not valid JSON`;
    await expect(store.get(id)).rejects.toThrow(message);
    await expect(store.update(id, (r) => approve(r, approver(1), SOON))).rejects.toThrow(message);
  });

  it("names the bucket when it does not exist", async () => {
    const store = createS3ApprovalStore({ client, bucket: "no-such-bucket", prefix: "p/" });
    const request = sampleRequest();
    await expect(store.create(request)).rejects.toThrow(
      `Approval request ${request.id} could not be marked pending (s3://no-such-bucket/p/approvals/pending/${request.id}): NoSuchBucket`,
    );
    await expect(store.get(request.id)).rejects.toThrow("could not be read (s3://no-such-bucket/");
  });
});
