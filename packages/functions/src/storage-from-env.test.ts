import { type S3StandIn, startS3StandIn } from "@victoria/emulators/s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuditLog, createDedupeStore, createVault } from "./storage-from-env";

// The S3 adapters load on first use; these prove that path over the wire, with the client
// configured from the environment exactly as on Lambda (region, keys, endpoint).
let s3: S3StandIn;
const saved = { ...process.env };

beforeAll(async () => {
  s3 = await startS3StandIn({ region: "eu-west-2", buckets: ["dedupe", "audit", "vault"] });
  Object.assign(process.env, {
    AWS_REGION: "eu-west-2",
    AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
    AWS_SECRET_ACCESS_KEY: "stand-in-secret",
    AWS_ENDPOINT_URL_S3: s3.endpoint,
  });
});

afterAll(async () => {
  process.env = saved;
  await s3?.close();
});

describe("storage from the environment, S3 buckets", () => {
  it("claims deliveries in DEDUPE_BUCKET: the first claim wins, a repeat does not", async () => {
    const dedupe = createDedupeStore({ DEDUPE_BUCKET: "dedupe" });
    expect(s3.requests).toHaveLength(0);
    expect(await dedupe.claim("trigger-1", 60_000)).toBe(true);
    expect(await dedupe.claim("trigger-1", 60_000)).toBe(false);
    expect(s3.keys("dedupe")).toHaveLength(1);
    await dedupe.release("trigger-1");
    expect(s3.keys("dedupe")).toHaveLength(0);
  });

  it("writes audit records to AUDIT_BUCKET", async () => {
    const audit = createAuditLog({ AUDIT_BUCKET: "audit" }, "unused.jsonl");
    await audit.write({
      phase: "requested",
      requestId: "req-1",
      time: "2026-11-23T05:00:00.000Z",
      source: "slash_command",
      user: { id: "U0MEMBER" },
      command: "config view",
    });
    expect(s3.keys("audit")).toHaveLength(1);
  });

  it("reads the vault in VAULT_BUCKET", async () => {
    const vault = createVault({ VAULT_BUCKET: "vault" });
    expect(await vault.get("missing")).toBeUndefined();
    expect(await vault.list()).toEqual([]);
    expect(s3.requests.some((r) => r.path.startsWith("/vault"))).toBe(true);
  });
});
