import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { startS3TestClient } from "@victoria/emulators/s3-test-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createS3BulkJobStore } from "../adapters/aws/s3-bulk-job-store";
import { createFileBulkJobStore } from "../adapters/local/file-bulk-job-store";
import { newBulkJob } from "./bulk-job";
import type { BulkJobStore } from "./bulk-job-store";

// Both adapters through the one contract: files under a temp folder, and the real S3Client against
// the S3 stand-in, which enforces If-None-Match / If-Match as S3 does.

let s3: { client: S3Client; close: () => Promise<void> };
const bucket = "victoria-vault";
let dir: string;

beforeAll(async () => {
  s3 = await startS3TestClient({ buckets: [bucket] });
  dir = await mkdtemp(join(tmpdir(), "victoria-jobs-"));
});

afterAll(async () => {
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

const request = { action: "replay" as const, filter: { entity: "orders" }, requestedBy: "cli:alice" };

function contract(name: string, make: () => BulkJobStore) {
  describe(name, () => {
    it("creates once, reads back, lists newest first", async () => {
      const store = make();
      const older = newBulkJob(request, new Date("2030-01-01T00:00:00Z"));
      const newer = newBulkJob(request, new Date("2030-01-02T00:00:00Z"));
      await store.create(older);
      await store.create(newer);
      await expect(store.create(older)).rejects.toThrow("already exists");
      expect((await store.get(older.id))?.filter).toMatchObject({ entity: "orders", state: "parked" });
      expect((await store.recent(10)).map((j) => j.id)).toEqual([newer.id, older.id]);
      expect(await store.get("../../etc/passwd")).toBeUndefined();
    });

    it("serializes racing updates: none is lost, and a refusal writes nothing", async () => {
      const store = make();
      const job = await store.create(newBulkJob(request, new Date("2030-01-03T00:00:00Z")));
      await Promise.all(
        Array.from({ length: 8 }, () =>
          store.update(job.id, (current) => ({
            ...current,
            counts: { ...current.counts, done: current.counts.done + 1 },
          })),
        ),
      );
      const after = await store.get(job.id);
      expect(after?.counts.done).toBe(8);
      expect(after?.version).toBe(9);
      const refused = await store.update(job.id, () => undefined);
      expect(refused).toMatchObject({ ok: false, job: { version: 9 } });
      expect(await store.update("20300101-000000-00000000", (j) => j)).toEqual({ ok: false, job: undefined });
    });

    it("lets one of two runners claim a lease", async () => {
      const store = make();
      const job = await store.create(newBulkJob(request, new Date("2030-01-04T00:00:00Z")));
      const claim = (runner: string) =>
        store.update(job.id, (current) =>
          current.lease ? undefined : { ...current, lease: { runner, until: "2030-01-04T00:01:00Z" } },
        );
      const results = await Promise.all([claim("a"), claim("b")]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
    });
  });
}

contract("file bulk job store", () => createFileBulkJobStore(join(dir, randomUUID())));
contract("S3 bulk job store", () =>
  createS3BulkJobStore({ client: s3.client, bucket, prefix: randomUUID() }),
);
