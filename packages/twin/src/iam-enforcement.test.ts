import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { startLambdaStandIn } from "@victoria/emulators/lambda-invoke";
import { startS3StandIn } from "@victoria/emulators/s3";
import { startSecretsManagerStandIn } from "@victoria/emulators/secrets-manager";
import { describe, expect, it } from "vitest";
import { type AccessCheck, createIamAuthority } from "./iam-policy";

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

const credentials = (accessKeyId: string) => ({ accessKeyId, secretAccessKey: "secret" });

describe("an IAM authority behind the stand-ins", () => {
  it("enforces the Authenticate function's grants (infra/functions.ts) and records every check", async () => {
    const refusals: AccessCheck[] = [];
    const authority = createIamAuthority({
      onCheck: (check) => {
        if (!check.allowed) refusals.push(check);
      },
    });
    const s3 = await startS3StandIn({
      buckets: ["app-dev-dedupe", "app-dev-vault"],
      authorize: authority.authorize,
    });
    const secrets = await startSecretsManagerStandIn({ authorize: authority.authorize });
    const lambda = await startLambdaStandIn({ authorize: authority.authorize });
    const secretArn = secrets.putSecret("app/dev/config", "{}");
    lambda.register("app-dev-Worker", async () => null);
    authority.addPrincipal("AKIDAUTHENTICATE", {
      name: "Authenticate",
      grants: [
        { actions: ["secretsmanager:GetSecretValue"], resources: [secretArn] },
        {
          actions: ["lambda:InvokeFunction"],
          resources: ["arn:aws:lambda:us-east-1:000000000000:function:app-dev-Worker"],
        },
        {
          actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
          resources: ["arn:aws:s3:::app-dev-dedupe/*"],
        },
      ],
    });
    const s3Client = new S3Client({
      ...s3.clientConfig,
      credentials: credentials("AKIDAUTHENTICATE"),
      maxAttempts: 1,
    });
    const secretsClient = new SecretsManagerClient({
      ...secrets.clientConfig,
      credentials: credentials("AKIDAUTHENTICATE"),
      maxAttempts: 1,
    });
    const lambdaClient = new LambdaClient({
      ...lambda.clientConfig,
      credentials: credentials("AKIDAUTHENTICATE"),
      maxAttempts: 1,
    });
    try {
      await secretsClient.send(new GetSecretValueCommand({ SecretId: "app/dev/config" }));
      await lambdaClient.send(new InvokeCommand({ FunctionName: "app-dev-Worker", InvocationType: "Event" }));
      await s3Client.send(new PutObjectCommand({ Bucket: "app-dev-dedupe", Key: "dedupe/abc", Body: "1" }));
      await s3Client.send(new GetObjectCommand({ Bucket: "app-dev-dedupe", Key: "dedupe/abc" }));

      expect(
        await failure(
          s3Client.send(new GetObjectCommand({ Bucket: "app-dev-vault", Key: "records/1.json" })),
        ),
      ).toEqual({ name: "AccessDenied", status: 403 });
      // No s3:ListBucket on the dedupe bucket: a claim that is not there reads as AccessDenied, not NoSuchKey.
      expect(
        await failure(s3Client.send(new GetObjectCommand({ Bucket: "app-dev-dedupe", Key: "dedupe/none" }))),
      ).toEqual({ name: "AccessDenied", status: 403 });
      expect(
        await failure(lambdaClient.send(new InvokeCommand({ FunctionName: "app-dev-Execute" }))),
      ).toEqual({
        name: "AccessDeniedException",
        status: 403,
      });
      const stranger = new SecretsManagerClient({ ...secrets.clientConfig, maxAttempts: 1 });
      expect(await failure(stranger.send(new GetSecretValueCommand({ SecretId: "app/dev/config" })))).toEqual(
        {
          name: "UnrecognizedClientException",
          status: 400,
        },
      );
      stranger.destroy();

      expect(authority.checks.filter((c) => c.allowed).map((c) => c.action)).toEqual([
        "secretsmanager:GetSecretValue",
        "lambda:InvokeFunction",
        "s3:PutObject",
        "s3:GetObject",
        "s3:GetObject",
      ]);
      expect(refusals.map(({ principal, action, resource }) => [principal, action, resource])).toEqual([
        ["Authenticate", "s3:GetObject", "arn:aws:s3:::app-dev-vault/records/1.json"],
        ["Authenticate", "s3:ListBucket", "arn:aws:s3:::app-dev-dedupe"],
        [
          "Authenticate",
          "lambda:InvokeFunction",
          "arn:aws:lambda:us-east-1:000000000000:function:app-dev-Execute",
        ],
        [undefined, "secretsmanager:GetSecretValue", secretArn],
      ]);
    } finally {
      s3Client.destroy();
      secretsClient.destroy();
      lambdaClient.destroy();
      await Promise.all([s3.close(), secrets.close(), lambda.close()]);
    }
  });
});
