import {
  GetSecretValueCommand,
  ListSecretsCommand,
  SecretsManagerClient,
  type SecretsManagerServiceException,
} from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SecretsManagerStandIn, startSecretsManagerStandIn } from "./secrets-manager";

let standIn: SecretsManagerStandIn;
let client: SecretsManagerClient;

beforeAll(async () => {
  standIn = await startSecretsManagerStandIn({ region: "eu-west-2", secrets: { initial: "text" } });
  client = new SecretsManagerClient({ ...standIn.clientConfig, maxAttempts: 1 });
});

afterAll(async () => {
  client?.destroy();
  await standIn?.close();
});

async function awsError(promise: Promise<unknown>): Promise<SecretsManagerServiceException> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as SecretsManagerServiceException;
}

describe("Secrets Manager stand-in", () => {
  it("answers GetSecretValue by name, ARN and partial ARN with a new version per put", async () => {
    expect((await client.send(new GetSecretValueCommand({ SecretId: "initial" }))).SecretString).toBe("text");
    const arn = standIn.putSecret("app/config", { KEY: "value" });
    expect(arn).toMatch(
      /^arn:aws:secretsmanager:eu-west-2:000000000000:secret:app\/config-[A-Za-z0-9_-]{6}$/,
    );
    const byName = await client.send(new GetSecretValueCommand({ SecretId: "app/config" }));
    expect(byName).toMatchObject({ ARN: arn, Name: "app/config", SecretString: '{"KEY":"value"}' });
    expect(byName.CreatedDate).toBeInstanceOf(Date);
    expect(Math.abs((byName.CreatedDate?.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);
    expect((await client.send(new GetSecretValueCommand({ SecretId: arn }))).Name).toBe("app/config");
    expect((await client.send(new GetSecretValueCommand({ SecretId: arn.slice(0, -7) }))).Name).toBe(
      "app/config",
    );
    standIn.putSecret(arn, "second");
    const second = await client.send(new GetSecretValueCommand({ SecretId: "app/config" }));
    expect(second.SecretString).toBe("second");
    expect(second.VersionId).not.toBe(byName.VersionId);
  });

  it("sends a binary secret as SecretBinary", async () => {
    standIn.putSecret("app/binary", new Uint8Array([0, 1, 254]));
    const answer = await client.send(new GetSecretValueCommand({ SecretId: "app/binary" }));
    expect(answer.SecretString).toBeUndefined();
    expect([...(answer.SecretBinary ?? [])]).toEqual([0, 1, 254]);
  });

  it("answers an unknown secret with AWS's ResourceNotFoundException", async () => {
    const error = await awsError(client.send(new GetSecretValueCommand({ SecretId: "nope" })));
    expect(error.name).toBe("ResourceNotFoundException");
    expect(error.message).toBe("Secrets Manager can't find the specified secret.");
    expect(error.$metadata.httpStatusCode).toBe(400);
    const raw = await fetch(standIn.endpoint, {
      method: "POST",
      headers: {
        "x-amz-target": "secretsmanager.GetSecretValue",
        "content-type": "application/x-amz-json-1.1",
        authorization:
          "AWS4-HMAC-SHA256 Credential=STANDIN/20260101/eu-west-2/secretsmanager/aws4_request, SignedHeaders=host, Signature=" +
          "0".repeat(64),
      },
      body: JSON.stringify({ SecretId: "nope" }),
    });
    expect(raw.status).toBe(400);
    expect(raw.headers.get("x-amzn-errortype")).toBe("ResourceNotFoundException");
    expect(await raw.json()).toEqual({
      __type: "ResourceNotFoundException",
      message: "Secrets Manager can't find the specified secret.",
    });
  });

  it("injects the next failures", async () => {
    standIn.failNext(2, "DecryptionFailure");
    for (let i = 0; i < 2; i += 1) {
      const error = await awsError(client.send(new GetSecretValueCommand({ SecretId: "initial" })));
      expect(error.name).toBe("DecryptionFailure");
    }
    expect((await client.send(new GetSecretValueCommand({ SecretId: "initial" }))).SecretString).toBe("text");
    standIn.failNext(1, "InternalServiceError");
    const serverError = await awsError(client.send(new GetSecretValueCommand({ SecretId: "initial" })));
    expect(serverError.name).toBe("InternalServiceError");
    expect(serverError.$metadata.httpStatusCode).toBe(500);
  });

  it("refuses an unsigned request as AWS does, and the SDK surfaces the name", async () => {
    const unsigned = new SecretsManagerClient({ ...standIn.clientConfig, maxAttempts: 1 });
    // Removes what the SDK's signer added, to see what the SDK makes of AWS's answer to that.
    type Middleware = Parameters<typeof unsigned.middlewareStack.addRelativeTo>[0];
    const dropAuthorization = ((next: (args: { request: { headers: Record<string, string> } }) => unknown) =>
      (args: { request: { headers: Record<string, string> } }) => {
        delete args.request.headers.authorization;
        return next(args);
      }) as unknown as Middleware;
    unsigned.middlewareStack.addRelativeTo(dropAuthorization, {
      relation: "after",
      toMiddleware: "awsAuthMiddleware",
      name: "dropAuthorization",
    });
    try {
      const error = await awsError(unsigned.send(new GetSecretValueCommand({ SecretId: "initial" })));
      expect(error.name).toBe("MissingAuthenticationTokenException");
      expect(error.message).toBe("Missing Authentication Token");
      expect(error.$metadata.httpStatusCode).toBe(400);
    } finally {
      unsigned.destroy();
    }
  });

  it("refuses a signature scoped to another region", async () => {
    const elsewhere = new SecretsManagerClient({
      ...standIn.clientConfig,
      region: "us-east-1",
      maxAttempts: 1,
    });
    try {
      const error = await awsError(elsewhere.send(new GetSecretValueCommand({ SecretId: "initial" })));
      expect(error.name).toBe("InvalidSignatureException");
    } finally {
      elsewhere.destroy();
    }
  });

  it("answers operations it does not implement with 501", async () => {
    const error = await awsError(client.send(new ListSecretsCommand({})));
    expect(error.$metadata.httpStatusCode).toBe(501);
  });

  it("records every request", () => {
    expect(standIn.requests.length).toBeGreaterThan(10);
    expect(standIn.requests).toContainEqual({
      method: "POST",
      target: "secretsmanager.GetSecretValue",
      secretId: "nope",
      status: 400,
      errorType: "ResourceNotFoundException",
    });
  });
});
