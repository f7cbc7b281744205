import { fileURLToPath } from "node:url";
import { DeleteObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createS3Vault } from "@victoria/core/adapters/aws/s3-vault";
import { sampleRecord } from "@victoria/core/deadletter/vault-contract";
import { startS3StandIn } from "@victoria/emulators/s3";
import { describe, expect, it } from "vitest";
import { evaluateDeployment, resolveValue, type TwinRef } from "./deployment-model";
import { createIamAuthority } from "./iam-policy";

const CONFIG = fileURLToPath(new URL("../../../sst.config.ts", import.meta.url));
const VAULT = "serverless-victoria-dev-vault";

/** What S3 answered a call with: "ok", or the error's name. */
async function outcome(call: Promise<unknown>): Promise<string> {
  return call.then(
    () => "ok",
    (error: Error) => error.name,
  );
}

/**
 * The functions that park, change and search dead letters keep the vault's search index
 * (`index/`, packages/core/src/deadletter/vault-index.ts): the grants sst.config.ts declares must
 * let them build it, write its change markers and compact it (which deletes below `index/`), and
 * delete nothing else in the vault.
 */
describe("the vault's search index, with each function's grants from sst.config.ts", () => {
  it.each(["Worker", "Execute"])(
    "%s parks, transitions, searches and compacts; deletes only below index/",
    async (name) => {
      const model = await evaluateDeployment({ stage: "dev", configFile: CONFIG });
      const fn = model.functions.find((f) => f.id === name);
      if (!fn) throw new Error(`sst.config.ts declares no ${name} function`);
      const resolveRef = ({ component, property }: TwinRef) => {
        if (component === "Vault" && property === "arn") return `arn:aws:s3:::${VAULT}`;
        return `arn:aws:unmodelled:::${component}.${property}`;
      };
      const authority = createIamAuthority();
      authority.addPrincipal("AKIDFUNCTION", {
        name: fn.id,
        grants: fn.permissions.map((grant) => ({
          actions: grant.actions,
          resources: grant.resources.map((resource) => resolveValue(resource, resolveRef)),
        })),
      });
      const s3 = await startS3StandIn({ buckets: [VAULT], authorize: authority.authorize });
      const client = new S3Client({
        ...s3.clientConfig,
        credentials: { accessKeyId: "AKIDFUNCTION", secretAccessKey: "secret" },
        maxAttempts: 1,
      });
      try {
        // As deployed (storage-from-env.ts: the vault bucket, no prefix), compacting at every search.
        const vault = createS3Vault({ client, bucket: VAULT, index: { compactAfter: 0 } });
        // A record from before the index: the first search builds the index from the records.
        const old = { ...sampleRecord(1), state: "parked" as const, version: 1 };
        await client.send(
          new PutObjectCommand({ Bucket: VAULT, Key: `records/${old.id}.json`, Body: JSON.stringify(old) }),
        );
        expect((await vault.search({}, { limit: 5 })).records).toEqual([old]);
        const { record } = await vault.park(sampleRecord(2));
        await vault.markNotified(record.id, {
          channel: "C1",
          ts: "1.2",
          id: "N1",
          at: "2025-01-02T04:00:00.000Z",
        });
        await vault.transition(record.id, "parked", "replayed", {
          by: "alice",
          at: "2025-01-02T05:00:00.000Z",
        });
        expect((await vault.search({ state: "replayed" }, { limit: 5 })).records.map((r) => r.id)).toEqual([
          record.id,
        ]);
        expect((await vault.list({ state: "parked" })).map((r) => r.id)).toEqual([old.id]);
        // Compacted: the markers and the replaced segments are gone, which took the index's delete.
        const index = s3.keys(VAULT).filter((k) => k.startsWith("index/"));
        expect(index.filter((k) => k.startsWith("index/changes/"))).toEqual([]);
        expect(index.filter((k) => k.startsWith("index/segments/")).length).toBeGreaterThan(0);
        expect(authority.checks.filter((c) => !c.allowed)).toEqual([]);
        expect(
          authority.checks.some((c) => c.action === "s3:DeleteObject" && c.resource.includes("/index/")),
        ).toBe(true);

        const remove = (key: string) =>
          outcome(client.send(new DeleteObjectCommand({ Bucket: VAULT, Key: key })));
        expect(await remove(`records/${old.id}.json`)).toBe("AccessDenied");
        expect(await remove("index")).toBe("AccessDenied");
        expect(await remove("index/anything")).toBe("ok");
      } finally {
        client.destroy();
        await s3.close();
      }
    },
  );
});
