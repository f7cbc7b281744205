import { fileURLToPath } from "node:url";
import { DeleteObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createS3DedupeStore } from "@victoria/core/adapters/aws/s3-dedupe-store";
import { startS3StandIn } from "@victoria/emulators/s3";
import { describe, expect, it } from "vitest";
import { evaluateDeployment, resolveValue, type TwinRef } from "./deployment-model";
import { createIamAuthority } from "./iam-policy";

const CONFIG = fileURLToPath(new URL("../../../sst.config.ts", import.meta.url));
const BUCKET = "serverless-victoria-dev-dedupe";

/**
 * On S3 a GET of a missing key is 404 NoSuchKey only to a caller allowed s3:ListBucket; anyone
 * else gets 403 AccessDenied. A claim that loses a race against a release reads a key that has just
 * gone, so the grants sst.config.ts gives the claimer decide whether that reads as "free" or fails.
 */
describe("a dedupe claim racing a release, with the grants sst.config.ts declares", () => {
  it("reads the vanished claim as free and takes it", async () => {
    const model = await evaluateDeployment({ stage: "dev", configFile: CONFIG });
    const claimer = model.functions.find((fn) => fn.id === "Authenticate");
    if (!claimer) throw new Error("sst.config.ts declares no Authenticate function");
    const resolveRef = ({ component, property }: TwinRef) => {
      if (component === "Dedupe" && property === "arn") return `arn:aws:s3:::${BUCKET}`;
      return `arn:aws:unmodelled:::${component}.${property}`;
    };
    const authority = createIamAuthority();
    authority.addPrincipal("AKIDAUTHENTICATE", {
      name: claimer.id,
      grants: claimer.permissions.map((grant) => ({
        actions: grant.actions,
        resources: grant.resources.map((resource) => resolveValue(resource, resolveRef)),
      })),
    });
    authority.addPrincipal("AKIDOTHER", { name: "Other", grants: [{ actions: ["s3:*"], resources: ["*"] }] });
    const s3 = await startS3StandIn({ buckets: [BUCKET], authorize: authority.authorize });
    const credentials = (accessKeyId: string) => ({ accessKeyId, secretAccessKey: "secret" });
    const other = new S3Client({ ...s3.clientConfig, credentials: credentials("AKIDOTHER") });
    const client = new S3Client({ ...s3.clientConfig, credentials: credentials("AKIDAUTHENTICATE") });
    // The other holder releases its claim right after our create-only put found it there.
    let released = false;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        try {
          return await next(args);
        } catch (error) {
          if (context.commandName === "PutObjectCommand" && !released) {
            released = true;
            const key = (args.input as { Key: string }).Key;
            await other.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
          }
          throw error;
        }
      },
      { step: "initialize", name: "releaseAfterConflict" },
    );
    const store = createS3DedupeStore({ client, bucket: BUCKET });
    try {
      const held = createS3DedupeStore({ client: other, bucket: BUCKET });
      expect(await held.claim("Ev01", 60_000)).toBe(true);
      expect(await store.claim("Ev01", 60_000)).toBe(true);
      expect(released).toBe(true);
      // And with the claim really there, the claimer is told it is taken (not an error).
      expect(await store.claim("Ev01", 60_000)).toBe(false);
    } finally {
      client.destroy();
      other.destroy();
      await s3.close();
    }
  });
});
