import { fileURLToPath } from "node:url";
import { DeleteObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createS3ApprovalStore } from "@victoria/core/adapters/aws/s3-approval-store";
import { approve, newApprovalRequest } from "@victoria/core/approvals/approval";
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
 * The worker keeps the approval requests in the vault bucket, each pending one with a marker it
 * removes once the request is decided: the grants sst.config.ts declares must allow exactly that,
 * and no other delete in the vault.
 */
describe("approval requests in the vault, with the worker's grants from sst.config.ts", () => {
  it("creates, lists and decides a request, removing its marker; deletes nothing else", async () => {
    const model = await evaluateDeployment({ stage: "dev", configFile: CONFIG });
    const worker = model.functions.find((fn) => fn.id === "Worker");
    if (!worker) throw new Error("sst.config.ts declares no Worker function");
    const resolveRef = ({ component, property }: TwinRef) => {
      if (component === "Vault" && property === "arn") return `arn:aws:s3:::${VAULT}`;
      return `arn:aws:unmodelled:::${component}.${property}`;
    };
    const authority = createIamAuthority();
    authority.addPrincipal("AKIDWORKER", {
      name: worker.id,
      grants: worker.permissions.map((grant) => ({
        actions: grant.actions,
        resources: grant.resources.map((resource) => resolveValue(resource, resolveRef)),
      })),
    });
    const s3 = await startS3StandIn({ buckets: [VAULT], authorize: authority.authorize });
    const client = new S3Client({
      ...s3.clientConfig,
      credentials: { accessKeyId: "AKIDWORKER", secretAccessKey: "secret" },
      maxAttempts: 1,
    });
    // The worker's store: the vault bucket, no prefix (packages/functions/src/storage-from-env.ts).
    const store = createS3ApprovalStore({ client, bucket: VAULT });
    try {
      const now = new Date();
      const request = await store.create(
        newApprovalRequest(
          {
            command: ["deadletter", "delete", "orders", "--all"],
            requester: { slackId: "UREQ", email: "req@example.com" },
            channelId: "C0OPS",
            ruleIndex: 0,
            ruleLabel: "deadletter delete",
            approvers: ["leads"],
            count: 1,
            expiresInMs: 60_000,
          },
          now,
        ),
      );
      // Both sorted: the id is random, so either key may come first.
      expect(s3.keys(VAULT).sort()).toEqual(
        [`approvals/${request.id}.json`, `approvals/pending/${request.id}`].sort(),
      );
      expect((await store.pending()).map((r) => r.id)).toEqual([request.id]);
      const decided = await store.update(request.id, (r) =>
        approve(r, { slackId: "ULEAD", email: "lead@example.com" }, now),
      );
      expect(decided).toMatchObject({ ok: true, event: "approved" });
      // The marker went: the store swallows a failed removal, so this is the grant at work.
      expect(s3.keys(VAULT)).toEqual([`approvals/${request.id}.json`]);
      expect(await store.pending()).toEqual([]);
      expect(authority.checks.filter((c) => !c.allowed)).toEqual([]);

      const remove = (key: string) =>
        outcome(client.send(new DeleteObjectCommand({ Bucket: VAULT, Key: key })));
      await client.send(new PutObjectCommand({ Bucket: VAULT, Key: "records/1.json", Body: "{}" }));
      expect(await remove("approvals/pending/x")).toBe("ok");
      expect(await remove(`approvals/${request.id}.json`)).toBe("AccessDenied");
      expect(await remove("records/1.json")).toBe("AccessDenied");
      expect(await remove("approvals/pending")).toBe("AccessDenied");
      expect(s3.keys(VAULT).sort()).toEqual([`approvals/${request.id}.json`, "records/1.json"]);
      expect(
        authority.checks
          .filter((c) => c.action === "s3:DeleteObject")
          .map((c) => `${c.allowed ? "allowed" : "refused"} ${c.resource}`),
      ).toEqual([
        `allowed arn:aws:s3:::${VAULT}/approvals/pending/${request.id}`,
        `allowed arn:aws:s3:::${VAULT}/approvals/pending/x`,
        `refused arn:aws:s3:::${VAULT}/approvals/${request.id}.json`,
        `refused arn:aws:s3:::${VAULT}/records/1.json`,
        `refused arn:aws:s3:::${VAULT}/approvals/pending`,
      ]);
    } finally {
      client.destroy();
      await s3.close();
    }
  });
});
